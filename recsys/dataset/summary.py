"""What a dataset holds, in numbers: the summary that ``python -m recsys info`` prints."""

from __future__ import annotations

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATING, USER_ID, YEAR
from recsys.dataset.movielens import MovieLens, genre_flags


def ratings_per_genre(dataset: MovieLens) -> dict[str, int]:
    """How many ratings fall on movies of each of the 14 genres."""
    flags = genre_flags(dataset.movies[GENRES])
    per_movie = dataset.ratings[MOVIE_ID].value_counts()
    counts = per_movie.reindex(dataset.movies[MOVIE_ID]).fillna(0).to_numpy()
    return {g: int(counts @ flags[:, j]) for j, g in enumerate(GENRE_LIST)}


def summary(dataset: MovieLens) -> dict:
    """The counts that `python -m recsys info` prints (ratings in stars)."""
    ratings, movies = dataset.ratings, dataset.movies
    return {
        "source": dataset.source,
        "ratings": int(len(ratings)),
        "users": int(ratings[USER_ID].nunique()),
        "movies": int(len(movies)),
        "rated_movies": int(ratings[MOVIE_ID].nunique()),
        "rating_range": [float(ratings[RATING].min()), float(ratings[RATING].max())],
        "year_range": [int(movies[YEAR].min()), int(movies[YEAR].max())]
        if movies[YEAR].notna().any()
        else None,
        "ratings_per_genre": ratings_per_genre(dataset),
        "fingerprint": dataset.fingerprint,
        "warnings": list(dataset.warnings),
    }
