"""The fold-in: how a user's own ratings correct the hybrid model's stars at serving.

No TensorFlow, no user table: from the tower's user vector and the user's ratings (or a
new user's picks), closed-form arithmetic. ``recsys.model.hybrid.stars`` fits the
movies' side to it after training; :class:`~recsys.model.hybrid.params.HybridParams` applies it
(``FoldInModel``: what it reads of the model).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Protocol

import numpy as np
from scipy.linalg.lapack import dposv

from recsys.model.hybrid.layout import ServedLayout


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

    @classmethod
    def from_array(cls, values) -> FoldIn:
        """The inverse of :meth:`to_array`; ValueError when it does not fit."""
        values = np.asarray(values, dtype="float64").reshape(-1)
        if len(values) != len(fields(cls)) or not np.isfinite(values).all():
            raise ValueError("the fold-in's settings do not fit this model")
        return cls(*values.tolist())


def ridge_by_group(
    groups: np.ndarray, n_groups: int, x: np.ndarray, y: np.ndarray, ridge: float
) -> np.ndarray:
    """[n_groups, m]: per group g, argmin_w Σ (y − x·w)² + ridge·|w|² over its rows
    (x [n, m], y [n]); 0 for a group without rows (``ridge_fit`` per group)."""
    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    out = np.zeros((n_groups, x.shape[1]))
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    for g in np.flatnonzero(np.diff(bounds)):
        at = order[bounds[g] : bounds[g + 1]]
        out[g] = ridge_fit(x[at], y[at], ridge)
    return out


def ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """[m] argmin_w Σ (y − x·w)² + ridge·|w|² (x [n, m] float64, y [n], ridge > 0); in
    its dual form (an n × n system) when there are fewer rows than columns."""
    n, m = x.shape
    if n < m:
        gram = x @ x.T
        gram.flat[:: n + 1] += ridge
        return x.T @ _solve_spd(gram, y)
    gram = x.T @ x
    gram.flat[:: m + 1] += ridge
    return _solve_spd(gram, x.T @ y)


def _solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a⁻¹·b for a symmetric positive definite ``a``: LAPACK's Cholesky solve, called
    directly (2 µs for a new user's 5 × 5, where ``np.linalg.solve`` spends 19 µs)."""
    _, solution, info = dposv(a, b)
    if info != 0:  # not positive definite after all (a zero ridge): least squares
        return np.linalg.lstsq(a, b, rcond=None)[0]
    return solution


class FoldInModel(Protocol):
    """What the fold-in reads of a model: :class:`~recsys.model.hybrid.params.HybridParams`
    is one. (A protocol, so that this module need not import the one that applies it.)"""

    mu: float
    star_bias: np.ndarray
    fold_in: FoldIn | None

    @property
    def dim(self) -> int: ...

    @property
    def star_dim(self) -> int: ...

    @property
    def width(self) -> int: ...

    @property
    def taste_vecs(self) -> np.ndarray: ...

    def pair_dots(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray: ...

    def star_dots(self, u: np.ndarray, rows) -> np.ndarray: ...


def apply_fold_in(
    params: FoldInModel,
    u: np.ndarray,
    user_bias: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    stars: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The tower's (u [n, width], b_u [n]) with the model's :class:`FoldIn` applied from
    the users' own ratings (user codes, catalogue rows, stars); unchanged when the model
    has none."""
    if params.fold_in is None:
        return u, user_bias
    if len(u) == 1:
        return _fold_in_one(params, u, user_bias, rows, stars)
    return _fold_in_many(params, u, user_bias, users, rows, stars)


def _fold_in_many(
    params: FoldInModel,
    u: np.ndarray,
    user_bias: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    stars: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The tower's (u [n, width], b_u [n]) with the :class:`FoldIn` applied from the
    users' own ratings (user codes, catalogue rows, stars): u gains the stars' own
    user block [a'·u_d (d), a'·r_u (k), a'·z_u (d)] (a' the dot weight) and b_u
    becomes the blended bias."""
    fold, n_users = params.fold_in, len(u)
    d, k = params.dim, params.star_dim
    stars = np.asarray(stars, "float64")
    residual = stars - (
        params.mu + user_bias[users] + params.star_bias[rows] + params.pair_dots(u[users], rows)
    )
    count = np.bincount(users, minlength=n_users).astype("float64")
    shift = np.bincount(users, residual, n_users) / (count + fold.bias_shrink)
    z = ridge_by_group(users, n_users, params.taste_vecs[rows], residual - shift[users], fold.ridge)
    z *= (count / (count + fold.confidence))[:, None]
    plain = np.bincount(users, stars - params.mu - params.star_bias[rows], n_users)
    plain /= count + fold.few_shrink
    trust = np.where(count > 0, count / (count + fold.few_ratings), 1.0)
    bias = trust * (user_bias + shift) + (1.0 - trust) * plain
    weight = (trust + (1.0 - trust) * fold.few_dots)[:, None]
    at = ServedLayout(d, k)
    block = [u, weight * u[:, at.taste], weight * u[:, at.stars], weight * z]
    return np.concatenate(block, axis=1).astype("float32"), bias


def _fold_in_one(
    params: FoldInModel, u: np.ndarray, user_bias: np.ndarray, rows: np.ndarray, stars
) -> tuple[np.ndarray, np.ndarray]:
    """``_fold_in_many`` for one user (a new user's picks): the same arithmetic on
    a handful of rows, without grouping (it runs on every New user request)."""
    fold, d, k = params.fold_in, params.dim, params.star_dim
    n, one, bias = len(rows), u[0], float(user_bias[0])
    stars = np.asarray(stars, "float64")
    taste = params.taste_vecs[rows]
    plain = stars - params.mu - params.star_bias[rows]
    residual = plain - bias - params.star_dots(u, rows)[0]
    shift = residual.sum() / (n + fold.bias_shrink)
    z = ridge_fit(np.asarray(taste, "float64"), residual - shift, fold.ridge) if n else np.zeros(d)
    z *= n / (n + fold.confidence)
    trust = n / (n + fold.few_ratings) if n else 1.0
    blended = trust * (bias + shift) + (1.0 - trust) * plain.sum() / (n + fold.few_shrink)
    weight = trust + (1.0 - trust) * fold.few_dots
    at = ServedLayout(d, k)
    block = np.concatenate([one, weight * one[at.taste], weight * one[at.stars], weight * z])
    return block[None, :].astype("float32"), np.array([blended])
