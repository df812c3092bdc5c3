"""Section ``hybrid``: training the hybrid model over the whole catalogue, and a new
user's top 10 with five picked movies against the lab's ``model.predict`` path."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np

from bench import lab
from bench.common import log, percentile, ratio, rounded, time_calls
from bench.plan import Plan
from bench.serving import WARMUP_CALLS, genre_profiles, interleaved
from recsys.columns import ITEM_VECTOR_COLUMNS, MOVIE_ID
from recsys.serving.scoring import lab_user_vector

PICKS = 5


def _pick_sets(movie_ids: np.ndarray, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` sets of 5 picked movies with random half-star ratings."""
    return [
        {int(m): float(rng.integers(1, 11) / 2) for m in rng.choice(movie_ids, PICKS, False)}
        for _ in range(n)
    ]


def run_hybrid(dataset, lab_rec, lab_model, work: Path, plan: Plan) -> dict:
    """Train the hybrid bundle (timed), then time new users with genres and 5 picks.

    The lab's path is the notebook's: tile the user vector, scale, ``model.predict`` on
    every (user, movie) pair of its bundle, argsort.
    """
    from recsys.config import hybrid_config
    from recsys.model.hybrid.train import train_hybrid_bundle
    from recsys.serving.recommender import Recommender

    config = hybrid_config(epochs=plan.hybrid_epochs)
    log(f"hybrid: training over the whole catalogue ({config.epochs} epochs)")
    start = time.perf_counter()
    report = train_hybrid_bundle(dataset, config, work / "hybrid_artifacts")
    train_s = time.perf_counter() - start
    rec = Recommender.load(report.bundle)
    rng = np.random.default_rng(0)
    calls = max(plan.new_user_calls, plan.lab_new_user_calls)
    profiles = genre_profiles(calls, rng)
    picks = _pick_sets(rec.items[MOVIE_ID].to_numpy(), calls, rng)
    item_vecs = lab_rec.items[list(ITEM_VECTOR_COLUMNS)].to_numpy(dtype="float64")

    def lab_call(i: int) -> None:
        user_vec = lab_user_vector(profiles[i])
        lab.new_user_top(lab_model, lab_rec.scoring.scalers, item_vecs, user_vec)

    def our_call(i: int) -> None:
        rec.for_new_user(profiles[i], picks[i], top=10)

    time_calls(lab_call, WARMUP_CALLS)
    time_calls(our_call, WARMUP_CALLS)
    lab_times, ours = interleaved(
        lab_call,
        our_call,
        {"default": contextlib.nullcontext},
        plan.lab_new_user_calls,
        plan.new_user_calls,
    )
    lab_ms, our_ms = percentile(lab_times, 50), percentile(ours["default"], 50)
    return {
        "train_s": rounded(train_s, 2),
        "fit_s": rounded(report.fit_seconds, 2),
        "train_rows_per_s": rounded(report.train_rows * config.epochs / report.fit_seconds, 0),
        "epochs": config.epochs,
        "items": int(len(rec.items)),
        "new_user_picks_median_ms": rounded(our_ms, 4),
        "new_user_picks_p99_ms": rounded(percentile(ours["default"], 99), 4),
        "lab_median_ms": rounded(lab_ms, 3),
        "speedup": rounded(ratio(lab_ms, our_ms), 1),
    }
