"""A small bundle trained once for the serving tests, and its Recommender."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.serving.recommender import Recommender
from tests.e2e.app_data import real_hybrid_bundle
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
def hybrid_recommender(real_data) -> Recommender:
    """A hybrid bundle on ml-latest-small (8 quick epochs), the whole catalogue; the
    dashboard tests serve the same one (trained once per process)."""
    return Recommender.load(real_hybrid_bundle(real_data))
