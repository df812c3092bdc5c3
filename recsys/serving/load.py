"""Loading a served Recommender (numpy only; no TensorFlow on this path)."""

from __future__ import annotations

import os

from recsys.model.bundle import current_bundle
from recsys.serving.recommender import Recommender
from recsys.settings import resolve_artifacts_dir


def load_recommender(
    artifacts: str | os.PathLike | None = None, model: str | None = None
) -> Recommender:
    """The served bundle of ``model`` ("hybrid" or "lab"; None: the default, named by
    CURRENT) in ``--artifacts``/RECSYS_ARTIFACTS/``artifacts/``."""
    return Recommender.load(current_bundle(resolve_artifacts_dir(artifacts), model))
