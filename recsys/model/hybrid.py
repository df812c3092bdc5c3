"""The hybrid two-tower model in numpy: its user inputs and its serving math.

No TensorFlow here: training (``recsys.model.hybrid_network``) fits the towers and
hands back a :class:`HybridParams`; serving and the evaluation run it in numpy.

Both towers' outputs are wider than the embedding width d. The user tower gives
``[u (d), π_u, g_u (14)]``: u the taste vector, π_u = β + softplus(·) the user's own
weight on popularity, g_u = softplus(·)·w ⊙ c_u the genre match (w learned per genre,
c_u the centred genre stars, 0 where not rated). The item side is ``[v_i (d),
log(1 + n_i), f_i (14)]``: v_i, the log count of training ratings and the genre flags.

- ranking: ``[u, π_u, g_u]·[v_i, log(1 + n_i), f_i] + p_i`` (a dot product plus an item
  bias), so a user with little evidence can lean on the genres they set, not on
  popularity;
- stars: ``μ + b_u + b_i + α·u·v_i + r_u·q_i``, where ``b_i`` includes the classic item
  bias and r_u (the user's last k outputs, 0-weighted in the ranking), q_i are k-wide
  rating vectors of the two towers. After training, ``recsys.model.hybrid_stars`` refits
  the movies' side in closed form (α·v_i becomes α·v_i + w_i) and a :class:`FoldIn`
  corrects each user's stars from their own ratings (a shift and a vector z_u that adds
  z_u·v_i), computed at serving from the ratings or picks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.columns import GENRE_LIST
from recsys.genres import validate_genre_ratings
from recsys.model.towers import USER_TOWER, weight_key

CENTER = 3.5  # stars: genre ratings and a user's mean are fed centred here
N_GENRES = len(GENRE_LIST)
N_DENSE = 2 * N_GENRES + 3  # centred genre stars, rated flags, mean, log count, offset
N_HEAD = 3  # the user MLP's outputs after u: b_u, raw π_u, raw genre strength
_GENRE_COLUMN = {genre: j for j, genre in enumerate(GENRE_LIST)}
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


def genre_averages(stars: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """[14] the average stars per genre of a few ratings (0 where none of them has it).

    stars: [k] in stars; flags: [k, 14] the rated movies' genre flags.
    """
    flags = np.asarray(flags, "float64")
    counts = flags.sum(axis=0)
    return np.where(counts > 0, (np.asarray(stars, "float64") @ flags) / np.maximum(counts, 1), 0.0)


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


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def genre_deviation(dense: np.ndarray) -> np.ndarray:
    """[n, 14] (genre stars − the user's mean) where rated, 0 elsewhere, from the dense
    inputs [(g − 3.5)·rated, rated, mean − 3.5, ...]: what the rating head's genre term
    multiplies by a learned weight per genre and the movie's genre flags."""
    centred, rated = dense[:, :N_GENRES], dense[:, N_GENRES : 2 * N_GENRES]
    return centred - rated * dense[:, 2 * N_GENRES : 2 * N_GENRES + 1]


def item_side(v: np.ndarray, counts: np.ndarray, flags: np.ndarray, k: int) -> np.ndarray:
    """[n, d + 15 + k] the item side of the ranking dot product: [v, log(1 + n), f, 0]
    (the user's k rating dims take no part in the ranking)."""
    columns = [v, np.log1p(counts)[:, None], flags, np.zeros((len(v), k))]
    return np.concatenate(columns, axis=1).astype("float32")


@dataclass(frozen=True)
class FoldIn:
    """How a user's own ratings correct the stars, in closed form at serving time (no
    user id, no retraining; a new user's picks are their ratings).

    Of the residuals r of the user's n ratings: c_u = Σr / (n + ``bias_shrink``) shifts
    b_u; z_u, the ridge regression (``ridge``) of r − c_u on the rated movies' v_i,
    scaled by n / (n + ``confidence``), adds z_u·v_i. A user of few ratings leans on
    plain arithmetic instead: with a = n / (n + ``few_ratings``), the user's bias is
    a·(b_u + c_u) + (1 − a)·(the mean of stars − μ − b_i, shrunk by ``few_shrink``), and
    every dot product of the stars weighs a + (1 − a)·``few_dots``.
    """

    bias_shrink: float = 15.0
    ridge: float = 10.0
    confidence: float = 20.0
    few_ratings: float = 10.0
    few_shrink: float = 5.0
    few_dots: float = 0.5

    def to_array(self) -> np.ndarray:
        return np.array(astuple(self), dtype="float64")


def ridge_by_group(
    groups: np.ndarray, n_groups: int, x: np.ndarray, y: np.ndarray, ridge: float
) -> np.ndarray:
    """[n_groups, m]: per group g, argmin_w Σ (y − x·w)² + ridge·|w|² over its rows
    (x [n, m], y [n]); 0 for a group without rows. A group of fewer rows than m is
    solved in its dual form (a k × k system)."""
    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    m = x.shape[1]
    out = np.zeros((n_groups, m))
    if n_groups == 1:  # one user or movie: no grouping to do
        spans = [(0, np.arange(len(y)))] if len(y) else []
    else:
        order = np.argsort(groups, kind="stable")
        bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
        spans = [(g, order[bounds[g] : bounds[g + 1]]) for g in np.flatnonzero(np.diff(bounds))]
    for g, at in spans:
        xg, yg = x[at], y[at]
        if len(at) < m:
            out[g] = xg.T @ np.linalg.solve(xg @ xg.T + ridge * np.eye(len(at)), yg)
        else:
            out[g] = np.linalg.solve(xg.T @ xg + ridge * np.eye(m), xg.T @ yg)
    return out


@dataclass(frozen=True)
class HybridParams:
    """A trained hybrid model as numpy arrays; immutable and thread-safe to share.

    movie_ids: [n] the catalogue. item_vecs: [n, d + 15 + k] the item side [v_i, log(1 +
    n_i), f_i, 0]. star_vecs: [n, k] the rating head's item side: learned vectors q_i,
    then the genre flags f_i (its last 14 columns), which the user's genre deviations
    weigh (``star_genre_weight``).
    rank_bias: [n] p_i. star_bias: [n] b_i (stars, baseline included).
    counts: [n] training ratings. baseline_bias: [n] b⁰_i. flags: [n, 14].
    user_layers: ((W1, b1), (W2, b2)) of the user tower, [31 + 2d, h] → [h, d + 3 + k].
    genre_weight: [14] w. mu: mean stars; alpha: stars per u·v; pop_prior: β, the
    least popularity weight.
    """

    movie_ids: np.ndarray
    item_vecs: np.ndarray
    rank_bias: np.ndarray
    star_bias: np.ndarray
    counts: np.ndarray
    baseline_bias: np.ndarray
    flags: np.ndarray
    user_layers: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    genre_weight: np.ndarray
    star_vecs: np.ndarray
    star_genre_weight: np.ndarray
    mu: float
    alpha: float
    pop_prior: float
    star_taste: np.ndarray | None = None
    fold_in: FoldIn | None = None

    @property
    def dim(self) -> int:
        """d, the width of the taste vectors u and v."""
        return int(self.item_vecs.shape[1]) - 1 - N_GENRES - self.star_dim

    @property
    def star_dim(self) -> int:
        """k, the width of the rating head's vectors (the last k of u; star_vecs)."""
        return int(self.star_vecs.shape[1])

    @property
    def width(self) -> int:
        """The tower's user vector width, d + 15 + k (the item side's); a user vector
        with the fold-in carries the stars' block after it (``fold_in_users``)."""
        return int(self.item_vecs.shape[1])

    @cached_property
    def star_items(self) -> np.ndarray:
        """[n, d] s_i, what u·s_i weighs in the stars: α·v_i, plus w_i once the rating
        head is refitted (``recsys.model.hybrid_stars``)."""
        if self.star_taste is not None:
            return self.star_taste
        return np.ascontiguousarray(self.alpha * self.taste_vecs, dtype="float32")

    def _star_parts(self, u: np.ndarray):
        """The user's parts of the stars' dot products and the item arrays they meet:
        the fold-in's block when ``u`` carries one, else the tower's u and r_u."""
        d, k, width = self.dim, self.star_dim, self.width
        if u.shape[1] == width:
            return ((u[:, :d], self.star_items), (u[:, width - k :], self.star_vecs))
        block = u[:, width:]
        return (
            (block[:, :d], self.star_items),
            (block[:, d : d + k], self.star_vecs),
            (block[:, d + k :], self.taste_vecs),
        )

    def _star_dots(self, u: np.ndarray, rows) -> np.ndarray:
        return sum(part @ items[rows].T for part, items in self._star_parts(u))

    @cached_property
    def index(self) -> pd.Index:
        """movieId → catalogue row (built once: a lookup then costs no hashing)."""
        return pd.Index(self.movie_ids)

    @cached_property
    def taste_vecs(self) -> np.ndarray:
        """[n, d] v_i, contiguous: what the user tower pools."""
        return np.ascontiguousarray(self.item_vecs[:, : self.dim])

    # ------------------------------------------------------------------ users

    def user_vectors(self, inputs: UserInputs) -> tuple[np.ndarray, np.ndarray]:
        """The user tower: ([n, d + 15 + k] [u, π_u, g_u, r_u], [n] b_u in stars)."""
        return self._tower(
            inputs.dense, inputs.plain @ self.taste_vecs, inputs.like @ self.taste_vecs
        )

    def _tower(
        self, dense: np.ndarray, plain: np.ndarray, like: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The user MLP and head from dense inputs [n, 31] and the two pools [n, d]."""
        d = self.dim
        x = np.concatenate([dense, plain, like], axis=1).astype("float32")
        (w1, b1), (w2, b2) = self.user_layers
        out = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        pop = self.pop_prior + softplus(out[:, d + 1 : d + 2])
        genre = softplus(out[:, d + 2 : d + 3]) * self.genre_weight * dense[:, :N_GENRES]
        stars_by_genre = self.star_genre_weight * genre_deviation(dense)
        user = np.concatenate([out[:, :d], pop, genre, out[:, d + N_HEAD :], stars_by_genre], 1)
        user = user.astype("float32")
        return user, out[:, d] + dense[:, -1]

    def fold_in_users(
        self,
        u: np.ndarray,
        user_bias: np.ndarray,
        users: np.ndarray,
        rows: np.ndarray,
        stars: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The tower's (u [n, width], b_u [n]) with the :class:`FoldIn` applied from the
        users' own ratings (user codes, catalogue rows, stars): u gains the stars' own
        user block [a'·u_d (d), a'·r_u (k), a'·z_u (d)] (a' the dot weight) and b_u
        becomes the blended bias. Unchanged when the model has no fold-in."""
        if self.fold_in is None:
            return u, user_bias
        if len(u) == 1:
            return self._fold_in_one(u, user_bias, rows, stars)
        fold, n_users = self.fold_in, len(u)
        d, k, width = self.dim, self.star_dim, self.width
        stars = np.asarray(stars, "float64")
        residual = stars - (
            self.mu + user_bias[users] + self.star_bias[rows] + self._pair_dots(u[users], rows)
        )
        count = np.bincount(users, minlength=n_users).astype("float64")
        shift = np.bincount(users, residual, n_users) / (count + fold.bias_shrink)
        z = ridge_by_group(
            users, n_users, self.taste_vecs[rows], residual - shift[users], fold.ridge
        )
        z *= (count / (count + fold.confidence))[:, None]
        plain = np.bincount(users, stars - self.mu - self.star_bias[rows], n_users)
        plain /= count + fold.few_shrink
        trust = np.where(count > 0, count / (count + fold.few_ratings), 1.0)
        bias = trust * (user_bias + shift) + (1.0 - trust) * plain
        weight = (trust + (1.0 - trust) * fold.few_dots)[:, None]
        block = [u, weight * u[:, :d], weight * u[:, width - k : width], weight * z]
        return np.concatenate(block, axis=1).astype("float32"), bias

    def _fold_in_one(self, u, user_bias, rows, stars) -> tuple[np.ndarray, np.ndarray]:
        """``fold_in_users`` for one user (a new user's picks): the same arithmetic on
        a handful of rows, without grouping (it runs on every New user request)."""
        fold, d, k, width = self.fold_in, self.dim, self.star_dim, self.width
        n, one, bias = len(rows), u[0], float(user_bias[0])
        stars = np.asarray(stars, "float64")
        taste = self.taste_vecs[rows]
        dots = self.star_items[rows] @ one[:d] + self.star_vecs[rows] @ one[width - k :]
        plain = stars - self.mu - self.star_bias[rows]
        residual = plain - bias - dots
        shift = residual.sum() / (n + fold.bias_shrink)
        z = ridge_by_group(np.zeros(n, "int64"), 1, taste, residual - shift, fold.ridge)[0]
        z *= n / (n + fold.confidence)
        trust = n / (n + fold.few_ratings) if n else 1.0
        blended = trust * (bias + shift) + (1.0 - trust) * plain.sum() / (n + fold.few_shrink)
        weight = trust + (1.0 - trust) * fold.few_dots
        block = np.concatenate([one, weight * one[:d], weight * one[width - k :], weight * z])
        return block[None, :].astype("float32"), np.array([blended])

    def histories(self, users: np.ndarray, movie_ids: np.ndarray, stars: np.ndarray, n_users: int):
        """User vectors from ratings: (user codes 0..n_users-1, movie ids, stars).

        Movies outside the catalogue are ignored.
        """
        rows = self.index.get_indexer(np.asarray(movie_ids, "int64"))
        keep = rows >= 0
        users, rows = np.asarray(users)[keep], rows[keep]
        stars = np.asarray(stars, "float64")[keep]
        inputs = user_inputs(users, rows, stars, n_users, self.flags, (self.mu, self.baseline_bias))
        u, user_bias = self.user_vectors(inputs)
        return self.fold_in_users(u, user_bias, users, rows, stars)

    def new_user(
        self,
        genre_ratings: Mapping[str, float],
        rated_movies: Mapping[int, float] | None = None,
        unset: Iterable[str] = (),
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """A new user from genre stars (0 or absent = not rated) and picked movies
        ({movieId: stars}); no user id and no retraining. Returns (u [d], b_u).

        ``unset`` genres count as not rated, even where the picks have them (what a
        genre adds to a score: see ``recsys.serving.reasons``). ``rows``: the picks'
        catalogue rows when the caller has looked them up already (-1 = not served).
        """
        genre = np.zeros(N_GENRES)
        for name, stars in validate_genre_ratings(genre_ratings).items():
            genre[_GENRE_COLUMN[name]] = stars
        picks = rated_movies or {}
        count = len(picks)
        if rows is None:
            rows = self.index.get_indexer(np.fromiter(picks, dtype="int64", count=count))
        stars = np.fromiter(picks.values(), dtype="float64", count=count)
        if count and (rows < 0).any():
            stars, rows = stars[rows >= 0], rows[rows >= 0]
        # One user: user_inputs' arithmetic on a handful of rows, without sparse matrices.
        genre = np.where(genre > 0, genre, genre_averages(stars, self.flags[rows]))
        for name in unset:
            genre[_GENRE_COLUMN[name]] = 0.0
        n = len(rows)
        fallback = genre[genre > 0].mean() if (genre > 0).any() else CENTER
        mean = stars.sum() / n if n else fallback
        offset = (stars.sum() - n * self.mu - self.baseline_bias[rows].sum()) / (n + SHRINK)
        dense = genre_dense(genre[None, :], np.array([mean]), np.array([n]), np.array([offset]))
        taste = self.taste_vecs[rows]
        weights = np.stack([np.ones(n), stars - mean]) / max(n, 1)
        plain, like = weights @ taste
        u, user_bias = self._tower(dense, plain[None, :], like[None, :])
        if n:
            u, user_bias = self.fold_in_users(u, user_bias, np.zeros(n, "int64"), rows, stars)
        return u[0], float(user_bias[0])

    # ------------------------------------------------------------------ scores

    def rank_scores(self, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] ranking scores (higher first) for user vectors [n_users, d]."""
        rows = slice(None) if rows is None else rows
        u = np.atleast_2d(u)[:, : self.width]
        return u @ self.item_vecs[rows].T + self.rank_bias[rows]

    def stars(self, u: np.ndarray, user_bias, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] predicted stars, clipped to 0.5–5."""
        rows = slice(None) if rows is None else rows
        user_bias = np.reshape(np.asarray(user_bias, "float64"), (-1, 1))
        dots = self._star_dots(np.atleast_2d(u), rows)
        raw = self.mu + user_bias + self.star_bias[rows] + dots
        return np.clip(raw, *STAR_RANGE)

    def _pair_dots(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n] the stars' dot products for aligned (user vector, catalogue row) pairs."""
        return sum(np.einsum("ij,ij->i", part, items[rows]) for part, items in self._star_parts(u))

    def pair_stars(self, u: np.ndarray, user_bias: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n] predicted stars for aligned (user vector, catalogue row) pairs."""
        raw = self.mu + user_bias + self.star_bias[rows] + self._pair_dots(u, rows)
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
            "genre_weight": self.genre_weight,
            "star_vecs": self.star_vecs,
            "star_genre_weight": self.star_genre_weight,
            "scalars": np.array([self.mu, self.alpha, self.pop_prior], dtype="float64"),
        }
        if self.star_taste is not None:
            arrays["star_taste"] = self.star_taste
        if self.fold_in is not None:
            arrays["fold_in"] = self.fold_in.to_array()
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
        if item_vecs.shape[0] != n or any(len(arrays[key]) != n for key in per_item):
            raise ValueError("hybrid arrays disagree on the number of movies")
        star_vecs = np.asarray(arrays["star_vecs"], "float32")
        k = star_vecs.shape[1]
        d = item_vecs.shape[1] - 1 - N_GENRES - k
        learned = k - N_GENRES  # the rating head's learned dims; the rest are genre flags
        if (
            layers[0][0].shape[0] != N_DENSE + 2 * d
            or layers[1][0].shape[1] != d + N_HEAD + learned
        ):
            raise ValueError("the user tower does not fit the item vectors")
        genre_weight = np.asarray(arrays["genre_weight"], "float32")
        star_genre_weight = np.asarray(arrays["star_genre_weight"], "float32")
        if genre_weight.shape != (N_GENRES,) or star_genre_weight.shape != (N_GENRES,):
            raise ValueError("the genre weights do not fit the genres")
        mu, alpha, pop_prior = (float(x) for x in arrays["scalars"])
        star_taste = None  # absent from a model whose rating head was not refitted
        if "star_taste" in arrays:
            star_taste = np.asarray(arrays["star_taste"], "float32")
            if star_taste.shape != (n, d):
                raise ValueError("the rating head's movie vectors do not fit the movies")
        fold_in = FoldIn(*(float(x) for x in arrays["fold_in"])) if "fold_in" in arrays else None
        params = cls(
            movie_ids=np.asarray(arrays["movie_ids"], "int64"),
            item_vecs=item_vecs,
            rank_bias=np.asarray(arrays["rank_bias"], "float64"),
            star_bias=np.asarray(arrays["star_bias"], "float64"),
            counts=np.asarray(arrays["counts"], "int64"),
            baseline_bias=np.asarray(arrays["baseline_bias"], "float64"),
            flags=np.asarray(arrays["flags"], "float32"),
            user_layers=layers,
            genre_weight=genre_weight,
            star_vecs=star_vecs,
            star_genre_weight=star_genre_weight,
            mu=mu,
            alpha=alpha,
            pop_prior=pop_prior,
            star_taste=star_taste,
            fold_in=fold_in,
        )
        arrays_out = (params.movie_ids, params.item_vecs, params.rank_bias, params.star_bias)
        for array in (*arrays_out, params.genre_weight):
            array.setflags(write=False)
        return params
