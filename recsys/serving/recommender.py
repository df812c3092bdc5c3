"""Numpy-only serving over a verified bundle. Never imports TensorFlow.

A request runs the small user tower in numpy and takes one matrix product with the item
embeddings computed at training time. The Recommender composes a decoded bundle
(``recsys.serving.bundle``), the model's scoring (``recsys.serving.scoring``: the lab's
network or the hybrid model, as the manifest says) and the item catalogue
(``recsys.serving.catalogue``). Nothing is mutated after construction, so one
Recommender is shared safely by every app session and thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

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
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.towers import Towers
from recsys.serving import reasons
from recsys.serving.bundle import (
    DECODE_ERRORS,
    SERVING_FILES,
    DecodedBundle,
    decode_bundle,
    model_kind,
    unreadable,
)
from recsys.serving.catalogue import Catalogue
from recsys.serving.scoring import (
    NEW_USER_RATING_COUNT,
    HybridScoring,
    LabScoring,
    Scores,
    lab_user_vector,
)

# A top list shows no movie predicted under STAR_FLOOR stars while the best FLOOR_POOL ×
# its length by ranking score hold enough movies at or above it.
STAR_FLOOR = 3.0
FLOOR_POOL = 5

__all__ = ["NEW_USER_RATING_COUNT", "SERVING_FILES", "Recommender", "UserResult"]


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
    item_embeddings: [n_items, d] float32 (the lab's network: 32-d, unit length; the
        hybrid: its ``dim``, not normalised).
    """

    def __init__(self, decoded: DecodedBundle):
        self.decoded = decoded
        self.bundle: Path | None = decoded.path
        self.manifest = decoded.manifest
        self.manifest_hash = decoded.manifest_hash
        self.history = decoded.history
        self.scalers = decoded.scalers
        self.items = decoded.items
        self.users = decoded.users
        self.ratings = decoded.ratings
        self.catalogue = Catalogue(self.items, decoded.item_embeddings)
        self.item_embeddings = self.catalogue.item_embeddings
        self.model_kind = model_kind(self.manifest)
        if self.model_kind == "hybrid":
            self.towers = None
            params = HybridParams.from_arrays(decoded.weights)
            self.scoring = HybridScoring(params, self.items[MOVIE_ID].to_numpy())
        else:
            self.towers = Towers(decoded.weights)
            flags = self.catalogue.genre_flags
            self.scoring = LabScoring(self.towers, self.scalers, self.item_embeddings, flags)
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

        Every file is checked against the manifest's sha256 first.
        """
        decoded = decode_bundle(path)
        try:
            return cls(decoded)
        except DECODE_ERRORS as err:  # weights or columns missing, bad shapes
            raise unreadable(decoded.path, err) from None

    # ------------------------------------------------------------------ scoring

    def _lab_only(self, what: str) -> None:
        if self.towers is None:
            raise UsageError(f"{what} belongs to the lab's network; this bundle is the hybrid")

    def user_embedding(self, user_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled user vectors → [n, 32] unit embeddings (the lab's network)."""
        self._lab_only("user_embedding")
        return self.towers.users(self.scalers.user_inputs(user_vectors))

    def item_embedding(self, item_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled item vectors → [n, 32] unit embeddings (the lab's network)."""
        self._lab_only("item_embedding")
        return self.towers.items(self.scalers.item_inputs(item_vectors))

    def predict_stars(self, user_vector: np.ndarray) -> np.ndarray:
        """[n_items] predicted stars for one unscaled [17] user vector (the lab's network)."""
        self._lab_only("predict_stars")
        scaled = self.item_embeddings @ self.user_embedding(user_vector)[0]
        return self.scalers.unscale_target(scaled)

    def new_user_vector(self, genre_ratings: Mapping[str, float]) -> np.ndarray:
        """The lab's new-user vector: id 0, rating count 3, rating ave 0, genre stars."""
        return lab_user_vector(genre_ratings)

    def picks(self, rated_movies: Mapping[int, float] | None) -> dict[int, float]:
        """``{movieId: stars}`` checked: known movies, stars 0.5–5 in half steps."""
        picks = dict(rated_movies or {})
        if not picks:
            return {}
        ids = np.array(list(picks), dtype="int64")
        stars = np.array(list(picks.values()), dtype="float64")
        unknown = self.catalogue.rows_of(ids) < 0
        if unknown.any():
            self.catalogue.movie_row(int(ids[unknown][0]))  # raises the one-line UsageError
        halves = stars * 2
        bad = ~((stars >= 0.5) & (stars <= 5.0) & (halves == np.round(halves)))
        if bad.any():
            movie_id, value = int(ids[bad][0]), float(stars[bad][0])
            raise UsageError(f"{value:g} stars for movie {movie_id}: use 0.5 to 5 in halves")
        return dict(zip(ids.tolist(), stars.tolist()))

    def new_user_scores(
        self, genre_ratings: Mapping[str, float], rated_movies: Mapping[int, float] | None = None
    ) -> Scores:
        """[n_items] ranking scores and predicted stars for a new user."""
        picks = self.picks(rated_movies)
        rows = self.catalogue.rows_of(np.fromiter(picks, dtype="int64", count=len(picks)))
        return self.scoring.new_user(genre_ratings, picks, rows)

    def for_new_user(
        self,
        genre_ratings: Mapping[str, float],
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
        recommended back). Either may be empty. Filters: see ``filter_mask``.
        ``explain`` adds the reason columns (``recsys.serving.reasons``).
        """
        picks = self.picks(rated_movies)
        picked = self.catalogue.rows_of(np.fromiter(picks, dtype="int64", count=len(picks)))
        scores = self.scoring.new_user(genre_ratings, picks, picked)
        mask = self.filter_mask(include_genres, exclude_genres, year_range, min_ratings)
        mask[picked] = False
        rows = self.served_rows(scores, mask, top)
        table = self.catalogue.movie_table(rows, scores.stars_at(rows))
        if not explain:
            return table

        def score_without(unset: frozenset[str]) -> np.ndarray:
            return self.scoring.new_user(genre_ratings, picks, picked, unset).rank

        return self._with_reasons(
            table, rows, scores.rank, score_without, picks, genre_ratings, reasons.PICKS
        )

    def _with_reasons(
        self,
        table: pd.DataFrame,
        rows: np.ndarray,
        base: np.ndarray,
        score_without: Callable[[frozenset[str]], np.ndarray],
        rated: Mapping[int, float],
        genre_ratings: Mapping[str, float],
        source: str,
    ) -> pd.DataFrame:
        """``table`` (the movies of item ``rows``) with the reason columns added.

        rated: {movieId: stars} the user rated or picked; genre_ratings: the sliders;
        source: ``reasons.PICKS`` (a new user) or ``reasons.RATINGS`` (an existing one).
        """
        ids = np.fromiter(rated, dtype="int64", count=len(rated))
        stars = np.fromiter(rated.values(), dtype="float64", count=len(rated))
        rated_rows = self.catalogue.rows_of(ids)
        known = rated_rows >= 0
        ids, stars, rated_rows = ids[known], stars[known], rated_rows[known]
        titles = [self.title_of(m) for m in ids] if source == reasons.PICKS else [""] * len(ids)
        flags = self.catalogue.genre_flags[rated_rows]
        said = reasons.genres_said(genre_ratings, flags, stars, titles, source)
        genres = list(said)
        liked = np.array(reasons.liked_movies(rated), dtype="int64")
        liked_rows = self.catalogue.rows_of(liked)
        liked, liked_rows = liked[liked_rows >= 0], liked_rows[liked_rows >= 0]
        liked_stars = np.array([rated[int(m)] for m in liked], dtype="float64")
        terms = self.scoring.pick_terms(liked_rows, liked_stars, rows)
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

    def filter_mask(
        self,
        include_genres: Iterable[str] = (),
        exclude_genres: Iterable[str] = (),
        year_range: tuple[float, float] | None = None,
        min_ratings: int = 0,
    ) -> np.ndarray:
        """[n_items] bool: the movies that pass every filter (``Catalogue.filter_mask``)."""
        return self.catalogue.filter_mask(include_genres, exclude_genres, year_range, min_ratings)

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

    def rank_for_user(self, user_id: int) -> tuple[np.ndarray, pd.DataFrame]:
        """([n_items] ranking scores of every movie, rated ones too; the user's ratings)."""
        scores, own = self.scores_for_user(user_id)
        return scores.rank, own

    def for_user(self, user_id: int, top: int = 10, explain: bool = False) -> UserResult:
        """Predicted vs actual stars for the movies ``user_id`` rated, and top unseen
        (with the reason columns when ``explain``)."""
        vector = self.user_vector(user_id)
        own = self._own_ratings(user_id)
        scores = self.scoring.existing_user(vector, own)
        predicted = scores.stars
        rated_rows = self.catalogue.rows_of(own[MOVIE_ID])
        keep = rated_rows >= 0
        rated_rows, actual = rated_rows[keep], own[RATING].to_numpy(dtype="float64")[keep]
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

            stars = dict(zip(own[MOVIE_ID].tolist(), own[RATING].tolist(), strict=True))
            unseen = self._with_reasons(
                unseen, top_rows, scores.rank, score_without, stars, {}, reasons.RATINGS
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
        """The ``k`` movies most like ``movie_id``: what its fans love most (the hybrid's
        item-to-item table), then the nearest by squared distance between item
        embeddings; the distance column is the embedding distance of each."""
        first = self.scoring.fans_rows(self.movie_row(movie_id))
        return self.catalogue.similar(movie_id, k, first)

    def nearest_table(self, block: int = 2048) -> pd.DataFrame:
        """Every movie's nearest neighbour (the lab's table), in blocks of rows."""
        return self.catalogue.nearest_table(block)
