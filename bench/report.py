"""The human-readable table printed by ``python -m bench`` (without ``--json``)."""

from __future__ import annotations

# (section, key, label): the rows of the table, in order.
ROWS = (
    ("train", "lab_s", "lab recipe, wall s"),
    ("train", "fast_s", "fast recipe, wall s"),
    ("train", "speedup", "speedup (lab / fast)"),
    ("train", "lab_test_mse", "lab test MSE (scaled)"),
    ("train", "fast_test_mse", "fast test MSE (scaled)"),
    ("new_user", "lab_median_ms", "lab path, median ms"),
    ("new_user", "median_ms", "ours, median ms"),
    ("new_user", "p99_ms", "ours, p99 ms"),
    ("new_user", "speedup", "speedup (median)"),
    ("nearest", "lab_s", "lab double loop, s"),
    ("nearest", "ours_s", "ours, s"),
    ("nearest", "speedup", "speedup"),
    ("limit", "floor_s_per_epoch_shaped", "floor s/epoch (shaped matmuls)"),
    ("limit", "fast_s_per_epoch", "fast recipe s/epoch"),
    ("limit", "fast_over_floor_shaped", "fast / floor"),
    ("app", "healthy_s", "healthy server, s"),
    ("app", "first_page_s", "first page rendered, s"),
    ("app", "rss_mb", "server RSS, MB"),
    ("app", "tensorflow_imported", "TensorFlow imported"),
    ("app", "slider_ms", "slider change, ms"),
    ("app", "page_switch_ms", "page switch, ms"),
    ("load", "sessions", "sessions"),
    ("load", "failed", "failed sessions"),
    ("load", "p50_ms", "rerun p50, ms"),
    ("load", "p95_ms", "rerun p95, ms"),
    ("load", "rss_growth_mb", "server RSS growth, MB"),
    ("scale", "ratings", "ratings"),
    ("scale", "build_s", "load + features, s"),
    ("scale", "peak_rss_mb", "peak RSS, MB"),
    ("scale", "embed_s", "item embeddings, s"),
    ("scale", "new_user_ms", "new user top 10, ms"),
    ("scale", "similar_ms", "similar movies, ms"),
    ("scale", "train_rows_per_s_1", "training rows/s, one process"),
    ("scale", "train_rows_per_s_1_strategy", "training rows/s, 1 worker (MWMS)"),
    ("scale", "train_rows_per_s_2", "training rows/s, 2 workers"),
    ("scale", "allreduce_overhead", "all-reduce overhead, ms a step"),
    ("scale", "train_peak_rss_mb_per_worker", "peak RSS a worker, MB"),
    ("scale", "hybrid_train_rows_per_s_1", "hybrid rows/s, one process"),
    ("scale", "hybrid_train_rows_per_s_2", "hybrid rows/s, 2 workers"),
    ("scale", "hybrid_allreduce_overhead", "hybrid all-reduce overhead, ms"),
    ("scale", "ml32m_build_s", "ml-32m load + features, s"),
    ("scale", "ml32m_peak_rss_mb", "ml-32m peak RSS, MB"),
    ("scale", "bruteforce_1m_ms", "brute-force top 10 of 1M, ms"),
)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(results: dict) -> str:
    """One line per figure; then notes (skips, errors) and the goals."""
    lines = [f"{'section':<9} {'figure':<32} value"]
    if results.get("mode") == "quick":
        lines.insert(0, "--quick: every part shrunk; the figures show the bench works, not speed")
    for section, key, label in ROWS:
        if section in results:
            lines.append(f"{section:<9} {label:<32} {_cell(results[section].get(key))}")
    for section, values in results.items():
        if isinstance(values, dict):
            for note in ("skipped", "error", "browser_skipped"):
                if values.get(note):
                    lines.append(f"{section:<9} {note}: {values[note]}")
    for goal in results.get("goals", {}).values():
        verdict = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        lines.append(f"goal      {goal['goal']:<32} {verdict}")
    return "\n".join(lines)
