"""Shared fixtures: the real dataset, a small synthetic one, and hand-written folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from recsys.dataset.movielens import MovieLens, dataset_present, load_movielens
from recsys.dataset.synth import SyntheticInfo, write_synthetic

# ------------------------------------------------------------------ datasets

SYNTH_USERS = 300
SYNTH_MOVIES = 400
SYNTH_RATINGS = 30_000
SYNTH_SEED = 7


@pytest.fixture(scope="session")
def real_data() -> Path:
    """ml-latest-small, from RECSYS_DATA (a folder or a .zip)."""
    value = os.environ.get("RECSYS_DATA")
    if not value:
        pytest.skip("RECSYS_DATA is not set; point it at ml-latest-small to run this test")
    path = Path(value)
    if not dataset_present(path):
        pytest.skip(f"RECSYS_DATA={value} holds no MovieLens dataset")
    return path


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> MovieLens:
    """80 users, 150 movies, 6,000 ratings with planted tastes."""
    folder = tmp_path_factory.mktemp("synthetic")
    write_synthetic(folder, n_users=80, n_movies=150, n_ratings=6000, rng=7)
    return load_movielens(folder)


@pytest.fixture(scope="session")
def synthetic_info(tmp_path_factory: pytest.TempPathFactory) -> SyntheticInfo:
    """A small synthetic dataset with planted tastes, written once per session."""
    folder = tmp_path_factory.mktemp("synthetic") / "ml-synthetic"
    return write_synthetic(folder, SYNTH_USERS, SYNTH_MOVIES, SYNTH_RATINGS, rng=SYNTH_SEED)


@pytest.fixture(scope="session")
def synthetic_data(synthetic_info: SyntheticInfo) -> Path:
    """The folder of ``synthetic_info``: 300 users, 400 movies, 30,000 ratings."""
    return synthetic_info.folder


# ------------------------------------------------------------------ hand-written folders

RATINGS_HEADER = "userId,movieId,rating,timestamp\n"
MOVIES_HEADER = "movieId,title,genres\n"
VALID_RATINGS = RATINGS_HEADER + "1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,5.0,964982224\n"
VALID_MOVIES = (
    MOVIES_HEADER
    + "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    + '2,"American President, The (1995)",Comedy|Drama|Romance\n'
)

MakeDataset = Callable[..., Path]


@pytest.fixture
def make_dataset(tmp_path: Path) -> MakeDataset:
    """Write a MovieLens folder by hand: ``make_dataset(ratings=..., movies=...)``.

    Each file's content is text (written as UTF-8) or bytes; None leaves the file out.
    The defaults are a tiny valid dataset (3 ratings, 2 movies).
    """

    def make(
        ratings: str | bytes | None = VALID_RATINGS,
        movies: str | bytes | None = VALID_MOVIES,
        name: str = "dataset",
    ) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for file_name, content in (("ratings.csv", ratings), ("movies.csv", movies)):
            if content is None:
                continue
            raw = content.encode("utf-8") if isinstance(content, str) else content
            (folder / file_name).write_bytes(raw)
        return folder

    return make


# ------------------------------------------------------------------ reliability


@pytest.fixture(scope="session")
def good_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic dataset (120 users, 80 movies, 4,000 ratings) to damage in copies."""
    folder = tmp_path_factory.mktemp("good")
    write_synthetic(folder, n_users=120, n_movies=80, n_ratings=4_000, rng=3)
    return folder


@pytest.fixture(scope="session")
def trained_dir(good_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifacts folder with one bundle trained on ``good_data`` (1 epoch). Copy it
    before changing anything in it."""
    from recsys.config import recipe_config
    from recsys.dataset.movielens import load_movielens
    from recsys.model.lab.train import train_bundle

    folder = tmp_path_factory.mktemp("trained")
    config = recipe_config("fast", preset="full", epochs=1)
    train_bundle(load_movielens(good_data), config, folder)
    return folder
