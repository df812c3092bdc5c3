"""The hybrid two-tower model in numpy: its user inputs and its serving math.

No TensorFlow here: training (``recsys.model.hybrid_network``) fits the towers and
hands back a :class:`HybridParams`; serving and the evaluation run it in numpy.

Scores, for a user vector ``u`` [d] and movie ``i``:
- ranking: ``u·v_i + p_i + β·log(1 + n_i)``, where ``p_i`` is learned and ``n_i`` is
  the movie's number of training ratings (a popularity prior, β = ``pop_prior``);
- stars: ``μ + b_u + b_i + α·u·v_i``, where ``b_i`` includes the classic item bias.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.columns import GENRE_LIST
from recsys.genres import validate_genre_ratings
from recsys.model.towers import USER_TOWER, weight_key

CENTER = 3.5  # stars: genre ratings and a user's mean are fed centred here
N_GENRES = len(GENRE_LIST)
N_DENSE = 2 * N_GENRES + 3  # centred genre stars, rated flags, mean, log count, offset
SHRINK = 15.0  # ratings of prior weight in the user offset, as the bias baseline's
STAR_RANGE = (0.5, 5.0)


@dataclass(frozen=True)
class UserInputs:
    """The user tower's inputs, one row per user.

    dense: [n, 31] float32. plain: [n, n_items] sparse pooling weights (1/k over the k
    pooled movies). like: the same pattern, weights (stars − the user's mean)/k.
    """

    dense: np.ndarray
    plain: sparse.csr_matrix
    like: sparse.csr_matrix


def genre_dense(
    genre_stars: np.ndarray, mean: np.ndarray, count: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """[n, 31]: (stars − 3.5)·rated and rated per genre (0 stars = not rated), the mean
    stars − 3.5, log(1 + ratings) and the shrunk offset against the item baseline."""
    rated = (genre_stars > 0).astype("float32")
    columns = [
        (genre_stars - CENTER) * rated,
        rated,
        (mean - CENTER)[:, None],
        np.log1p(count)[:, None],
        offset[:, None],
    ]
    return np.concatenate(columns, axis=1).astype("float32")


def user_inputs(
    users: np.ndarray,
    items: np.ndarray,
    stars: np.ndarray,
    n_users: int,
    flags: np.ndarray,
    baseline: tuple[float, np.ndarray],
    pooled: np.ndarray | None = None,
    genre_override: np.ndarray | None = None,
) -> UserInputs:
    """Vectorised inputs from ratings (user code, catalogue row, stars).

    flags: [n_items, 14] genre flags. baseline: (μ, b⁰ [n_items]) in stars, for the
    offset feature. Genre ratings and the mean come from all the given ratings; only
    those with ``pooled`` True (default all) feed the pools. genre_override [n, 14]:
    genre ratings set by hand, in stars (0 = use the ratings' own average).
    """
    n_items = flags.shape[0]
    shape = (n_users, n_items)
    stars = np.asarray(stars, "float64")
    count = np.bincount(users, minlength=n_users).astype("float64")
    total = np.bincount(users, weights=stars, minlength=n_users)
    star_matrix = sparse.csr_matrix((stars, (users, items)), shape=shape)
    one_matrix = sparse.csr_matrix((np.ones_like(stars), (users, items)), shape=shape)
    genre_sum, genre_count = np.asarray(star_matrix @ flags), np.asarray(one_matrix @ flags)
    genre = np.where(genre_count > 0, genre_sum / np.maximum(genre_count, 1), 0.0)
    if genre_override is not None:
        genre = np.where(genre_override > 0, genre_override, genre)
    set_genre = genre > 0
    genre_mean = (genre * set_genre).sum(1) / np.maximum(set_genre.sum(1), 1)
    fallback = np.where(set_genre.any(1), genre_mean, CENTER)
    mean = np.where(count > 0, total / np.maximum(count, 1), fallback)
    pooled = np.ones(len(users), dtype=bool) if pooled is None else pooled
    pool_users, pool_items, pool_stars = users[pooled], items[pooled], stars[pooled]
    n_pooled = np.bincount(pool_users, minlength=n_users).astype("float64")
    weight = 1.0 / np.maximum(n_pooled[pool_users], 1.0)
    plain = sparse.csr_matrix((weight, (pool_users, pool_items)), shape=shape, dtype="float32")
    like_weight = (pool_stars - mean[pool_users]) * weight
    like = sparse.csr_matrix((like_weight, (pool_users, pool_items)), shape=shape, dtype="float32")
    mu, item_bias = baseline
    residual = stars - mu - item_bias[items]
    offset = np.bincount(users, weights=residual, minlength=n_users) / (count + SHRINK)
    return UserInputs(genre_dense(genre, mean, count, offset), plain, like)


def item_baseline_bias(
    users: np.ndarray, items: np.ndarray, stars: np.ndarray, n_users: int, n_items: int
) -> tuple[float, np.ndarray]:
    """(μ, b⁰ [n_items]): the classic regularised item biases (stars); 0 for unrated."""
    mu = float(np.mean(stars))
    residual = stars - mu
    n_user = np.bincount(users, minlength=n_users)
    n_item = np.bincount(items, minlength=n_items)
    user_bias = np.zeros(n_users)
    for _ in range(10):
        item_bias = np.bincount(items, residual - user_bias[users], n_items) / (10.0 + n_item)
        user_bias = np.bincount(users, residual - item_bias[items], n_users) / (15.0 + n_user)
    return mu, item_bias


@dataclass(frozen=True)
class HybridParams:
    """A trained hybrid model as numpy arrays; immutable and thread-safe to share.

    movie_ids: [n] the catalogue. item_vecs: [n, d] v_i. rank_bias: [n] p_i.
    star_bias: [n] b_i (stars, baseline included). counts: [n] training ratings.
    baseline_bias: [n] b⁰_i. flags: [n, 14]. user_layers: ((W1, b1), (W2, b2)) of the
    user tower, [31 + 2d, h] → [h, d + 1]. mu: mean stars; alpha: stars per u·v;
    pop_prior: β.
    """

    movie_ids: np.ndarray
    item_vecs: np.ndarray
    rank_bias: np.ndarray
    star_bias: np.ndarray
    counts: np.ndarray
    baseline_bias: np.ndarray
    flags: np.ndarray
    user_layers: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    mu: float
    alpha: float
    pop_prior: float

    @property
    def dim(self) -> int:
        return int(self.item_vecs.shape[1])

    @property
    def index(self) -> pd.Index:
        return pd.Index(self.movie_ids)

    # ------------------------------------------------------------------ users

    def user_vectors(self, inputs: UserInputs) -> tuple[np.ndarray, np.ndarray]:
        """The user tower: ([n, d] u, [n] b_u in stars)."""
        pools = [inputs.plain @ self.item_vecs, inputs.like @ self.item_vecs]
        x = np.concatenate([inputs.dense, *pools], axis=1).astype("float32")
        (w1, b1), (w2, b2) = self.user_layers
        out = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        return out[:, : self.dim], out[:, self.dim] + inputs.dense[:, -1]

    def histories(self, users: np.ndarray, movie_ids: np.ndarray, stars: np.ndarray, n_users: int):
        """User vectors from ratings: (user codes 0..n_users-1, movie ids, stars).

        Movies outside the catalogue are ignored.
        """
        rows = self.index.get_indexer(np.asarray(movie_ids, "int64"))
        keep = rows >= 0
        inputs = user_inputs(
            np.asarray(users)[keep],
            rows[keep],
            np.asarray(stars, "float64")[keep],
            n_users,
            self.flags,
            (self.mu, self.baseline_bias),
        )
        return self.user_vectors(inputs)

    def new_user(
        self, genre_ratings: Mapping[str, float], rated_movies: Mapping[int, float] | None = None
    ) -> tuple[np.ndarray, float]:
        """A new user from genre stars (0 or absent = not rated) and picked movies
        ({movieId: stars}); no user id and no retraining. Returns (u [d], b_u)."""
        override = np.zeros((1, N_GENRES))
        for genre, stars in validate_genre_ratings(genre_ratings).items():
            override[0, GENRE_LIST.index(genre)] = stars
        picks = dict(rated_movies or {})
        rows = self.index.get_indexer(np.array(list(picks), dtype="int64"))
        stars = np.array(list(picks.values()), dtype="float64")
        keep = rows >= 0
        inputs = user_inputs(
            np.zeros(int(keep.sum()), dtype="int64"),
            rows[keep],
            stars[keep],
            1,
            self.flags,
            (self.mu, self.baseline_bias),
            genre_override=override,
        )
        u, user_bias = self.user_vectors(inputs)
        return u[0], float(user_bias[0])

    # ------------------------------------------------------------------ scores

    def rank_scores(self, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] ranking scores (higher first) for user vectors [n_users, d]."""
        rows = slice(None) if rows is None else rows
        prior = self.pop_prior * np.log1p(self.counts[rows])
        return np.atleast_2d(u) @ self.item_vecs[rows].T + self.rank_bias[rows] + prior

    def stars(self, u: np.ndarray, user_bias, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] predicted stars, clipped to 0.5–5."""
        rows = slice(None) if rows is None else rows
        u = np.atleast_2d(u)
        user_bias = np.reshape(np.asarray(user_bias, "float64"), (-1, 1))
        raw = self.mu + user_bias + self.star_bias[rows] + self.alpha * (u @ self.item_vecs[rows].T)
        return np.clip(raw, *STAR_RANGE)

    def pair_stars(self, u: np.ndarray, user_bias: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n] predicted stars for aligned (user vector, catalogue row) pairs."""
        dots = np.sum(u * self.item_vecs[rows], axis=1)
        raw = self.mu + user_bias + self.star_bias[rows] + self.alpha * dots
        return np.clip(raw, *STAR_RANGE)

    # ------------------------------------------------------------------ storage

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array for ``weights.npz``: the user tower under the shared weight keys."""
        arrays = {
            "movie_ids": self.movie_ids,
            "item_vecs": self.item_vecs,
            "rank_bias": self.rank_bias,
            "star_bias": self.star_bias,
            "counts": self.counts,
            "baseline_bias": self.baseline_bias,
            "flags": self.flags,
            "scalars": np.array([self.mu, self.alpha, self.pop_prior], dtype="float64"),
        }
        for layer, (kernel, bias) in enumerate(self.user_layers, start=1):
            arrays[weight_key(USER_TOWER, layer, "kernel")] = kernel
            arrays[weight_key(USER_TOWER, layer, "bias")] = bias
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> HybridParams:
        """The inverse of :meth:`to_arrays`; raises KeyError or ValueError if malformed."""
        n = len(arrays["movie_ids"])
        layers = tuple(
            (
                np.asarray(arrays[weight_key(USER_TOWER, i, "kernel")], "float32"),
                np.asarray(arrays[weight_key(USER_TOWER, i, "bias")], "float32"),
            )
            for i in (1, 2)
        )
        item_vecs = np.asarray(arrays["item_vecs"], "float32")
        per_item = ("rank_bias", "star_bias", "counts", "baseline_bias", "flags")
        if item_vecs.shape[0] != n or any(len(arrays[k]) != n for k in per_item):
            raise ValueError("hybrid arrays disagree on the number of movies")
        if layers[0][0].shape[0] != N_DENSE + 2 * item_vecs.shape[1]:
            raise ValueError("the user tower does not fit the item vectors")
        mu, alpha, pop_prior = (float(x) for x in arrays["scalars"])
        params = cls(
            movie_ids=np.asarray(arrays["movie_ids"], "int64"),
            item_vecs=item_vecs,
            rank_bias=np.asarray(arrays["rank_bias"], "float64"),
            star_bias=np.asarray(arrays["star_bias"], "float64"),
            counts=np.asarray(arrays["counts"], "int64"),
            baseline_bias=np.asarray(arrays["baseline_bias"], "float64"),
            flags=np.asarray(arrays["flags"], "float32"),
            user_layers=layers,
            mu=mu,
            alpha=alpha,
            pop_prior=pop_prior,
        )
        for array in (params.movie_ids, params.item_vecs, params.rank_bias, params.star_bias):
            array.setflags(write=False)
        return params
