"""What a dataset holds, in numbers: the one summary behind ``python -m recsys info`` and
the dashboard's Overview page.

``summary_of(ratings, movies)`` works on any pair of frames (a whole dataset, or a
model's training subset); ``summary(dataset)`` adds where the data came from, in the
keys and order that ``info --json`` prints.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATING, USER_ID, YEAR
from recsys.dataset.movielens import MovieLens, genre_flags

# The counts that `info` prints, in its order (between "source" and "fingerprint").
INFO_COUNTS = (
    "ratings",
    "users",
    "movies",
    "rated_movies",
    "rating_range",
    "year_range",
    "ratings_per_genre",
)


def genre_ratings_of(ratings: pd.DataFrame, movies: pd.DataFrame) -> dict[str, int]:
    """How many ratings fall on movies of each of the 14 genres (a rating counts once for
    every genre of its movie)."""
    flags = genre_flags(movies[GENRES])
    per_movie = ratings[MOVIE_ID].value_counts()
    counts = per_movie.reindex(movies[MOVIE_ID]).fillna(0).to_numpy()
    return {g: int(counts @ flags[:, j]) for j, g in enumerate(GENRE_LIST)}


def summary_of(ratings: pd.DataFrame, movies: pd.DataFrame) -> dict[str, Any]:
    """The data in numbers, from ratings (userId, movieId, rating in stars) and movies
    (movieId, genres; year optional, NaN where unknown).

    Keys: ratings, users, movies, rated_movies (movies with at least one rating),
    mean_rating (stars; NaN with no ratings), rating_range ([low, high] stars),
    year_range ([first, last], or None with no known year), density (ratings ÷
    (users × movies)) and ratings_per_genre ({genre: ratings}, the 14 in order).
    """
    years = pd.to_numeric(movies[YEAR], errors="coerce") if YEAR in movies else pd.Series([])
    n_users, n_movies = int(ratings[USER_ID].nunique()), int(len(movies))
    return {
        "ratings": int(len(ratings)),
        "users": n_users,
        "movies": n_movies,
        "rated_movies": int(ratings[MOVIE_ID].nunique()),
        "mean_rating": float(ratings[RATING].mean()) if len(ratings) else math.nan,
        "rating_range": [float(ratings[RATING].min()), float(ratings[RATING].max())],
        "year_range": [int(years.min()), int(years.max())] if years.notna().any() else None,
        "density": len(ratings) / max(n_users * n_movies, 1),
        "ratings_per_genre": genre_ratings_of(ratings, movies),
    }


def summary(dataset: MovieLens) -> dict[str, Any]:
    """What `python -m recsys info` prints: source, the counts (ratings in stars),
    fingerprint and the loader's warnings."""
    counts = summary_of(dataset.ratings, dataset.movies)
    return {
        "source": dataset.source,
        **{key: counts[key] for key in INFO_COUNTS},
        "fingerprint": dataset.fingerprint,
        "warnings": list(dataset.warnings),
    }
