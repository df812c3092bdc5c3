"""Datasets and bundles for the dashboard's tests (AppTest and browser).

``write_hostile_dataset`` writes a small synthetic MovieLens folder whose two most-rated
movies carry hostile titles: a script tag and markdown/HTML that must all show as text.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from recsys.columns import MOVIE_ID, TITLE
from recsys.dataset.synth import write_synthetic

XSS_TITLE = "<script>alert(1)</script>"
MARKDOWN_TITLE = "[click me](javascript:alert(2)) **bold** :red[red] <b>b</b> (2005)"
HOSTILE_USERS, HOSTILE_MOVIES, HOSTILE_RATINGS = 80, 120, 4000
# Keeps movies of every year and with no year (the lab preset keeps 2001 and later).
HOSTILE_PRESET = "full"


def write_hostile_dataset(folder: Path, seed: int = 11) -> dict[str, int]:
    """Write the dataset into ``folder``; return the movieIds of the two hostile titles."""
    write_synthetic(folder, HOSTILE_USERS, HOSTILE_MOVIES, HOSTILE_RATINGS, rng=seed)
    ratings = pd.read_csv(folder / "ratings.csv")
    most_rated = ratings[MOVIE_ID].value_counts().index[:2]
    movies = pd.read_csv(folder / "movies.csv", keep_default_na=False)
    ids = {"xss": int(most_rated[0]), "markdown": int(most_rated[1])}
    movies.loc[movies[MOVIE_ID] == ids["xss"], TITLE] = XSS_TITLE
    movies.loc[movies[MOVIE_ID] == ids["markdown"], TITLE] = MARKDOWN_TITLE
    movies.to_csv(folder / "movies.csv", index=False, lineterminator="\n")
    return ids


def copy_bundle(artifacts: Path, target: Path) -> Path:
    """A private copy of an artifacts folder (CURRENT and its bundle), for tests that
    damage or replace the bundle."""
    shutil.copytree(artifacts, target, ignore=shutil.ignore_patterns(".train.lock"))
    return target


# ------------------------------------------------------------------ shared per test process
# AppTest tests and browser tests live in different folders, so they cannot share a
# pytest fixture without the top-level conftest; these caches give each process one
# training of each bundle instead.

_ROOT: Path | None = None


def _root() -> Path:
    global _ROOT
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="recsys-app-tests-"))
        atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
    return _ROOT


@functools.cache
def hostile_bundle() -> tuple[Path, Path, dict[str, int]]:
    """(data folder, artifacts folder, hostile movieIds): trained once per process."""
    from tests.helpers import train_small_bundle

    data = _root() / "hostile-data"
    ids = write_hostile_dataset(data)
    artifacts = _root() / "hostile-artifacts"
    train_small_bundle(data, artifacts, epochs=2, preset=HOSTILE_PRESET)
    return data, artifacts, ids


@functools.cache
def real_bundle(data: Path) -> Path:
    """An artifacts folder trained (3 quick epochs) on the real dataset at ``data``."""
    from tests.helpers import train_small_bundle

    artifacts = _root() / "real-artifacts"
    train_small_bundle(data, artifacts, epochs=3)
    return artifacts


@functools.cache
def real_hybrid_bundle(data: Path) -> Path:
    """An artifacts folder with a hybrid bundle (8 quick epochs) on the real dataset at
    ``data``, over the whole catalogue; trained once per process."""
    from recsys.config import hybrid_config
    from recsys.dataset.movielens import load_movielens
    from recsys.model.hybrid.train import train_hybrid_bundle

    artifacts = _root() / "real-hybrid-artifacts"
    train_hybrid_bundle(load_movielens(data), hybrid_config(epochs=8), artifacts)
    return artifacts


def real_data_or_skip() -> Path:
    """RECSYS_DATA, or a pytest skip that says how to run the test."""
    import pytest

    from recsys.dataset.movielens import dataset_present

    value = os.environ.get("RECSYS_DATA")
    if not value:
        pytest.skip("RECSYS_DATA is not set; point it at ml-latest-small to run this test")
    if not dataset_present(Path(value)):
        pytest.skip(f"RECSYS_DATA={value} holds no MovieLens dataset")
    return Path(value)
