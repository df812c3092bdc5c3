"""Numpy-only serving over a verified bundle. Never imports TensorFlow.

A request runs the small user tower in numpy and takes one matrix product with the item
embeddings computed at training time. The Recommender composes a decoded bundle
(``recsys.serving.bundle``), the model kind's scorer (``recsys.serving.scoring``, chosen
by the manifest) and the item catalogue (``recsys.serving.catalogue``); what differs by
kind is the scorer's, so this class names no kind. Nothing is mutated after
construction, so one Recommender is shared safely by every app session and thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import (
    ACTUAL,
    ERROR,
    GENRE_LIST,
    MOVIE_ID,
    PREDICTED,
    RATING,
    RATING_AVE,
    RATING_COUNT,
    USER_ID,
    USER_NOT_TRAINED,
    USER_VECTOR_COLUMNS,
)
from recsys.errors import UsageError
from recsys.serving import reasons
from recsys.serving.bundle import (
    DECODE_ERRORS,
    DecodedBundle,
    decode_bundle,
    model_kind,
    unreadable,
)
from recsys.serving.catalogue import Catalogue
from recsys.serving.new_user import NewUser
from recsys.serving.scoring import Scores, scoring_for

# A top list shows no movie predicted under STAR_FLOOR stars while the best FLOOR_POOL ×
# its length by ranking score hold enough movies at or above it.
STAR_FLOOR = 3.0
FLOOR_POOL = 5

__all__ = ["NewUser", "Recommender", "UserResult"]


class _Rated(NamedTuple):
    """Movies a user rated or picked: movieIds, stars and item rows (-1 = not served)."""

    ids: np.ndarray
    stars: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class UserResult:
    """An existing user's predicted vs actual ratings and top unseen movies."""

    user_id: int
    rated: pd.DataFrame  # highest prediction first: title, year, genres, predicted, actual, error
    unseen: pd.DataFrame  # top unseen by prediction
    genre_averages: pd.Series  # the user's average rating per genre (stars), 0 = none
    rmse: float
    mae: float


class Recommender:
    """Scores movies for new and existing users, and finds similar movies.

    items: one row per movie, lab item-vector columns plus title, genres, num ratings.
    item_embeddings: [n_items, d] float32 (the lab's network: its last layer's width,
        unit length; the hybrid: its ``dim``, not normalised).
    scoring: the model kind's scorer (``recsys.serving.scoring.Scoring``): what differs
        by kind (``whole_catalogue``, ``ranks_by_stars``, the lab's towers) is asked of it.
    """

    def __init__(self, decoded: DecodedBundle):
        self.decoded = decoded
        self.bundle: Path | None = decoded.path
        self.manifest = decoded.manifest
        self.manifest_hash = decoded.manifest_hash
        self.history = decoded.history
        self.items = decoded.items
        self.users = decoded.users
        self.ratings = decoded.ratings
        self.catalogue = Catalogue(self.items, decoded.item_embeddings)
        self.item_embeddings = self.catalogue.item_embeddings
        self.model_kind = model_kind(self.manifest)
        self.scoring = scoring_for(decoded, self.catalogue)
        self._user_index = pd.Index(self.users[USER_ID].astype("int64"))
        # Ratings grouped by user once: for_user is then a slice, not a scan.
        order = np.argsort(self.ratings[USER_ID].to_numpy(), kind="stable")
        self._ratings_sorted = self.ratings.iloc[order].reset_index(drop=True)
        user_col = self._ratings_sorted[USER_ID].to_numpy()
        self._rating_user_ids, self._rating_starts = np.unique(user_col, return_index=True)
        self._rating_ends = np.append(self._rating_starts[1:], len(user_col))

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load a bundle folder, or the current bundle of an artifacts folder.

        Every file is checked against the manifest's sha256 first; arrays that do not
        fit the model raise the one-line BundleError.
        """
        decoded = decode_bundle(path)
        try:
            return cls(decoded)
        except DECODE_ERRORS as err:  # weights or columns missing, bad shapes
            raise unreadable(decoded.path, err) from None

    # ------------------------------------------------------------------ a new user

    def new_user(
        self, genre_ratings: Mapping[str, float], rated_movies: Mapping[int, float] | None = None
    ) -> NewUser:
        """A new user's genre stars and picks ({movieId: stars}), checked once against
        this model's movies; UsageError (one line) for a bad genre, stars or movie."""
        return NewUser.of(self.catalogue, genre_ratings, rated_movies)

    def _as_new_user(self, genre_ratings: NewUser | Mapping[str, float], rated_movies) -> NewUser:
        if isinstance(genre_ratings, NewUser):
            if rated_movies:
                raise UsageError("give the picks to new_user, not beside a NewUser")
            return genre_ratings
        return self.new_user(genre_ratings, rated_movies)

    def new_user_scores(
        self,
        genre_ratings: NewUser | Mapping[str, float],
        rated_movies: Mapping[int, float] | None = None,
    ) -> Scores:
        """[n_items] ranking scores and predicted stars for a new user (a ``NewUser``, or
        genre stars and picks checked here)."""
        return self.scoring.new_user(self._as_new_user(genre_ratings, rated_movies))

    def for_new_user(
        self,
        genre_ratings: NewUser | Mapping[str, float],
        rated_movies: Mapping[int, float] | None = None,
        top: int = 10,
        *,
        include_genres: Iterable[str] = (),
        exclude_genres: Iterable[str] = (),
        year_range: tuple[float, float] | None = None,
        min_ratings: int = 0,
        explain: bool = False,
    ) -> pd.DataFrame:
        """Top ``top`` movies for a new user, best first, with predicted stars.

        ``genre_ratings`` maps genre names to stars (0 or absent = not rated);
        ``rated_movies`` maps movie ids the user picked to their stars (never
        recommended back). Either may be empty; or pass the ``NewUser`` that
        ``new_user`` built, alone. Filters: see ``Catalogue.filter_mask``.
        ``explain`` adds the reason columns (``recsys.serving.reasons``).
        """
        user = self._as_new_user(genre_ratings, rated_movies)
        scores = self.scoring.new_user(user)
        mask = self.catalogue.filter_mask(include_genres, exclude_genres, year_range, min_ratings)
        mask[user.rows] = False
        rows = self.served_rows(scores, mask, top)
        table = self.catalogue.movie_table(rows, scores.stars_at(rows))
        if not explain:
            return table

        def score_without(unset: frozenset[str]) -> np.ndarray:
            return self.scoring.new_user(user, unset).rank

        rated = _Rated(user.movie_ids, user.stars, user.rows)
        return self._with_reasons(
            table, rows, scores.rank, score_without, rated, user.genre_ratings, reasons.PICKS
        )

    def _with_reasons(
        self,
        table: pd.DataFrame,
        rows: np.ndarray,
        base: np.ndarray,
        score_without: Callable[[frozenset[str]], np.ndarray],
        rated: _Rated,
        genre_ratings: Mapping[str, float],
        source: str,
    ) -> pd.DataFrame:
        """``table`` (the movies of item ``rows``) with the reason columns added.

        rated: the movies the user rated or picked, their stars and item rows (-1 = not
        served); genre_ratings: the sliders; source: ``reasons.PICKS`` (a new user) or
        ``reasons.RATINGS`` (an existing one).
        """
        known = rated.rows >= 0
        ids, stars, rated_rows = rated.ids[known], rated.stars[known], rated.rows[known]
        titles = self.catalogue.titles(rated_rows) if source == reasons.PICKS else [""] * len(ids)
        flags = self.catalogue.genre_flags[rated_rows]
        said = reasons.genres_said(genre_ratings, flags, stars, titles, source)
        genres = list(said)
        by_id = dict(zip(ids.tolist(), stars.tolist(), strict=True))
        row_of = dict(zip(ids.tolist(), rated_rows.tolist(), strict=True))
        liked = np.array(reasons.liked_movies(by_id), dtype="int64")
        liked_rows = np.array([row_of[m] for m in liked.tolist()], dtype="int64")
        liked_stars = np.array([by_id[m] for m in liked.tolist()], dtype="float64")
        history = source == reasons.RATINGS
        terms = self.scoring.pick_terms(liked_rows, liked_stars, rows, history)
        if terms is None:  # no item-to-item term: the liked movies nearest in the space
            distances = self.catalogue.space.pair_distances(rows, liked_rows)
            because = reasons.closest_liked(distances, liked)
        else:
            because = reasons.largest_terms(terms, liked)
        lifts = reasons.genre_lifts(base, score_without, rows, genres)
        columns = [GENRE_LIST.index(genre) for genre in genres]
        has_genre = self.catalogue.genre_flags[rows][:, columns]
        top = reasons.top_lifts(lifts, genres, has_genre, said)
        return table.assign(**reasons.reason_columns(because, top, self.title_of, said))

    def served_rows(self, scores: Scores, mask: np.ndarray, top: int) -> np.ndarray:
        """The item rows of the ``top`` movies of ``mask`` by ranking score, best first,
        with every movie predicted under ``STAR_FLOOR`` moved below the others among the
        best ``FLOOR_POOL`` × ``top``: where that pool holds ``top`` movies at or above
        the floor, none under it is shown; otherwise the list is topped up with them, in
        ranking order."""
        pool = self.catalogue.top_rows(scores.rank, mask, top * FLOOR_POOL)
        above = scores.stars_at(pool) >= STAR_FLOOR
        return np.concatenate([pool[above], pool[~above]])[: max(int(top), 0)]

    # ------------------------------------------------------------------ existing user

    @property
    def user_ids(self) -> np.ndarray:
        return self.users[USER_ID].to_numpy(dtype="int64")

    def user_vector(self, user_id: int) -> np.ndarray:
        """[17] the unscaled lab user vector of ``user_id``; UsageError when unknown."""
        try:
            row = self._user_index.get_loc(int(user_id))
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                f"user {user_id} is not in this model's data "
                f"(ids run {self.user_ids.min()} to {self.user_ids.max()})"
            ) from None
        return self.users.iloc[row][list(USER_VECTOR_COLUMNS)].to_numpy(dtype="float64")

    def _own_ratings(self, user_id: int) -> pd.DataFrame:
        """The ratings of ``user_id`` (userId, movieId, rating); empty when none."""
        slot = np.searchsorted(self._rating_user_ids, int(user_id))
        if slot < len(self._rating_user_ids) and self._rating_user_ids[slot] == int(user_id):
            return self._ratings_sorted.iloc[self._rating_starts[slot] : self._rating_ends[slot]]
        return self._ratings_sorted.iloc[0:0]

    def scores_for_user(self, user_id: int) -> tuple[Scores, pd.DataFrame]:
        """(the scores of every movie for ``user_id``, rated ones too; the user's ratings:
        userId, movieId, rating). UsageError for a user not in this model's data."""
        own = self._own_ratings(user_id)
        return self.scoring.existing_user(self.user_vector(user_id), own), own

    def for_user(self, user_id: int, top: int = 10, explain: bool = False) -> UserResult:
        """Predicted vs actual stars for the movies ``user_id`` rated, and top unseen
        (with the reason columns when ``explain``)."""
        vector = self.user_vector(user_id)
        own = self._own_ratings(user_id)
        scores = self.scoring.existing_user(vector, own)
        predicted = scores.stars
        own_rows = self.catalogue.rows_of(own[MOVIE_ID])
        own_stars = own[RATING].to_numpy(dtype="float64")
        keep = own_rows >= 0
        rated_rows, actual = own_rows[keep], own_stars[keep]
        rated = self.catalogue.movie_table(rated_rows, predicted[rated_rows])
        rated[ACTUAL] = actual
        rated[ERROR] = rated[PREDICTED] - rated[ACTUAL]
        rated = rated.sort_values([PREDICTED, MOVIE_ID], ascending=[False, True])
        rated = rated.reset_index(drop=True)
        unseen_mask = np.ones(len(self.items), dtype=bool)
        unseen_mask[rated_rows] = False
        errors = rated[ERROR].to_numpy()
        top_rows = self.served_rows(scores, unseen_mask, top)
        unseen = self.catalogue.movie_table(top_rows, predicted[top_rows])
        if explain:

            def score_without(unset: frozenset[str]) -> np.ndarray:
                return self.scoring.existing_user(vector, own, unset).rank

            rated_all = _Rated(own[MOVIE_ID].to_numpy("int64"), own_stars, own_rows)
            unseen = self._with_reasons(
                unseen, top_rows, scores.rank, score_without, rated_all, {}, reasons.RATINGS
            )
        return UserResult(
            user_id=int(user_id),
            rated=rated,
            unseen=unseen,
            genre_averages=pd.Series(vector[len(USER_NOT_TRAINED) :], index=list(GENRE_LIST)),
            rmse=float(np.sqrt(np.mean(errors**2))) if len(errors) else float("nan"),
            mae=float(np.mean(np.abs(errors))) if len(errors) else float("nan"),
        )

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predicted stars for aligned (userId, movieId) pairs of known users and movies."""
        user_ids = np.asarray(user_ids, "int64").reshape(-1)
        rows = self.catalogue.rows_of(pd.Series(np.asarray(movie_ids, "int64").reshape(-1)))
        if len(rows) != len(user_ids):
            raise UsageError(f"{len(user_ids)} users for {len(rows)} movies")
        if (rows < 0).any():
            raise UsageError(f"movie {np.asarray(movie_ids).reshape(-1)[rows < 0][0]} is unknown")
        out = np.empty(len(user_ids), dtype="float64")
        for user_id in np.unique(user_ids):
            at = user_ids == user_id
            stars = self.scoring.existing_user(
                self.user_vector(user_id), self._own_ratings(user_id)
            ).stars
            out[at] = stars[rows[at]]
        return out

    def user_summary(self) -> pd.DataFrame:
        """One row per user: id, rating count and average (stars)."""
        return self.users[[USER_ID, RATING_COUNT, RATING_AVE]].astype(
            {USER_ID: "int64", RATING_COUNT: "int64"}
        )

    # ------------------------------------------------------------------ movies (the catalogue)

    def movie_row(self, movie_id: int) -> int:
        return self.catalogue.movie_row(movie_id)

    def title_of(self, movie_id: int) -> str:
        return self.catalogue.title_of(movie_id)

    def find_movie(self, query: str | int) -> int:
        """A movieId from an id or a title (``Catalogue.find_movie``)."""
        return self.catalogue.find_movie(query)

    def similar(self, movie_id: int, k: int = 10) -> pd.DataFrame:
        """The ``k`` movies most like ``movie_id``: what its fans love most, those of its
        kind first (the hybrid's Similar movies table), then the nearest by squared
        distance between item embeddings; the distance column is the embedding distance
        of each."""
        first = self.scoring.fans_rows(self.movie_row(movie_id))
        return self.catalogue.similar(movie_id, k, first)

    def nearest_table(self, block: int = 2048) -> pd.DataFrame:
        """Every movie's nearest neighbour (the lab's table), in blocks of rows."""
        return self.catalogue.nearest_table(block)
