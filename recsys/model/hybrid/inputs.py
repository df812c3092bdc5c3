"""The hybrid user tower's inputs, in numpy: what a user's ratings and genre stars
become before the tower (``user_inputs``, ``genre_dense``), and the fixed columns of the
item side of the ranking (``item_side``). Used by training and by serving alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.model.hybrid.layout import DENSE

CENTER = 3.5  # stars: genre ratings and a user's mean are fed centred here
SHRINK = 15.0  # ratings of prior weight in the user offset, as the bias baseline's


@dataclass(frozen=True)
class UserInputs:
    """The user tower's inputs, one row per user.

    dense: [n, 31] float32 (``layout.DENSE``). plain: [n, n_items] sparse pooling
    weights (1/k over the k pooled movies). like: the same pattern, weights (stars −
    the user's mean)/k.
    """

    dense: np.ndarray
    plain: sparse.csr_matrix
    like: sparse.csr_matrix


def genre_dense(
    genre_stars: np.ndarray, mean: np.ndarray, count: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """[n, 31] the dense inputs (``layout.DENSE``): (stars − 3.5)·rated and rated per
    genre (0 stars = not rated), the mean stars − 3.5, log(1 + ratings) and the shrunk
    offset against the item baseline."""
    rated = (genre_stars > 0).astype("float32")
    dense = np.empty((len(genre_stars), DENSE.width), dtype="float32")
    dense[:, DENSE.centred] = (genre_stars - CENTER) * rated
    dense[:, DENSE.rated] = rated
    dense[:, DENSE.mean] = (mean - CENTER)[:, None]
    dense[:, DENSE.log_count] = np.log1p(count)[:, None]
    dense[:, DENSE.offset] = offset[:, None]
    return dense


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


def rating_codes(ratings, index) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(user codes 0..n_users-1 in userId order, catalogue rows, stars, n_users) of a
    ratings frame (userId, movieId, rating) over a catalogue ``index`` (movieId → row).
    ValueError when a rating's movie is not in the catalogue."""
    users = np.unique(ratings[USER_ID].to_numpy("int64"), return_inverse=True)[1]
    rows = index.get_indexer(ratings[MOVIE_ID].to_numpy("int64"))
    if (rows < 0).any():
        raise ValueError("a rating refers to a movie outside the catalogue")
    n_users = int(users.max()) + 1 if len(users) else 0
    return users.reshape(-1), rows, ratings[RATING].to_numpy("float64"), n_users


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


def genre_deviation(dense):
    """[n, 14] (genre stars − the user's mean) where rated, 0 elsewhere, from the dense
    inputs (``layout.DENSE``): what the rating head's genre term multiplies by a learned
    weight per genre and the movie's genre flags. Slicing and arithmetic only, so the
    same function serves numpy arrays (serving) and Keras tensors (the user tower)."""
    return dense[:, DENSE.centred] - dense[:, DENSE.rated] * dense[:, DENSE.mean]


def item_side(v: np.ndarray, counts: np.ndarray, flags: np.ndarray, k: int) -> np.ndarray:
    """[n, d + 15 + k] the item side of the ranking dot product: [v, log(1 + n), f, 0]
    (the user's k rating dims take no part in the ranking)."""
    columns = [v, np.log1p(counts)[:, None], flags, np.zeros((len(v), k))]
    return np.concatenate(columns, axis=1).astype("float32")
