"""The two networks as the evaluation scores them: trained here, run in numpy."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from recsys.columns import ITEM_VECTOR_COLUMNS, MOVIE_ID, RATING, USER_ID, USER_VECTOR_COLUMNS
from recsys.config import HYBRID, TWO_TOWER, HybridConfig, TrainConfig
from recsys.evaluation.protocols import EvaluationData
from recsys.model.hybrid.content import build_content
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.towers import Towers


class TwoTowerScorer:
    """The trained two-tower model, scored in numpy from its towers' weights.

    Embeddings are computed once for every known user and candidate movie, from the
    training-side vectors; a prediction is their dot product (scaled [-1, 1] units),
    turned into stars by the training scalers.
    """

    name = TWO_TOWER
    predicts_ratings = True

    def __init__(
        self, weights: Mapping[str, np.ndarray], data: EvaluationData, fit_seconds: float = 0.0
    ):
        self.fit_seconds = fit_seconds
        training = data.training
        towers = Towers(weights)
        user_vecs = training.users[list(USER_VECTOR_COLUMNS)].to_numpy("float64")
        item_vecs = training.items[list(ITEM_VECTOR_COLUMNS)].to_numpy("float64")
        self.user_embeddings_ = towers.users(data.scalers.user_inputs(user_vecs))  # [n_users, 32]
        self.item_embeddings_ = towers.items(data.scalers.item_inputs(item_vecs))  # [n_items, 32]
        self.user_index_ = pd.Index(training.users[USER_ID].astype("int64"))
        self.movie_index_ = pd.Index(training.items[MOVIE_ID].astype("int64"))
        self.scalers = data.scalers

    def _codes(self, user_ids, movie_ids) -> tuple[np.ndarray, np.ndarray]:
        users = self.user_index_.get_indexer(np.asarray(user_ids).reshape(-1).astype("int64"))
        movies = self.movie_index_.get_indexer(np.asarray(movie_ids).reshape(-1).astype("int64"))
        if (users < 0).any() or (movies < 0).any():
            raise ValueError("two_tower: a user or movie has no training-side vector")
        return users, movies

    def predict_scaled(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predictions in scaled [-1, 1] units for aligned (user, movie) pairs."""
        users, movies = self._codes(user_ids, movie_ids)
        products = self.user_embeddings_[users] * self.item_embeddings_[movies]
        return products.sum(axis=1, dtype="float64")

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predicted stars."""
        return self.scalers.unscale_target(self.predict_scaled(user_ids, movie_ids))

    def scores(self, user_ids, movie_ids) -> np.ndarray:
        """[n_users, n_movies] predicted stars (the unscaling is monotone)."""
        users, movies = self._codes(user_ids, movie_ids)
        scaled = self.user_embeddings_[users] @ self.item_embeddings_[movies].T
        return self.scalers.unscale_target(scaled)


def fit_two_tower(
    data: EvaluationData,
    config: TrainConfig,
    on_epoch: Callable[[int, int], None] | None = None,
) -> TwoTowerScorer:
    """Train on ``data``'s training rows and wrap the result. Imports TensorFlow.

    ``on_epoch(epoch, planned)`` is called after each epoch (epoch counts from 1).
    """
    from recsys.model.lab import network as two_tower

    def progress(epoch: float, planned: float, _text: str = "") -> None:
        if on_epoch is not None:
            on_epoch(int(epoch), int(planned))

    fitted = two_tower.fit(data.user_x, data.item_x, data.y_scaled, config, progress=progress)
    return TwoTowerScorer(two_tower.tower_weights(fitted.model), data, fitted.seconds)


class HybridScorer:
    """The hybrid model as the evaluation scores it, in numpy.

    Users are represented by their training-side ratings (``history``: userId, movieId,
    rating), which for a cold-start user are the movies they picked; ``scores`` are the
    ranking scores, ``predict`` the rating head's stars.
    """

    name = HYBRID
    predicts_ratings = True

    def __init__(self, params: HybridParams, history: pd.DataFrame, fit_seconds: float = 0.0):
        self.params, self.fit_seconds = params, fit_seconds
        users, ids = pd.factorize(history[USER_ID].to_numpy("int64"), sort=True)
        self.user_index_ = pd.Index(np.asarray(ids, "int64"))
        movie_ids, stars = history[MOVIE_ID].to_numpy(), history[RATING].to_numpy("float64")
        self.user_vecs_, self.user_bias_ = params.histories(users, movie_ids, stars, len(ids))
        rows = params.index.get_indexer(np.asarray(movie_ids, "int64"))
        known = rows >= 0  # the user codes, catalogue rows and stars of the ratings
        self.history_ = (users[known], rows[known], stars[known])

    def _codes(self, user_ids, movie_ids) -> tuple[np.ndarray, np.ndarray]:
        users = self.user_index_.get_indexer(np.asarray(user_ids).reshape(-1).astype("int64"))
        rows = self.params.index.get_indexer(np.asarray(movie_ids).reshape(-1).astype("int64"))
        if (users < 0).any() or (rows < 0).any():
            raise ValueError("hybrid: a user has no history or a movie is not in the catalogue")
        return users, rows

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predicted stars for aligned (user, movie) pairs."""
        users, rows = self._codes(user_ids, movie_ids)
        return self.params.pair_stars(self.user_vecs_[users], self.user_bias_[users], rows)

    def scores(self, user_ids, movie_ids) -> np.ndarray:
        """[n_users, n_movies] ranking scores, higher first."""
        users, rows = self._codes(user_ids, movie_ids)
        if self.params.neighbours is None:
            return self.params.rank_scores(self.user_vecs_[users], rows)
        # The item-to-item term from each asked user's own ratings, in the asked order.
        at = np.full(len(self.user_index_), -1, dtype="int64")
        at[users] = np.arange(len(users))
        codes, rated, stars = self.history_
        mine = at[codes] >= 0
        history = (at[codes[mine]], rated[mine], stars[mine])
        return self.params.ranks_with_histories(self.user_vecs_[users], history, rows)


def fit_hybrid(
    data: EvaluationData,
    movies: pd.DataFrame,
    tags: pd.DataFrame | None,
    config: HybridConfig,
    on_epoch: Callable[[int, int], None] | None = None,
) -> HybridScorer:
    """Train the hybrid model on ``data.network_ratings`` over every movie of ``movies``,
    with tags of held-out pairs dropped. Imports TensorFlow."""
    from recsys.model.hybrid import network as hybrid_network

    def progress(epoch: float, planned: float, _text: str = "") -> None:
        if on_epoch is not None:
            on_epoch(int(epoch), int(planned))

    content = build_content(movies, tags, config.min_token_df, exclude=data.test_ratings)
    params, _, history = hybrid_network.fit_hybrid(
        data.network_ratings, content, config, progress=progress
    )
    return HybridScorer(params, data.train_ratings, history["seconds"])
