"""The issue's goals, checked against one run's results (None: not measured)."""

from __future__ import annotations

from collections.abc import Callable

GB = 1e9
MB = 2**20

# (name, section, what the goal says, test on the section's results)
GOALS: tuple[tuple[str, str, str, Callable[[dict], bool | None]], ...] = (
    ("train_speedup", "train", "fast recipe >= 10x faster", lambda r: _at_least(r["speedup"], 10)),
    (
        "train_mse",
        "train",
        "fast test MSE <= lab's",
        lambda r: _both(r["fast_test_mse"], r["lab_test_mse"], lambda f, b: f <= b),
    ),
    (
        "new_user_speedup",
        "new_user",
        ">= 100x the lab's path",
        lambda r: _at_least(r["speedup"], 100),
    ),
    ("hybrid_train", "hybrid", "hybrid training < 60 s", lambda r: _below(r["train_s"], 60)),
    (
        "hybrid_new_user",
        "hybrid",
        "new user with 5 picks < 1 ms",
        lambda r: _below(r["new_user_picks_median_ms"], 1),
    ),
    (
        "hybrid_speedup",
        "hybrid",
        ">= 100x the lab's path",
        lambda r: _at_least(r["speedup"], 100),
    ),
    (
        "nearest_speedup",
        "nearest",
        ">= 1000x the lab's loop",
        lambda r: _at_least(r["speedup"], 1000),
    ),
    ("app_first_page", "app", "first page < 2 s", lambda r: _below(r["first_page_s"], 2)),
    ("app_memory", "app", "server < 400 MB", lambda r: _below(r["rss_mb"], 400)),
    (
        "app_no_tensorflow",
        "app",
        "no TensorFlow in the server",
        lambda r: None if r["tensorflow_imported"] is None else not r["tensorflow_imported"],
    ),
    (
        "load_no_failures",
        "load",
        "zero failed sessions",
        lambda r: None if r["failed"] is None else r["failed"] == 0,
    ),
    ("scale_build", "scale", "load + features < 60 s", lambda r: _below(r["build_s"], 60)),
    (
        "scale_memory",
        "scale",
        "peak < 8 GB",
        lambda r: None if r["peak_rss_mb"] is None else r["peak_rss_mb"] * MB < 8 * GB,
    ),
    (
        "ml32m_memory",
        "scale",
        "ml-32m load + features peak < 8 GB",
        lambda r: None if r["ml32m_peak_rss_mb"] is None else r["ml32m_peak_rss_mb"] * MB < 8 * GB,
    ),
    ("scale_new_user", "scale", "new user < 5 ms", lambda r: _below(r["new_user_ms"], 5)),
    ("scale_similar", "scale", "similar < 5 ms", lambda r: _below(r["similar_ms"], 5)),
    (
        "scale_hybrid_new_user",
        "scale",
        "hybrid new user (5 picks) < 5 ms",
        lambda r: _below(r.get("hybrid_new_user_ms"), 5),
    ),
    (
        "scale_hybrid_similar",
        "scale",
        "hybrid similar < 5 ms",
        lambda r: _below(r.get("hybrid_similar_ms"), 5),
    ),
)


def _at_least(value, bound) -> bool | None:
    return None if value is None else value >= bound


def _below(value, bound) -> bool | None:
    return None if value is None else value < bound


def _both(a, b, test) -> bool | None:
    return None if a is None or b is None else test(a, b)


def check_goals(results: dict) -> dict[str, dict]:
    """{goal: {"goal": text, "met": True/False/None}} for the sections that ran."""
    checked = {}
    for name, section, text, test in GOALS:
        if section in results:
            checked[name] = {"goal": text, "met": test(results[section])}
    return checked
