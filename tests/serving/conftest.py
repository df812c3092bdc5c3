"""A small bundle trained once for the serving tests, and its Recommender."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.serving.recommender import Recommender
from tests.helpers import train_small_bundle


@pytest.fixture(scope="package")
def lab_artifacts(real_data, tmp_path_factory) -> Path:
    """An artifacts folder with a lab-preset bundle (2 quick epochs on ml-latest-small)."""
    artifacts_dir = tmp_path_factory.mktemp("artifacts")
    train_small_bundle(real_data, artifacts_dir, epochs=2)
    return artifacts_dir


@pytest.fixture(scope="package")
def recommender(lab_artifacts) -> Recommender:
    """The Recommender of ``lab_artifacts`` (shared: it is never mutated)."""
    return Recommender.load(lab_artifacts)


@pytest.fixture(scope="package")
def hybrid_recommender(real_data, tmp_path_factory) -> Recommender:
    """A hybrid bundle on ml-latest-small (8 quick epochs), the whole catalogue."""
    from recsys.config import hybrid_config
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.tags import load_tags
    from recsys.model.hybrid_train import train_hybrid_bundle

    artifacts_dir = tmp_path_factory.mktemp("hybrid_artifacts")
    dataset = load_movielens(real_data)
    train_hybrid_bundle(dataset, load_tags(real_data), hybrid_config(epochs=8), artifacts_dir)
    return Recommender.load(artifacts_dir)
