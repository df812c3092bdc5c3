"""Numpy-only serving over a verified bundle. Never imports TensorFlow.

A request runs the small user tower in numpy and takes one matrix product with the
item embeddings computed at training time. Nothing is mutated after ``load``, so one
Recommender is shared safely by every app session and thread.
"""

from __future__ import annotations

import difflib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.columns import (
    ACTUAL,
    AVE_RATING,
    DISTANCE,
    ERROR,
    GENRE_LIST,
    GENRES,
    ITEM_NOT_TRAINED,
    MOVIE_ID,
    NUM_RATINGS,
    PREDICTED,
    RATING,
    RATING_AVE,
    RATING_COUNT,
    TITLE,
    USER_ID,
    USER_NOT_TRAINED,
    USER_VECTOR_COLUMNS,
    YEAR,
)
from recsys.errors import BundleError, UsageError
from recsys.genres import known_genres, validate_genre_ratings
from recsys.model.bundle import BUNDLE_FILES, current_bundle, read_verified
from recsys.model.scaling import Scalers

TOWERS = ("user_tower", "item_tower")
# Serving reads every bundle file but the Keras model (which is only checked).
SERVING_FILES = tuple(name for name in BUNDLE_FILES if name != "model.keras")
# The lab's example new user: rating count 3, rating ave 0.
NEW_USER_RATING_COUNT = 3.0


@dataclass(frozen=True)
class UserResult:
    """An existing user's predicted vs actual ratings and top unseen movies."""

    user_id: int
    rated: pd.DataFrame  # highest prediction first: title, year, genres, predicted, actual, error
    unseen: pd.DataFrame  # top unseen by prediction
    genre_averages: pd.Series  # the user's average rating per genre (stars), 0 = none
    rmse: float
    mae: float


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0, out=x)


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    squared = np.sum(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(np.maximum(squared, np.float32(1e-12)))


class Recommender:
    """Scores movies for new and existing users, and finds similar movies.

    items: one row per movie, lab item-vector columns plus title, genres, num ratings.
    item_embeddings: [n_items, 32] float32, unit length.
    """

    def __init__(
        self,
        *,
        weights: Mapping[str, np.ndarray],
        scalers: Scalers,
        items: pd.DataFrame,
        item_embeddings: np.ndarray,
        users: pd.DataFrame,
        ratings: pd.DataFrame,
        history: dict,
        manifest: dict,
        manifest_hash: str,
        bundle: Path | None = None,
    ):
        self.bundle = bundle
        self.manifest = manifest
        self.manifest_hash = manifest_hash
        self.history = history
        self.scalers = scalers
        self.items = items.reset_index(drop=True)
        self.users = users.reset_index(drop=True)
        self.ratings = ratings
        self._layers = {
            tower: [
                (
                    np.asarray(weights[f"{tower}/{i}/kernel"], np.float32),
                    np.asarray(weights[f"{tower}/{i}/bias"], np.float32),
                )
                for i in (1, 2, 3)
            ]
            for tower in TOWERS
        }
        self.item_embeddings = np.ascontiguousarray(item_embeddings, dtype=np.float32)
        if self.item_embeddings.shape[0] != len(self.items):
            raise BundleError(bundle or "bundle", "item embeddings and items.csv disagree")
        self._movie_index = pd.Index(self.items[MOVIE_ID].astype("int64"))
        self._user_index = pd.Index(self.users[USER_ID].astype("int64"))
        self._genre_flags = self.items[list(GENRE_LIST)].to_numpy(dtype=bool)
        self._years = self.items[YEAR].to_numpy(dtype="float64")
        self._num_ratings = self.items[NUM_RATINGS].to_numpy(dtype="int64")
        self._embedding_sq = np.sum(self.item_embeddings**2, axis=1)
        self._minus_two_embeddings_t = np.ascontiguousarray(-2.0 * self.item_embeddings.T)
        # Ratings grouped by user once: for_user is then a slice, not a scan.
        order = np.argsort(ratings[USER_ID].to_numpy(), kind="stable")
        self._ratings_sorted = ratings.iloc[order].reset_index(drop=True)
        user_col = self._ratings_sorted[USER_ID].to_numpy()
        self._rating_user_ids, self._rating_starts = np.unique(user_col, return_index=True)
        self._rating_ends = np.append(self._rating_starts[1:], len(user_col))
        self._title_lower = self.items[TITLE].str.lower().to_numpy()
        # Display columns as plain arrays: building a result is then a few takes.
        self._display = {
            MOVIE_ID: self.items[MOVIE_ID].to_numpy(dtype="int64"),
            TITLE: self.items[TITLE].array,  # pandas string arrays: take() needs no conversion
            YEAR: np.rint(self._years).astype("int64"),
            GENRES: self.items[GENRES].array,
            AVE_RATING: self.items[AVE_RATING].to_numpy(dtype="float64"),
            NUM_RATINGS: self._num_ratings,
        }
        for array in (
            self.item_embeddings,
            self._genre_flags,
            self._years,
            self._embedding_sq,
            self._minus_two_embeddings_t,
        ):
            array.setflags(write=False)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | Path) -> Recommender:
        """Load a bundle folder, or the current bundle of an artifacts folder.

        Every file is checked against the manifest's sha256 first.
        """
        path = Path(path)
        bundle = path if (path / "manifest.json").exists() else current_bundle(path)
        manifest, digest, files = read_verified(bundle, SERVING_FILES)
        try:
            with np.load(io.BytesIO(files["weights.npz"]), allow_pickle=False) as npz:
                weights = {k: npz[k] for k in npz.files}
            with np.load(io.BytesIO(files["ratings.npz"]), allow_pickle=False) as npz:
                ratings = pd.DataFrame(
                    {USER_ID: npz[USER_ID], MOVIE_ID: npz[MOVIE_ID], RATING: npz[RATING]}
                )
            embeddings = np.load(io.BytesIO(files["item_embeddings.npy"]), allow_pickle=False)
            items = pd.read_csv(
                io.BytesIO(files["items.csv"]), keep_default_na=False, na_values={YEAR: [""]}
            )
            users = pd.read_csv(io.BytesIO(files["users.csv"]))
            scalers = Scalers.from_json(files["scalers.json"].decode())
            history = json.loads(files["history.json"])
            return cls(
                weights=weights,
                scalers=scalers,
                items=items,
                item_embeddings=embeddings,
                users=users,
                ratings=ratings,
                history=history,
                manifest=manifest,
                manifest_hash=digest,
                bundle=bundle,
            )
        except (KeyError, ValueError, OSError) as err:
            raise BundleError(bundle, f"cannot be read ({err}); retrain") from None

    # ------------------------------------------------------------------ scoring

    def _tower(self, name: str, x: np.ndarray) -> np.ndarray:
        (k1, b1), (k2, b2), (k3, b3) = self._layers[name]
        hidden = _relu(x.astype(np.float32) @ k1 + b1)
        hidden = _relu(hidden @ k2 + b2)
        return _l2_normalize(hidden @ k3 + b3)

    def user_embedding(self, user_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled user vectors → [n, 32] unit embeddings."""
        scaled = self.scalers.scale_users(np.atleast_2d(user_vectors))
        return self._tower("user_tower", scaled[:, len(USER_NOT_TRAINED) :])

    def item_embedding(self, item_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled item vectors → [n, 32] unit embeddings."""
        scaled = self.scalers.scale_items(np.atleast_2d(item_vectors))
        return self._tower("item_tower", scaled[:, len(ITEM_NOT_TRAINED) :])

    def predict_stars(self, user_vector: np.ndarray) -> np.ndarray:
        """[n_items] predicted ratings in stars for one unscaled [17] user vector."""
        scaled = self.item_embeddings @ self.user_embedding(user_vector)[0]
        return self.scalers.unscale_target(scaled)

    def new_user_vector(self, genre_ratings: Mapping[str, float]) -> np.ndarray:
        """The lab's new-user vector: id 0, rating count 3, rating ave 0, genre stars."""
        vector = np.zeros(len(USER_VECTOR_COLUMNS))
        vector[1] = NEW_USER_RATING_COUNT
        for genre, stars in validate_genre_ratings(genre_ratings).items():
            vector[USER_VECTOR_COLUMNS.index(genre)] = stars
        return vector

    def for_new_user(
        self,
        genre_ratings: Mapping[str, float],
        top: int = 10,
        *,
        include_genres: Iterable[str] = (),
        exclude_genres: Iterable[str] = (),
        year_range: tuple[float, float] | None = None,
        min_ratings: int = 0,
    ) -> pd.DataFrame:
        """Top ``top`` movies for a new user, highest predicted stars first.

        ``genre_ratings`` maps genre names to stars (0 or absent = not rated).
        Filters: a movie must carry one of ``include_genres`` (if any), none of
        ``exclude_genres``, be released within ``year_range`` and have at least
        ``min_ratings`` ratings.
        """
        predicted = self.predict_stars(self.new_user_vector(genre_ratings))
        mask = self.filter_mask(include_genres, exclude_genres, year_range, min_ratings)
        return self._top(predicted, mask, top)

    def filter_mask(
        self,
        include_genres: Iterable[str] = (),
        exclude_genres: Iterable[str] = (),
        year_range: tuple[float, float] | None = None,
        min_ratings: int = 0,
    ) -> np.ndarray:
        """[n_items] bool: the movies that pass every filter."""
        mask = np.ones(len(self.items), dtype=bool)
        include = [GENRE_LIST.index(g) for g in known_genres(include_genres)]
        exclude = [GENRE_LIST.index(g) for g in known_genres(exclude_genres)]
        if include:
            mask &= self._genre_flags[:, include].any(axis=1)
        if exclude:
            mask &= ~self._genre_flags[:, exclude].any(axis=1)
        if year_range is not None:
            low, high = year_range
            mask &= (self._years >= low) & (self._years <= high)
        if min_ratings:
            mask &= self._num_ratings >= min_ratings
        return mask

    def _top(self, predicted: np.ndarray, mask: np.ndarray, top: int) -> pd.DataFrame:
        candidates = np.flatnonzero(mask)
        top = max(0, min(int(top), len(candidates)))
        if top == 0:
            return self._movie_table(np.array([], dtype=int), np.array([]))
        scores = predicted[candidates]
        best = np.argpartition(-scores, top - 1)[:top]
        # Ties broken by movieId so results never depend on partition order.
        order = np.lexsort((self._movie_ids(candidates[best]), -scores[best]))
        rows = candidates[best][order]
        return self._movie_table(rows, predicted[rows])

    def _movie_ids(self, rows: np.ndarray) -> np.ndarray:
        return self._display[MOVIE_ID][rows]

    def _movie_table(self, rows: np.ndarray, predicted: np.ndarray | None = None) -> pd.DataFrame:
        """Display rows for ``rows`` (item indices), with predicted stars if given."""
        columns = {name: values.take(rows) for name, values in self._display.items()}
        if predicted is not None:
            columns = {
                **{k: columns[k] for k in (MOVIE_ID, TITLE, YEAR, GENRES)},
                PREDICTED: np.asarray(predicted, dtype="float64"),
                AVE_RATING: columns[AVE_RATING],
                NUM_RATINGS: columns[NUM_RATINGS],
            }
        return pd.DataFrame(columns, copy=False)

    # ------------------------------------------------------------------ existing user

    @property
    def user_ids(self) -> np.ndarray:
        return self.users[USER_ID].to_numpy(dtype="int64")

    def user_vector(self, user_id: int) -> np.ndarray:
        try:
            row = self._user_index.get_loc(int(user_id))
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                f"user {user_id} is not in this model's data "
                f"(ids run {self.user_ids.min()} to {self.user_ids.max()})"
            ) from None
        return self.users.iloc[row][list(USER_VECTOR_COLUMNS)].to_numpy(dtype="float64")

    def for_user(self, user_id: int, top: int = 10) -> UserResult:
        """Predicted vs actual stars for the movies ``user_id`` rated, and top unseen."""
        vector = self.user_vector(user_id)
        predicted = self.predict_stars(vector)
        slot = np.searchsorted(self._rating_user_ids, int(user_id))
        if slot < len(self._rating_user_ids) and self._rating_user_ids[slot] == int(user_id):
            own = self._ratings_sorted.iloc[self._rating_starts[slot] : self._rating_ends[slot]]
        else:
            own = self._ratings_sorted.iloc[0:0]
        rated_rows = self._movie_index.get_indexer(own[MOVIE_ID])
        keep = rated_rows >= 0
        rated_rows, actual = rated_rows[keep], own[RATING].to_numpy(dtype="float64")[keep]
        rated = self._movie_table(rated_rows, predicted[rated_rows])
        rated[ACTUAL] = actual
        rated[ERROR] = rated[PREDICTED] - rated[ACTUAL]
        rated = rated.sort_values([PREDICTED, MOVIE_ID], ascending=[False, True])
        rated = rated.reset_index(drop=True)
        unseen_mask = np.ones(len(self.items), dtype=bool)
        unseen_mask[rated_rows] = False
        errors = rated[ERROR].to_numpy()
        return UserResult(
            user_id=int(user_id),
            rated=rated,
            unseen=self._top(predicted, unseen_mask, top),
            genre_averages=pd.Series(vector[len(USER_NOT_TRAINED) :], index=list(GENRE_LIST)),
            rmse=float(np.sqrt(np.mean(errors**2))) if len(errors) else float("nan"),
            mae=float(np.mean(np.abs(errors))) if len(errors) else float("nan"),
        )

    def user_summary(self) -> pd.DataFrame:
        """One row per user: id, rating count and average (stars)."""
        return self.users[[USER_ID, RATING_COUNT, RATING_AVE]].astype(
            {USER_ID: "int64", RATING_COUNT: "int64"}
        )

    # ------------------------------------------------------------------ similar movies

    def movie_row(self, movie_id: int) -> int:
        try:
            return int(self._movie_index.get_loc(int(movie_id)))
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"movie {movie_id} is not among this model's movies") from None

    def title_of(self, movie_id: int) -> str:
        return str(self.items[TITLE].iat[self.movie_row(movie_id)])

    def find_movie(self, query: str | int) -> int:
        """A movieId from an id or a title, matched case-insensitively.

        An exact title wins; else a unique title that starts with or contains the
        query. Ambiguous or unknown queries raise UsageError listing close matches.
        """
        text = str(query).strip()
        if re.fullmatch(r"\d+", text) and int(text) in self._movie_index:
            return int(text)
        lowered = text.lower()
        titles = self._title_lower
        without_year = np.array([re.sub(r"\s*\(\d{4}\)$", "", t) for t in titles])
        for matches in (
            np.flatnonzero((titles == lowered) | (without_year == lowered)),
            np.flatnonzero(np.char.startswith(titles.astype(str), lowered)),
            np.flatnonzero(np.char.find(titles.astype(str), lowered) >= 0),
        ):
            if len(matches) == 1:
                return int(self.items[MOVIE_ID].iat[matches[0]])
            if len(matches) > 1:
                names = "; ".join(self.items[TITLE].iloc[matches[:8]])
                raise UsageError(f"{text!r} matches {len(matches)} movies: {names}")
        close = difflib.get_close_matches(lowered, list(titles), n=5, cutoff=0.5)
        hint = f"; close matches: {'; '.join(close)}" if close else ""
        raise UsageError(f"no movie titled {text!r} among this model's movies{hint}")

    def similar(self, movie_id: int, k: int = 10) -> pd.DataFrame:
        """The ``k`` nearest movies by squared distance between item embeddings."""
        row = self.movie_row(movie_id)
        distance = self._squared_distances(np.array([row]))[0]
        distance[row] = np.inf
        k = max(0, min(int(k), len(distance) - 1))
        nearest = np.argpartition(distance, k - 1)[:k] if k else np.array([], dtype=int)
        nearest = nearest[np.lexsort((self._movie_ids(nearest), distance[nearest]))]
        table = self._movie_table(nearest)[[MOVIE_ID, TITLE, YEAR, GENRES]]
        table[DISTANCE] = distance[nearest]
        return table

    def _squared_distances(self, rows: np.ndarray) -> np.ndarray:
        """[len(rows), n_items] squared Euclidean distances, clipped at 0."""
        cross = self.item_embeddings[rows] @ self.item_embeddings.T
        distance = self._embedding_sq[rows, None] + self._embedding_sq[None, :] - 2.0 * cross
        return np.maximum(distance, 0.0, out=distance)

    def nearest_table(self, block: int = 2048) -> pd.DataFrame:
        """Every movie's nearest neighbour (the lab's table), in blocks of rows.

        For a fixed row i, argmin_j ‖a_i − a_j‖² = argmin_j (‖a_j‖² − 2 a_i·a_j), so each
        block costs one matrix product and one in-place pass.
        """
        n = len(self.items)
        nearest = np.empty(n, dtype=np.int64)
        best = np.empty(n, dtype=np.float64)
        for start in range(0, n, block):
            rows = np.arange(start, min(start + block, n))
            partial = self.item_embeddings[rows] @ self._minus_two_embeddings_t
            partial += self._embedding_sq[None, :]
            partial[np.arange(len(rows)), rows] = np.inf
            nearest[rows] = np.argmin(partial, axis=1)
            found = partial[np.arange(len(rows)), nearest[rows]] + self._embedding_sq[rows]
            best[rows] = np.maximum(found, 0.0)
        titles, genres = self._display[TITLE], self._display[GENRES]
        return pd.DataFrame(
            {
                "movie1": titles,
                "genres1": genres,
                "movie2": titles.take(nearest),
                "genres2": genres.take(nearest),
                DISTANCE: best,
            }
        )
