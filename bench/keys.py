"""The keys each section must report (the issue's list; sections may add more)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "train": ("lab_s", "fast_s", "lab_test_mse", "fast_test_mse", "speedup"),
    "new_user": ("lab_median_ms", "median_ms", "p99_ms", "speedup"),
    "nearest": ("lab_s", "ours_s", "speedup"),
    "hybrid": (
        "train_s",
        "train_rows_per_s",
        "new_user_picks_median_ms",
        "lab_median_ms",
        "speedup",
    ),
    "app": (
        "healthy_s",
        "first_page_s",
        "rss_mb",
        "tensorflow_imported",
        "slider_ms",
        "page_switch_ms",
    ),
    "scale": (
        "ratings",
        "build_s",
        "peak_rss_mb",
        "embed_s",
        "new_user_ms",
        "similar_ms",
        "train_rows_per_s_1",
        "train_rows_per_s_2",
        "allreduce_overhead",
        "train_peak_rss_mb_per_worker",
        "ml32m_build_s",
        "ml32m_peak_rss_mb",
        "bruteforce_1m_ms",
    ),
    "load": ("sessions", "failed", "p50_ms", "p95_ms", "rss_growth_mb"),
    "limit": ("gflop_per_epoch", "peak_gflops", "floor_s_per_epoch_shaped"),
}


def blank(section: str, **reason: str) -> dict:
    """Every required key of ``section`` set to None, plus a reason (skipped=..., error=...)."""
    return dict.fromkeys(REQUIRED[section]) | reason
