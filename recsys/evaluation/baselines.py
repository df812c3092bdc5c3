"""Simple baselines that the two-tower model must beat, each fit on training ratings only.

Every baseline has the same small API (scikit-learn's: work in ``fit``, learned
attributes end in ``_``):

- ``fit(ratings, items) -> self``: ``ratings`` has userId, movieId and rating (stars);
  ``items`` has movieId and the 14 genre flags (only ``genre_profile`` and ``popular``
  read it).
- ``predict(user_ids, movie_ids) -> [n]`` predicted ratings in stars, clipped to the
  training ratings' range; NaN for ``popular``, which predicts no rating.
- ``scores(user_ids, movie_ids) -> [n_users, n_movies]`` ranking scores, higher first.
  For rating baselines this is the unclipped prediction (clipping would make ties at
  the top); a score that is the same for every movie (global and user mean) leaves the
  ranking to the evaluation's random tie-break.

Unknown users and movies fall back: movie mean → global mean, user mean → global
mean, bias → the known biases only, genre profile → user mean → global mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST, MOVIE_ID, RATING, USER_ID

BASELINES = ("global_mean", "movie_mean", "user_mean", "bias", "genre_profile", "popular")


@dataclass
class RatingCodes:
    """Ratings as integer codes into the fitted users and movies."""

    users: np.ndarray  # [n] int
    movies: np.ndarray  # [n] int
    stars: np.ndarray  # [n] float64


class Baseline:
    """Shared plumbing: id ↔ index maps, clipping, the pairwise ``predict``."""

    name = "baseline"
    predicts_ratings = True

    def fit(self, ratings: pd.DataFrame, items: pd.DataFrame | None = None) -> Baseline:
        stars = ratings[RATING].to_numpy(dtype="float64")
        if stars.size == 0:
            raise ValueError(f"{self.name}: cannot fit on no ratings")
        self.user_index_ = pd.Index(np.unique(ratings[USER_ID].to_numpy()))
        movie_ids = ratings[MOVIE_ID].to_numpy()
        if items is not None:
            movie_ids = np.concatenate([movie_ids, items[MOVIE_ID].to_numpy().astype("int64")])
        self.movie_index_ = pd.Index(np.unique(movie_ids.astype("int64")))
        self.global_mean_ = float(stars.mean())
        self.star_range_ = (float(stars.min()), float(stars.max()))
        codes = RatingCodes(
            users=self.user_index_.get_indexer(ratings[USER_ID].to_numpy()),
            movies=self.movie_index_.get_indexer(ratings[MOVIE_ID].to_numpy().astype("int64")),
            stars=stars,
        )
        self._fit(codes, items)
        return self

    def _fit(self, codes: RatingCodes, items: pd.DataFrame | None) -> None:
        """Learn from integer-coded ratings."""

    def _user_codes(self, user_ids) -> np.ndarray:
        return self.user_index_.get_indexer(np.asarray(user_ids).reshape(-1))

    def _movie_codes(self, movie_ids) -> np.ndarray:
        return self.movie_index_.get_indexer(np.asarray(movie_ids).reshape(-1).astype("int64"))

    def scores(self, user_ids, movie_ids) -> np.ndarray:
        """[n_users, n_movies] unclipped scores (stars for rating baselines)."""
        return self._scores(self._user_codes(user_ids), self._movie_codes(movie_ids))

    def _scores(self, users: np.ndarray, movies: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _pair_scores(self, users: np.ndarray, movies: np.ndarray) -> np.ndarray:
        """[n] unclipped scores for (user, movie) pairs; codes may be -1 (unknown)."""
        raise NotImplementedError

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predicted stars for aligned (user, movie) pairs, clipped to the star range."""
        users, movies = self._user_codes(user_ids), self._movie_codes(movie_ids)
        if users.shape != movies.shape:
            raise ValueError(f"{users.shape[0]} users for {movies.shape[0]} movies")
        return np.clip(self._pair_scores(users, movies), *self.star_range_)


def _lookup(values: np.ndarray, codes: np.ndarray, fallback: float | np.ndarray) -> np.ndarray:
    """values[codes], with ``fallback`` where the code is -1 (unknown id)."""
    known = codes >= 0
    out = np.where(known, values[np.where(known, codes, 0)], fallback)
    return out.astype("float64")


class GlobalMean(Baseline):
    """Every rating is the training mean (stars)."""

    name = "global_mean"

    def _pair_scores(self, users, movies):
        return np.full(users.shape, self.global_mean_)

    def _scores(self, users, movies):
        return np.full((users.size, movies.size), self.global_mean_)


class MovieMean(Baseline):
    """The movie's mean training rating; the global mean for a movie without one."""

    name = "movie_mean"

    def _fit(self, codes, items):
        self.movie_mean_ = _group_mean(
            codes.movies, codes.stars, len(self.movie_index_), self.global_mean_
        )

    def _pair_scores(self, users, movies):
        return _lookup(self.movie_mean_, movies, self.global_mean_)

    def _scores(self, users, movies):
        row = _lookup(self.movie_mean_, movies, self.global_mean_)
        return np.broadcast_to(row, (users.size, movies.size)).copy()


class UserMean(Baseline):
    """The user's mean training rating; the global mean for an unknown user."""

    name = "user_mean"

    def _fit(self, codes, items):
        self.user_mean_ = _group_mean(
            codes.users, codes.stars, len(self.user_index_), self.global_mean_
        )

    def _pair_scores(self, users, movies):
        return _lookup(self.user_mean_, users, self.global_mean_)

    def _scores(self, users, movies):
        column = _lookup(self.user_mean_, users, self.global_mean_)
        return np.broadcast_to(column[:, None], (users.size, movies.size)).copy()


class Bias(Baseline):
    """μ + b_u + b_i, the biases fit by alternating least squares with regularisation.

    As Surprise's ``BaselineOnly`` (ALS, its defaults): each of ``n_epochs`` rounds
    sets b_i = Σ(r − μ − b_u) / (reg_i + n_i), then b_u = Σ(r − μ − b_i) / (reg_u + n_u).
    """

    name = "bias"

    def __init__(self, reg_u: float = 15.0, reg_i: float = 10.0, n_epochs: int = 10):
        self.reg_u = reg_u
        self.reg_i = reg_i
        self.n_epochs = n_epochs

    def _fit(self, codes, items):
        n_users, n_movies = len(self.user_index_), len(self.movie_index_)
        user_count = np.bincount(codes.users, minlength=n_users)
        movie_count = np.bincount(codes.movies, minlength=n_movies)
        residual = codes.stars - self.global_mean_
        user_bias = np.zeros(n_users)
        movie_bias = np.zeros(n_movies)
        for _ in range(self.n_epochs):  # a few vectorised rounds, not a loop over ratings
            movie_sum = np.bincount(codes.movies, residual - user_bias[codes.users], n_movies)
            movie_bias = movie_sum / (self.reg_i + movie_count)
            user_sum = np.bincount(codes.users, residual - movie_bias[codes.movies], n_users)
            user_bias = user_sum / (self.reg_u + user_count)
        self.user_bias_ = user_bias
        self.movie_bias_ = movie_bias

    def _pair_scores(self, users, movies):
        return (
            self.global_mean_
            + _lookup(self.user_bias_, users, 0.0)
            + _lookup(self.movie_bias_, movies, 0.0)
        )

    def _scores(self, users, movies):
        column = _lookup(self.user_bias_, users, 0.0)
        row = _lookup(self.movie_bias_, movies, 0.0)
        return self.global_mean_ + column[:, None] + row[None, :]


class GenreProfile(Baseline):
    """The user's average over the movie's genres of their per-genre mean rating.

    A user's per-genre mean (stars) is what the lab's user vector holds. For a movie
    with genres G, the prediction is the plain mean of the user's means over the
    genres in G that the user has rated; the user mean when they rated none of G (or
    the movie has none of the 14 genres); the global mean for an unknown user.
    """

    name = "genre_profile"

    def _fit(self, codes, items):
        if items is None:
            raise ValueError("genre_profile needs the movies' genre flags (items)")
        n_users = len(self.user_index_)
        flag_rows = pd.Index(items[MOVIE_ID].to_numpy().astype("int64")).get_indexer(
            self.movie_index_
        )
        if (flag_rows < 0).any():
            raise ValueError("genre_profile: a rated movie has no row in items")
        self.movie_flags_ = items[list(GENRE_LIST)].to_numpy(dtype="float64")[flag_rows] > 0
        rated_flags = self.movie_flags_[codes.movies].astype("float64")  # [n_ratings, 14]
        genre_sum = np.empty((n_users, len(GENRE_LIST)))
        genre_count = np.empty((n_users, len(GENRE_LIST)))
        for j in range(len(GENRE_LIST)):  # 14 vectorised passes
            genre_sum[:, j] = np.bincount(codes.users, codes.stars * rated_flags[:, j], n_users)
            genre_count[:, j] = np.bincount(codes.users, rated_flags[:, j], n_users)
        self.genre_rated_ = genre_count > 0  # [n_users, 14]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.genre_mean_ = np.where(self.genre_rated_, genre_sum / genre_count, 0.0)
        self.user_mean_ = _group_mean(codes.users, codes.stars, n_users, self.global_mean_)

    def _profile(self, users: np.ndarray, movies: np.ndarray, pairwise: bool) -> np.ndarray:
        known_user = users >= 0
        user_rows = np.where(known_user, users, 0)
        flags = np.where(
            movies[:, None] >= 0, self.movie_flags_[np.where(movies >= 0, movies, 0)], False
        ).astype("float64")  # [n_movies, 14]; unknown movie: no genres
        means = self.genre_mean_[user_rows]  # [n_users, 14]
        rated = self.genre_rated_[user_rows].astype("float64")
        if pairwise:
            total = np.sum(means * flags, axis=1)
            count = np.sum(rated * flags, axis=1)
            fallback = self.user_mean_[user_rows]
        else:
            total = means @ flags.T
            count = rated @ flags.T
            fallback = self.user_mean_[user_rows][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            profile = np.where(count > 0, total / np.where(count > 0, count, 1.0), fallback)
        unknown = ~known_user if pairwise else ~known_user[:, None]
        return np.where(unknown, self.global_mean_, profile)

    def _pair_scores(self, users, movies):
        return self._profile(users, movies, pairwise=True)

    def _scores(self, users, movies):
        return self._profile(users, movies, pairwise=False)


class Popular(Baseline):
    """Ranks movies by their number of training ratings; predicts no rating (NaN)."""

    name = "popular"
    predicts_ratings = False

    def _fit(self, codes, items):
        self.movie_count_ = np.bincount(codes.movies, minlength=len(self.movie_index_))

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        return np.full(np.asarray(movie_ids).reshape(-1).shape, np.nan)

    def _scores(self, users, movies):
        row = _lookup(self.movie_count_.astype("float64"), movies, 0.0)
        return np.broadcast_to(row, (users.size, movies.size)).copy()


def _group_mean(codes: np.ndarray, stars: np.ndarray, n: int, fallback: float) -> np.ndarray:
    """[n] mean stars per code; ``fallback`` where a code has no rating."""
    total = np.bincount(codes, weights=stars, minlength=n)
    count = np.bincount(codes, minlength=n)
    return np.where(count > 0, total / np.maximum(count, 1), fallback)


FACTORIES: dict[str, Callable[[], Baseline]] = {
    "global_mean": GlobalMean,
    "movie_mean": MovieMean,
    "user_mean": UserMean,
    "bias": Bias,
    "genre_profile": GenreProfile,
    "popular": Popular,
}


def make_baseline(name: str) -> Baseline:
    """A fresh, unfitted baseline by its name in ``BASELINES``."""
    try:
        return FACTORIES[name]()
    except KeyError:
        raise ValueError(
            f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}"
        ) from None
