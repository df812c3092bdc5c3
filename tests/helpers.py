"""Shared test helpers (importable as ``tests.helpers``)."""

from __future__ import annotations

from pathlib import Path

from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.model.train import TrainReport, train_bundle


def train_small_bundle(
    data_path: str | Path, artifacts_dir: Path, *, epochs: int = 3, preset: str = "lab"
) -> TrainReport:
    """Train a quick bundle (the fast recipe, few epochs) into ``artifacts_dir``."""
    dataset = load_movielens(data_path)
    config = recipe_config("fast", epochs=epochs, preset=preset)
    return train_bundle(dataset, config, artifacts_dir)
