"""Loading the current Recommender (numpy only; no TensorFlow on this path)."""

from __future__ import annotations

import os

from recsys.artifacts import resolve_artifacts_dir
from recsys.recommender import Recommender


def load_recommender(artifacts: str | os.PathLike | None = None) -> Recommender:
    """The bundle named by CURRENT in ``--artifacts``/RECSYS_ARTIFACTS/``artifacts/``."""
    return Recommender.load(resolve_artifacts_dir(artifacts))
