"""Fixtures of the evaluation tests: one holdout run on the small synthetic dataset."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.evaluation import run_evaluation


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
