"""The item-to-item term of the hybrid ranking: each movie's top-k neighbours, learned in
closed form from who rated what, stored sparse (CSR arrays) in the bundle.

The weights are EASE's (Steck, 2019) over the binary user × movie matrix X of the
training ratings: ``B = I − P·diag(1/diag P)`` with ``P = (XᵀX + λI)⁻¹``, so that a user
who rated movie x scores movie j by B[x, j]. Row x of the table keeps B[x, ·]'s
``top_k`` largest positive weights. The closed form inverts a dense matrix of the movies
it covers, so only the ``max_items`` most-rated movies with at least ``min_count``
ratings take part; the others have an empty row (and no column), which costs them
nothing but the term. At ml-32m's scale (87k movies, at most 20k covered, k = 200) the
table is 20k × 200 × 8 bytes, about 32 MB.

A user's term is Σ over their rated or picked movies of w(stars) × S[movie, ·], with
``w(stars) = (stars − pivot) / (5 − pivot)``: a 5★ pick weighs 1, a pick at the pivot
nothing, a lower one pulls its neighbours down (a dislike).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

NEIGHBOUR_KEYS = ("neighbour_indptr", "neighbour_columns", "neighbour_weights", "neighbour_scalars")
# Chosen on validation users carved from the training side (docs/evaluation.md): EASE's
# λ, the neighbours kept per movie, the term's scale in the ranking score's units, the
# stars that weigh nothing, and the share of the user's popularity weight it replaces.
LAMBDA = 250.0
TOP_K = 200
SCALE = 320.0
PIVOT = 2.5
POPULARITY_RELIEF = 0.15
# The closed form inverts a dense matrix of the movies it covers: at most this many.
MAX_COVERED = 20_000
TOP_STARS = 5.0


@dataclass(frozen=True)
class NeighbourTable:
    """S as CSR arrays over the catalogue's rows, and how a user's ratings weigh it.

    indptr: [n + 1] int64; columns: [nnz] int32, each row's neighbours by weight,
    largest first; weights: [nnz] float32, positive. scale: what the term is multiplied
    by in the ranking score (chosen on validation); pivot: the stars that weigh nothing;
    popularity_relief: the share of a user's popularity weight π_u that the term replaces
    (a user with ratings or picks leans on them rather than on the chart).
    """

    indptr: np.ndarray
    columns: np.ndarray
    weights: np.ndarray
    scale: float = SCALE
    pivot: float = PIVOT
    popularity_relief: float = POPULARITY_RELIEF

    def __post_init__(self) -> None:
        for array in (self.indptr, self.columns, self.weights):
            array.setflags(write=False)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.columns.nbytes + self.weights.nbytes)

    def matrix(self) -> sparse.csr_matrix:
        """S as a [n, n] scipy CSR matrix (sharing the arrays)."""
        n = len(self)
        return sparse.csr_matrix((self.weights, self.columns, self.indptr), shape=(n, n))

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of one movie's neighbours, largest weight first."""
        start, end = self.indptr[row], self.indptr[row + 1]
        return self.columns[start:end], self.weights[start:end]

    def star_weights(self, stars: np.ndarray) -> np.ndarray:
        """w(stars): 1 at 5★, 0 at the pivot, negative below it (a dislike)."""
        return (np.asarray(stars, "float64") - self.pivot) / (TOP_STARS - self.pivot)

    def contributions(self, rows: np.ndarray, stars: np.ndarray, n: int) -> np.ndarray:
        """[len(rows), n] each rated row's share of the term, w(stars) × S[row, ·] × scale
        (a dense block: a new user has a handful of picks)."""
        out = np.zeros((len(rows), n), dtype="float64")
        weights = self.star_weights(stars) * self.scale
        for k, (row, weight) in enumerate(zip(rows, weights, strict=True)):
            columns, values = self.row(int(row))
            out[k, columns] = weight * values
        return out

    def term(self, rows: np.ndarray, stars: np.ndarray) -> np.ndarray:
        """[n] one user's term from their rated rows and stars (a handful: no matrix)."""
        out = np.zeros(len(self), dtype="float64")
        weights = self.star_weights(stars) * self.scale
        for row, weight in zip(rows, weights, strict=True):
            columns, values = self.row(int(row))
            out[columns] += weight * values
        return out

    def terms(self, users: np.ndarray, rows: np.ndarray, stars: np.ndarray, n_users: int):
        """[n_users, n] sparse: every user's term from (user code, row, stars) triples."""
        weights = self.star_weights(stars) * self.scale
        shape = (n_users, len(self))
        per_user = sparse.csr_matrix((weights, (users, rows)), shape=shape)
        return (per_user @ self.matrix()).tocsr()

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "neighbour_indptr": self.indptr,
            "neighbour_columns": self.columns,
            "neighbour_weights": self.weights,
            "neighbour_scalars": np.array(
                [self.scale, self.pivot, self.popularity_relief], dtype="float64"
            ),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], n: int) -> NeighbourTable | None:
        """The table of ``arrays``, None when they hold none (a bundle from before it);
        ValueError when it is malformed or does not fit the ``n`` movies."""
        present = [key in arrays for key in NEIGHBOUR_KEYS]
        if not any(present):
            return None
        if not all(present):
            raise ValueError("the neighbour table is incomplete")
        indptr = np.asarray(arrays["neighbour_indptr"], "int64")
        columns = np.asarray(arrays["neighbour_columns"], "int32")
        weights = np.asarray(arrays["neighbour_weights"], "float32")
        scalars = np.asarray(arrays["neighbour_scalars"], "float64")
        nnz = len(columns)
        if (
            indptr.shape != (n + 1,)
            or indptr[0] != 0
            or indptr[-1] != nnz
            or (np.diff(indptr) < 0).any()
            or weights.shape != (nnz,)
            or (nnz and (columns.min() < 0 or columns.max() >= n))
            or scalars.shape != (3,)
            or not np.isfinite(scalars).all()
            or scalars[1] >= TOP_STARS
        ):
            raise ValueError("the neighbour table does not fit the movies")
        scale, pivot, relief = (float(x) for x in scalars)
        return cls(indptr, columns, weights, scale, pivot, relief)


def covered_items(counts: np.ndarray, min_count: int, max_items: int) -> np.ndarray:
    """The rows the closed form covers: at least ``min_count`` ratings, the
    ``max_items`` most-rated (ties by row), in row order."""
    eligible = np.flatnonzero(counts >= min_count)
    if len(eligible) > max_items:
        order = np.lexsort((eligible, -counts[eligible]))[:max_items]
        eligible = np.sort(eligible[order])
    return eligible


def ease_weights(
    users: np.ndarray, items: np.ndarray, n_users: int, m: int, lam: float
) -> np.ndarray:
    """[m, m] EASE's B over items coded 0..m-1 (diagonal 0), from who rated what."""
    ones = np.ones(len(users), dtype="float32")
    x = sparse.csr_matrix((ones, (users, items)), shape=(n_users, m))
    x.data[:] = 1.0  # a repeated (user, movie) pair counts once
    gram = (x.T @ x).toarray().astype("float32")
    gram[np.diag_indices(m)] += lam
    # P = (XᵀX + λI)⁻¹ through Cholesky (symmetric, positive definite): half the work of
    # a general inverse; float32 is ample with λ in the hundreds.
    factor, info = linalg.lapack.spotrf(gram, lower=True, overwrite_a=True)
    if info == 0:
        precision, info = linalg.lapack.spotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise ValueError(f"the co-rating matrix is not positive definite (LAPACK {info})")
    precision = np.tril(precision) + np.tril(precision, -1).T
    weights = precision / (-np.diag(precision))[None, :]
    weights[np.diag_indices(m)] = 0.0
    return weights


def top_k_rows(weights: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, columns, values) of each row's ``top_k`` largest positive weights,
    largest first (ties by column)."""
    m = weights.shape[0]
    k = min(top_k, max(m - 1, 0))
    if k == 0:
        return np.zeros(m + 1, "int64"), np.zeros(0, "int32"), np.zeros(0, "float32")
    best = np.argpartition(-weights, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(weights, best, axis=1)
    order = np.lexsort((best, -values), axis=1)
    best = np.take_along_axis(best, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    keep = values > 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype("int64")
    return indptr, best[keep].astype("int32"), values[keep].astype("float32")


def fit_neighbour_table(
    users: np.ndarray,
    items: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    lam: float = LAMBDA,
    top_k: int = TOP_K,
    min_count: int = 2,
    max_items: int = MAX_COVERED,
    **blend: float,
) -> NeighbourTable:
    """The table over ``n_items`` catalogue rows from (user code, item row) pairs;
    ``blend``: the scale, pivot and popularity_relief (the defaults otherwise)."""
    counts = np.bincount(items, minlength=n_items)
    covered = covered_items(counts, min_count, max_items)
    code = np.full(n_items, -1, dtype="int64")
    code[covered] = np.arange(len(covered))
    keep = code[items] >= 0
    if len(covered) < 2:
        indptr = np.zeros(n_items + 1, "int64")
        return NeighbourTable(indptr, np.zeros(0, "int32"), np.zeros(0, "float32"), **blend)
    users, rows = np.asarray(users)[keep], code[items[keep]]
    weights = ease_weights(users, rows, n_users, len(covered), lam)
    local_ptr, local_cols, values = top_k_rows(weights, top_k)
    lengths = np.zeros(n_items, dtype="int64")
    lengths[covered] = np.diff(local_ptr)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")
    columns = covered[local_cols].astype("int32")  # rows are in covered order already
    return NeighbourTable(indptr, columns, values, **blend)


def with_neighbours(params, users: np.ndarray, items: np.ndarray, n_users: int):
    """``params`` (a HybridParams) with the table fitted on (user code, item row) pairs."""
    table = fit_neighbour_table(users, items, n_users, len(params.movie_ids))
    return dataclasses.replace(params, neighbours=table)
