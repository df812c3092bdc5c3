"""Loading the current Recommender (numpy only; no TensorFlow on this path)."""

from __future__ import annotations

import os

from recsys.serving.recommender import Recommender
from recsys.settings import resolve_artifacts_dir


def load_recommender(artifacts: str | os.PathLike | None = None) -> Recommender:
    """The bundle named by CURRENT in ``--artifacts``/RECSYS_ARTIFACTS/``artifacts/``."""
    return Recommender.load(resolve_artifacts_dir(artifacts))
