"""The cached loaders: one Recommender per bundle, and the tables derived from it.

- ``load_recommender_cached(bundle_path, manifest_hash)`` is an ``st.cache_resource``:
  one Recommender per bundle, shared by every session (it is never mutated).
- Each rerun reads only a pointer (``CURRENT``, or ``CURRENT-<model>``) and
  ``manifest.json`` (``bundle_key``) to get the key, so a bundle served by a retrain
  or a rollback, in any session or process, is served on the next rerun of every
  session, with no reload of the old one.
- Derived tables (nearest neighbours, the PCA map, the overview tables, picker labels)
  are ``st.cache_data`` functions of the model, which Streamlit hashes by the same
  (path, hash) (``MODEL_HASH``), or of the dataset's file stamps.
- The Explore page's ratings grouped by movie are one shared ``st.cache_resource``
  (copying them per rerun would cost more than the page).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import streamlit as st

from recsys.dashboard import overview
from recsys.dashboard.explore import MovieRatings, whole_catalogue
from recsys.dashboard.overview import Overview
from recsys.dataset.movielens import dataset_present, load_movielens
from recsys.dataset.tags import load_tags
from recsys.errors import BundleError, known_errors
from recsys.model.bundle import current_bundle, manifest_hash, read_manifest
from recsys.serving.recommender import Recommender
from recsys.settings import resolve_artifacts_dir, resolve_data_path

# ---------------------------------------------------------------------------- the model


class BundleKey(NamedTuple):
    """What identifies the served model: its folder and the sha256 of its manifest."""

    path: str
    digest: str


def artifacts_dir() -> Path:
    return resolve_artifacts_dir(None)


def bundle_key(artifacts: Path | None = None, model: str | None = None) -> BundleKey:
    """Read the pointer and manifest.json only (cheap; done on every rerun). ``model``:
    the served bundle of "hybrid" or "lab"; None: the default one (CURRENT)."""
    bundle = current_bundle(artifacts or artifacts_dir(), model)
    _, raw = read_manifest(bundle)
    return BundleKey(str(bundle), manifest_hash(raw))


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_recommender_cached(bundle_path: str, manifest_hash: str) -> Recommender:
    """One shared Recommender per bundle; every file is verified once, here."""
    model = Recommender.load(bundle_path)
    if model.manifest_hash != manifest_hash:
        raise BundleError(bundle_path, "changed while it was loading; reload the page")
    return model


def current_model(model: str | None = None) -> Recommender:
    """The served Recommender of ``model`` ("hybrid", "lab"; None: the default).
    Raises MissingBundleError / BundleError (known errors)."""
    key = bundle_key(model=model)
    return load_recommender_cached(key.path, key.digest)


def model_key(model: Recommender) -> tuple[str, str]:
    """What a cache hashes a Recommender by: its bundle's folder and manifest sha256
    (never its arrays: one Recommender per bundle, never mutated)."""
    return str(model.bundle), model.manifest_hash


MODEL_HASH = {Recommender: model_key}


# ---------------------------------------------------------------------------- tables


@st.cache_data(
    max_entries=4, show_spinner="Finding every movie's nearest neighbour…", hash_funcs=MODEL_HASH
)
def nearest_table(model: Recommender) -> pd.DataFrame:
    """The lab's table: each movie and its nearest neighbour, with the squared distance."""
    return model.nearest_table()


@st.cache_data(
    max_entries=4, show_spinner="Projecting the movie embeddings…", hash_funcs=MODEL_HASH
)
def embedding_map(model: Recommender) -> pd.DataFrame:
    """movieId, title, year, genres, pc1, pc2 and main genre of every movie in the model:
    its embedding projected on its first two principal components."""
    return overview.embedding_map(model.items, model.item_embeddings)


def data_stamp(path: Path) -> tuple[tuple[int, int], ...]:
    """(mtime, size) of the dataset's files: a cheap cache key that changes with them."""
    files = [path] if path.is_file() else [path / "ratings.csv", path / "movies.csv"]
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in files)


@st.cache_data(max_entries=2, show_spinner="Reading the dataset…")
def dataset_overview_cached(data_path: str, stamp: tuple) -> Overview:
    dataset = load_movielens(data_path)
    summary = overview.overview_of(dataset.ratings, dataset.movies)
    return replace(summary, fingerprint=dataset.fingerprint)


def dataset_overview(data_path: Path) -> Overview:
    """Overview of the whole dataset (read once per file change). Raises DataError."""
    return dataset_overview_cached(str(data_path), data_stamp(data_path))


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=MODEL_HASH)
def model_overview(model: Recommender) -> Overview:
    """Overview of the model's training subset (the ratings and movies it kept)."""
    return overview.overview_of(model.ratings, model.items)


# ---------------------------------------------------------------------------- picker labels


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=MODEL_HASH)
def movie_labels(model: Recommender) -> dict[int, str]:
    """Unique picker labels by movieId: the title, plus the id where titles repeat."""
    return overview.movie_labels(model.items)


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=MODEL_HASH)
def user_labels(model: Recommender) -> dict[int, str]:
    """Picker labels by userId: id, rating count and mean stars."""
    return overview.user_labels(model.user_summary())


# ---------------------------------------------------------------------------- explore


@st.cache_resource(max_entries=2, show_spinner="Reading the dataset's ratings and tags…")
def _dataset_ratings_cached(data_path: str, stamp: tuple) -> MovieRatings:
    return MovieRatings(load_movielens(data_path).ratings, load_tags(data_path))


@st.cache_resource(max_entries=2, show_spinner=False, hash_funcs=MODEL_HASH)
def _model_ratings(model: Recommender) -> MovieRatings:
    return MovieRatings(model.ratings)


def movie_ratings(model: Recommender) -> tuple[MovieRatings, bool]:
    """(every rating grouped by movie, whether it is the whole dataset): the dataset's
    ratings with their dates and its tags when it is there, else the model's training
    ratings (no dates, no tags). Read once and shared: never mutated."""
    data_path = resolve_data_path(None)
    if dataset_present(data_path):
        try:
            return _dataset_ratings_cached(str(data_path), data_stamp(data_path)), True
        except known_errors():
            pass  # the model's own ratings still serve the page
    return _model_ratings(model), False


class ExploreCatalogue(NamedTuple):
    """What Explore browses: the dataset's every movie when it is there (whichever model
    is served), else the model's; picker labels by movieId; whether it is the dataset."""

    items: pd.DataFrame
    labels: dict[int, str]
    whole_dataset: bool


@st.cache_resource(max_entries=2, show_spinner="Reading the dataset's movies…")
def _dataset_catalogue_cached(data_path: str, stamp: tuple) -> tuple[pd.DataFrame, dict]:
    dataset = load_movielens(data_path)
    items = whole_catalogue(dataset.movies, dataset.ratings)
    return items, overview.movie_labels(items)


def explore_catalogue(model: Recommender) -> ExploreCatalogue:
    """The dataset's whole catalogue (read once per file change), else the model's.
    Shared: never mutated."""
    data_path = resolve_data_path(None)
    if dataset_present(data_path):
        try:
            items, labels = _dataset_catalogue_cached(str(data_path), data_stamp(data_path))
            return ExploreCatalogue(items, labels, True)
        except known_errors():
            pass  # the model's own movies still serve the page
    return ExploreCatalogue(model.items, movie_labels(model), False)
