"""The tables behind the dashboard's views, as plain pandas: no Streamlit, no TensorFlow.

- ``overview_of``: the data set in numbers (``recsys.dataset.summary``, the same numbers
  ``python -m recsys info`` prints) and the lab's two tables (most-rated movies, ratings
  per genre).
- ``embedding_map``: every movie's embedding on its first two principal components.
- ``training_preview``: the first training rows, as the lab printed them.
- Picker labels and small facts about the item table (year range, most-rated movie).

``recsys.dashboard.ui.cache`` caches these per bundle (path + manifest hash) or per
dataset file stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import (
    AVE_RATING,
    GENRE_LIST,
    GENRES,
    ITEM_NOT_TRAINED,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    RATING_AVE,
    RATING_COUNT,
    TITLE,
    USER_ID,
    USER_NOT_TRAINED,
    USER_VECTOR_COLUMNS,
    YEAR,
)
from recsys.dataset.movielens import genre_flags
from recsys.dataset.summary import summary_of

MAIN_GENRE = "main genre"
MAP_COLOURS = 9  # named genres on the movie map; the rest are "Other"
OTHER_GENRE = "Other"
TARGET_STARS = "target y (stars)"

# ---------------------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Overview:
    """The data set in numbers and the lab's two tables. Ratings are in stars."""

    numbers: dict[str, Any]  # recsys.dataset.summary.summary_of: ratings, users, movies, …
    top_rated: pd.DataFrame  # movieId, num ratings, ave rating, title, genres
    by_genre: pd.DataFrame  # genre, num movies, ave rating/genre, ratings per genre
    rating_counts: pd.DataFrame  # stars, ratings
    fingerprint: str | None = None  # the dataset's, when read from a dataset


def overview_of(ratings: pd.DataFrame, movies: pd.DataFrame, top: int = 10) -> Overview:
    """Counts and tables from ratings (userId, movieId, rating in stars) and movies
    (movieId, title, genres; year optional).

    ``top_rated`` holds the ``top`` movies with the most ratings (ties: lower movieId
    first). Vectorised: the per-genre sums are one matrix product.
    """
    per_movie = ratings.groupby(MOVIE_ID)[RATING].agg(["size", "sum"])
    movie_ids = movies[MOVIE_ID].to_numpy()
    counts = per_movie["size"].reindex(movie_ids).fillna(0).to_numpy()
    sums = per_movie["sum"].reindex(movie_ids).fillna(0).to_numpy()
    by_genre = _by_genre(counts, sums, genre_flags(movies[GENRES]).astype(np.float64))
    rated = movies[[MOVIE_ID, TITLE, GENRES]].assign(
        **{NUM_RATINGS: counts.astype("int64")},
        **{AVE_RATING: np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)},
    )
    top_rated = rated.sort_values([NUM_RATINGS, MOVIE_ID], ascending=[False, True]).head(top)
    top_rated = top_rated[[MOVIE_ID, NUM_RATINGS, AVE_RATING, TITLE, GENRES]].reset_index(drop=True)
    stars = ratings[RATING].round(1).value_counts().sort_index()
    rating_counts = pd.DataFrame({"stars": stars.index.astype(float), "ratings": stars.to_numpy()})
    return Overview(summary_of(ratings, movies), top_rated, by_genre, rating_counts)


def _by_genre(counts: np.ndarray, sums: np.ndarray, flags: np.ndarray) -> pd.DataFrame:
    """Per genre: movies, mean rating (stars) and ratings. ``counts``/``sums``: [n_movies]
    ratings and their sum in stars; ``flags``: [n_movies, 14]."""
    genre_ratings = counts @ flags
    with np.errstate(invalid="ignore", divide="ignore"):
        genre_mean = np.where(genre_ratings > 0, (sums @ flags) / genre_ratings, np.nan)
    return pd.DataFrame(
        {
            "genre": list(GENRE_LIST),
            "num movies": flags.sum(axis=0).astype("int64"),
            "ave rating/genre": genre_mean,
            "ratings per genre": genre_ratings.astype("int64"),
        }
    )


def main_genre(genres: pd.Series, colours: int = MAP_COLOURS) -> pd.Series:
    """Each movie's most telling genre: of the 14 it lists, the one the fewest of these
    movies list (ties in the lab's order; Toy Story's is Animation, not Adventure).
    Only the ``colours`` most common of those keep their name (a map tells no more
    colours apart); the rest, and movies with none of the 14, are "Other"."""
    flags = genre_flags(genres.astype(str)) > 0
    counts = flags.sum(axis=0)
    order = np.lexsort((np.arange(len(GENRE_LIST)), counts))  # rarest first
    rank = np.empty(len(GENRE_LIST), dtype=np.int64)
    rank[order] = np.arange(len(GENRE_LIST))
    best = np.where(flags, rank[None, :], len(GENRE_LIST)).argmin(axis=1)
    names = pd.Series(np.array(GENRE_LIST, dtype=object)[best], index=genres.index)
    names[~flags.any(axis=1)] = OTHER_GENRE
    named = names[names != OTHER_GENRE].value_counts().index[:colours]
    return names.where(names.isin(named), OTHER_GENRE)


# ---------------------------------------------------------------------------- the embedding map


class Projection(NamedTuple):
    """Vectors projected on their first principal components."""

    axes: np.ndarray  # [k, dims], orthonormal rows, k = min(2, n, dims)
    points: np.ndarray  # [n, k], the centred vectors' coordinates on the axes


def principal_plane(vectors: np.ndarray) -> Projection:
    """PCA of ``vectors`` [n, dims] on (at most) two components, by SVD.

    Each axis is signed so that its largest loading is positive: SVD signs are
    arbitrary, and a retrain should not mirror the map for nothing.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    centered = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centered, full_matrices=False)
    axes = axes[:2]
    pivots = np.abs(axes).argmax(axis=1)
    axes = axes * np.sign(axes[np.arange(len(axes)), pivots])[:, None]
    return Projection(axes, centered @ axes.T)


def embedding_map(items: pd.DataFrame, item_embeddings: np.ndarray) -> pd.DataFrame:
    """Every movie at its (pc1, pc2) in the model's movie space, with its main genre.

    items: the model's item table (movieId, title, year, genres), one row per movie.
    item_embeddings: [n_items, 32], in the same row order.
    """
    projected = principal_plane(item_embeddings).points
    points = items[[MOVIE_ID, TITLE, YEAR, GENRES]].copy()
    points[YEAR] = points[YEAR].astype("Int64")
    points["pc1"] = projected[:, 0]
    points["pc2"] = projected[:, 1] if projected.shape[1] > 1 else 0.0
    points[MAIN_GENRE] = main_genre(points[GENRES])
    return points


# ---------------------------------------------------------------------------- training rows


def bracket_untrained(columns: Iterable[str], untrained: Iterable[str]) -> dict[str, str]:
    """Renames that put the columns not fed to the network in brackets, as the lab did."""
    skip = set(untrained)
    return {c: f"[{c}]" for c in columns if c in skip}


def training_preview(
    ratings: pd.DataFrame, users: pd.DataFrame, items: pd.DataFrame, rows: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first training rows: (user vectors, item vectors + target stars), unscaled.

    Rows are the model's kept ``ratings`` in order, joined to their vectors in ``users``
    (the lab's user-vector columns) and ``items`` (its item-vector columns), before the
    genre balancing repeats some of them. The target is in stars. Untrained columns are
    bracketed.
    """
    first = ratings.head(rows)
    user_rows = pd.Index(users[USER_ID].astype("int64")).get_indexer(first[USER_ID])
    item_rows = pd.Index(items[MOVIE_ID].astype("int64")).get_indexer(first[MOVIE_ID])
    user_vecs = users.iloc[user_rows][list(USER_VECTOR_COLUMNS)].reset_index(drop=True)
    user_vecs = user_vecs.astype({USER_ID: "int64", RATING_COUNT: "int64"})
    item_vecs = items.iloc[item_rows][list(ITEM_VECTOR_COLUMNS)].reset_index(drop=True)
    item_vecs = item_vecs.astype({MOVIE_ID: "int64"})
    item_vecs[YEAR] = item_vecs[YEAR].round().astype("Int64")
    item_vecs[TARGET_STARS] = first[RATING].to_numpy(dtype=float)
    user_vecs = user_vecs.rename(columns=bracket_untrained(user_vecs.columns, USER_NOT_TRAINED))
    item_vecs = item_vecs.rename(columns=bracket_untrained(item_vecs.columns, ITEM_NOT_TRAINED))
    return user_vecs, item_vecs


# ---------------------------------------------------------------------------- pickers


def movie_labels(items: pd.DataFrame) -> dict[int, str]:
    """Unique picker labels by movieId, sorted by label (case-blind): the title, plus
    `` · #<movieId>`` where titles repeat."""
    titles = items[TITLE].astype(str)
    repeated = titles.duplicated(keep=False)
    labels = titles.where(~repeated, titles + " · #" + items[MOVIE_ID].astype(str))
    order = np.argsort(labels.str.lower().to_numpy(), kind="stable")
    ids = items[MOVIE_ID].to_numpy()[order]
    return {int(m): str(t) for m, t in zip(ids, labels.to_numpy()[order], strict=True)}


def user_labels(user_summary: pd.DataFrame) -> dict[int, str]:
    """Picker labels by userId, e.g. "user 2 · 29 ratings · mean 3.9 ★", from a table of
    userId, rating count and rating ave (stars), in its order."""
    counts = user_summary[RATING_COUNT]
    labels = (
        "user "
        + user_summary[USER_ID].astype(str)
        + " · "
        + counts.astype(str)
        + np.where(counts == 1, " rating", " ratings")
        + " · mean "
        + user_summary[RATING_AVE].map("{:.1f}".format)
        + " ★"
    )
    return dict(zip(user_summary[USER_ID].astype(int), labels, strict=True))


def most_rated_movie(items: pd.DataFrame) -> int:
    """The movieId with the most ratings (the first such row on a tie)."""
    return int(items[MOVIE_ID].iat[int(items[NUM_RATINGS].to_numpy().argmax())])


def year_bounds(items: pd.DataFrame) -> tuple[int, int]:
    """(first, last) release year in the item table; (0, 0) when no year is known."""
    years = items[YEAR].to_numpy(dtype=float)
    if not np.isfinite(years).any():
        return (0, 0)
    return int(np.nanmin(years)), int(np.nanmax(years))
