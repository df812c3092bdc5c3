"""Section ``scale``: synthetic MovieLens-format data at ml-25m size.

The data is written by ``python -m recsys.dataset.synth`` into a temporary folder (not timed,
deleted afterwards), then measured by ``bench.scale_worker`` in a fresh process so that
its peak resident memory is that of loading, building and serving alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import log, rounded, subprocess_env
from bench.plan import Plan
from recsys.settings import PROJECT_ROOT

SEED = 0


def _run(command: list[str]) -> str:
    """Run a Python module; its stdout (one JSON object). Its stderr passes through."""
    done = subprocess.run(
        [sys.executable, *command], cwd=PROJECT_ROOT, env=subprocess_env(),
        stdout=subprocess.PIPE, text=True, timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} exited with {done.returncode}")
    return done.stdout


def write_data(folder: Path, plan: Plan) -> float:
    """Seconds taken to write the synthetic dataset into ``folder``."""
    start = time.perf_counter()
    _run([
        "-m", "recsys.dataset.synth", str(folder), "--users", str(plan.scale_users),
        "--movies", str(plan.scale_movies), "--ratings", str(plan.scale_ratings),
        "--seed", str(SEED), "--json",
    ])  # fmt: skip
    return time.perf_counter() - start


def run_scale(plan: Plan, work: Path, existing: Path | None = None) -> dict:
    """Measure on ``existing`` (a MovieLens folder) or on freshly written synthetic data."""
    folder = existing or work / "synthetic-scale"
    generate_s = None
    try:
        if existing is None:
            log(f"scale: writing {plan.scale_ratings:,} synthetic ratings (not timed)")
            generate_s = write_data(folder, plan)
        log("scale: load, features and queries in a fresh process")
        measured = json.loads(
            _run(["-m", "bench.scale_worker", str(folder), "--queries", str(plan.scale_queries)])
        )
    finally:
        if existing is None:
            shutil.rmtree(folder, ignore_errors=True)
    return _summary(measured, generate_s, synthetic=existing is None)


def _summary(measured: dict, generate_s: float | None, synthetic: bool) -> dict:
    return {
        "ratings": measured["ratings"],
        "build_s": rounded(measured["build_s"], 2),
        "peak_rss_mb": rounded(measured["peak_rss_mb"], 1),
        "embed_s": rounded(measured["embed_s"], 4),
        "new_user_ms": rounded(measured["new_user_ms"], 3),
        "similar_ms": rounded(measured["similar_ms"], 3),
        "users": measured["users"],
        "movies": measured["movies"],
        "training_rows": measured["training_rows"],
        "load_s": rounded(measured["load_s"], 2),
        "features_s": rounded(measured["build_s"] - measured["load_s"], 2),
        "peak_rss_total_mb": rounded(measured["peak_rss_total_mb"], 1),
        "rss_start_mb": rounded(measured["rss_start_mb"], 1),
        "recommender_build_s": rounded(measured["recommender_build_s"], 2),
        "new_user_p99_ms": rounded(measured["new_user_p99_ms"], 3),
        "similar_p99_ms": rounded(measured["similar_p99_ms"], 3),
        "one_thread_new_user_ms": rounded(measured["one_thread_new_user_ms"], 3),
        "one_thread_similar_ms": rounded(measured["one_thread_similar_ms"], 3),
        "one_thread_new_user_p99_ms": rounded(measured["one_thread_new_user_p99_ms"], 3),
        "one_thread_similar_p99_ms": rounded(measured["one_thread_similar_p99_ms"], 3),
        "hybrid_new_user_ms": rounded(measured["hybrid_new_user_ms"], 3),
        "hybrid_similar_ms": rounded(measured["hybrid_similar_ms"], 3),
        "hybrid_new_user_p99_ms": rounded(measured["hybrid_new_user_p99_ms"], 3),
        "hybrid_similar_p99_ms": rounded(measured["hybrid_similar_p99_ms"], 3),
        "queries": measured["queries"],
        "synthetic": synthetic,
        "generate_s": rounded(generate_s, 1),
        "preset": "full",
    }
