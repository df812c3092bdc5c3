"""Fixtures of the evaluation tests: a small synthetic dataset and one holdout run on it."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.dataset.movielens import MovieLens, load_movielens
from recsys.evaluation import run_evaluation


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> MovieLens:
    """80 users, 150 movies, 6,000 ratings with planted tastes."""
    from recsys.dataset.synth import write_synthetic

    folder = tmp_path_factory.mktemp("synthetic")
    write_synthetic(folder, n_users=80, n_movies=150, n_ratings=6000, rng=7)
    return load_movielens(folder)


@pytest.fixture(scope="session")
def holdout_result(synthetic) -> dict:
    """One holdout run (lab preset, 3 epochs), with ``_progress``: every (done, total) heard."""
    before = synthetic.ratings.copy()
    heard: list[tuple[float, float]] = []
    result = run_evaluation(
        synthetic,
        protocol="holdout",
        preset="lab",
        epochs=3,
        progress=lambda done, total, _text="": heard.append((done, total)),
    )
    pd.testing.assert_frame_equal(synthetic.ratings, before)  # the shared frame is untouched
    result["_progress"] = heard
    return result
