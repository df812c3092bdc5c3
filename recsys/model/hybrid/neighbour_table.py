"""The item-to-item terms of the hybrid ranking: each movie's top-k neighbours, learned
in closed form from who rated what, stored sparse (CSR arrays) in the bundle.

Two tables:

- the pick term (``indptr``, ``columns``, ``weights``): what a user's ratings or picks
  add to the ranking score. Its weights are EASE's (Steck, 2019) over the binary user ×
  movie matrix X of the training ratings: ``B = I − P·diag(1/diag P)`` with
  ``P = (XᵀX + λI)⁻¹``, so that a user who rated movie x scores movie j by B[x, j]; row
  x keeps B[x, ·]'s ``top_k`` largest positive weights.
- Similar movies' order (``similar``): the asymmetric cosine of Aiolli (2013) over who
  liked what (ratings of 4★ or more: what a movie's fans love), with c(x, j) the users
  who liked both and c(x) those who liked x,

      s(x, j) = c(x, j) / (c(x)^α · c(j)^(1 − α) + h).

  For a fixed movie x the ranking is c(x, j) / c(j)^(1 − α): α = 1 ranks by raw
  co-like counts (popular movies first), α = 0.5 is the plain cosine, a smaller α
  favours movies whose fans are mostly x's (the obscure ones); the shrinkage h damps
  pairs with few fans. Each row is divided by its largest value, then each neighbour j
  of x is weighed by its kinship in genres, s(x, j) · (1 + κ · J(x, j)) with J the
  Jaccard overlap of the two movies' genres (every co-liked movie is weighed before the
  best are kept): among the movies x's fans love, those of x's kind come first (a horror
  film's list holds horror films, Toy Story's animated ones), and a movie no fan of x
  loved never enters. A bundle from before this table has none; Similar movies then
  lists the pick term's row.

Every value (λ, α, h, the scale) was chosen on validation users carved from the training
side (docs/evaluation.md). The asymmetric cosine can weigh the pick term too
(``weighting="cosine"``); on the one-pick validation carves it did better than EASE, but
it lowered an existing user's list, so EASE stays the term's default.

Only the ``max_items`` most-rated movies with at least ``min_count`` ratings take part
(EASE inverts a dense matrix of them; the cosine counts ``BLOCK_ROWS`` rows at a time);
the others have an empty row (and no column), which costs them nothing but the term. At
ml-32m's scale (87k movies, at most 20k covered) the term's table (k = 200) is 20k × 200
× 8 bytes, about 32 MB, and Similar's (k = 50) about 8 MB.

A user's term is Σ over their rated or picked movies of w(stars) × S[movie, ·], with
``w(stars) = (stars − pivot) / (5 − pivot)``: a 5★ pick weighs 1, a pick at the pivot
nothing, a lower one pulls its neighbours down (a dislike). An existing user's ratings
(not a new user's picks) are each weighed too, by their movie's rarity
(``NeighbourTable.history_weights``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

NEIGHBOUR_KEYS = ("neighbour_indptr", "neighbour_columns", "neighbour_weights", "neighbour_scalars")
SIMILAR_KEYS = ("similar_indptr", "similar_columns", "similar_weights")
# Chosen on validation users carved from the training side (docs/evaluation.md): the
# pick term's weights and EASE's λ, the neighbours kept per movie, the term's scale in
# the ranking score's units, the stars that weigh nothing, and the share of the user's
# popularity weight it replaces; Similar movies' α, h and neighbours.
WEIGHTING = "ease"
LAMBDA = 250.0
TOP_K = 200
SCALE = 180.0
PIVOT = 2.5
POPULARITY_RELIEF = 0.3
# γ of the rarity weight on each movie of an existing user's history (their ratings, not a
# new user's picks), applied at scoring: chosen on validation (docs/evaluation.md). The
# same weight on a new user's picks was tried: a blockbuster pick such as Toy Story then
# weighs a quarter of a median movie and its list becomes a chart.
HISTORY_RARITY = 0.5
# The pick term as an asymmetric cosine (``weighting="cosine"``): the best on the
# one-pick validation carves, with scale 7 and relief 0.3, but it lowers an existing
# user's list (docs/evaluation.md), so the EASE weights stay the default.
ALPHA = 0.3
SHRINK = 20.0
# The asymmetric cosines count who liked both movies: ratings of this many stars or more.
LIKED_STARS = 4.0
SIMILAR_ALPHA = 0.5
SIMILAR_SHRINK = 20.0
SIMILAR_TOP_K = 50
# κ of Similar movies' genre kinship: the largest whose `similar` NDCG stayed at or above
# EASE λ 500's on every validation seed (docs/evaluation.md).
SIMILAR_KINSHIP = 1.0
# The rows a fit covers: at most this many (EASE inverts a dense matrix of them).
MAX_COVERED = 20_000
TOP_STARS = 5.0
# Rows of the co-rating counts computed at once: a dense [block, covered] float32 block.
BLOCK_ROWS = 1024


@dataclass(frozen=True)
class SparseRows:
    """Each movie's neighbours as CSR arrays: indptr [n + 1] int64; columns [nnz] int32,
    each row's by weight, largest first; weights [nnz] float32, positive."""

    indptr: np.ndarray
    columns: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        for array in (self.indptr, self.columns, self.weights):
            array.setflags(write=False)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.columns.nbytes + self.weights.nbytes)

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of one movie's neighbours, largest weight first."""
        start, end = self.indptr[row], self.indptr[row + 1]
        return self.columns[start:end], self.weights[start:end]

    def to_arrays(self, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
        return dict(zip(keys, (self.indptr, self.columns, self.weights), strict=False))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], keys: tuple[str, ...], n: int):
        """The rows under ``keys`` (indptr, columns, weights) of ``arrays``; ValueError
        when they are malformed or do not fit the ``n`` movies."""
        indptr = np.asarray(arrays[keys[0]], "int64")
        columns = np.asarray(arrays[keys[1]], "int32")
        weights = np.asarray(arrays[keys[2]], "float32")
        nnz = len(columns)
        if (
            indptr.shape != (n + 1,)
            or indptr[0] != 0
            or indptr[-1] != nnz
            or (np.diff(indptr) < 0).any()
            or weights.shape != (nnz,)
            or (nnz and (columns.min() < 0 or columns.max() >= n))
        ):
            raise ValueError("the neighbour table does not fit the movies")
        return cls(indptr, columns, weights)


@dataclass(frozen=True)
class NeighbourTable(SparseRows):
    """S as CSR arrays over the catalogue's rows (its ``SparseRows``), and how a user's
    ratings weigh it. scale: what the term is multiplied
    by in the ranking score (chosen on validation); pivot: the stars that weigh nothing;
    popularity_relief: the share of a user's popularity weight π_u that the term replaces
    (a user with ratings or picks leans on them rather than on the chart). similar:
    Similar movies' own rows (None in a bundle from before them: the term's rows serve).
    history_rarity: γ of the rarity weight on each movie of an existing user's history
    (0 in a bundle from before it).
    """

    scale: float = SCALE
    pivot: float = PIVOT
    popularity_relief: float = POPULARITY_RELIEF
    similar: SparseRows | None = None
    history_rarity: float = HISTORY_RARITY

    @property
    def nbytes(self) -> int:
        """The bytes of every array the bundle stores (both tables)."""
        return super().nbytes + (self.similar.nbytes if self.similar is not None else 0)

    def matrix(self) -> sparse.csr_matrix:
        """S as a [n, n] scipy CSR matrix (sharing the arrays)."""
        n = len(self)
        return sparse.csr_matrix((self.weights, self.columns, self.indptr), shape=(n, n))

    def similar_row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of one movie's Similar movies, largest weight first: its
        row of ``similar``, or of the term's table in a bundle from before it."""
        if self.similar is None:
            return self.row(row)
        return self.similar.row(row)

    def star_weights(self, stars: np.ndarray) -> np.ndarray:
        """w(stars): 1 at 5★, 0 at the pivot, negative below it (a dislike)."""
        return (np.asarray(stars, "float64") - self.pivot) / (TOP_STARS - self.pivot)

    def history_weights(self, log_counts: np.ndarray) -> np.ndarray:
        """[n] each movie's weight in an existing user's history, ((1 + c̃) / (1 + c))^γ
        with γ = ``history_rarity``, from ``log_counts`` = log(1 + c) per row and c̃ the
        median over the rows that have neighbours: a rating of a movie few people rated
        says more about the user (the idea of inverse document frequency)."""
        log_counts = np.asarray(log_counts, "float64")
        with_rows = np.diff(self.indptr) > 0
        if self.history_rarity == 0 or not with_rows.any():
            return np.ones(len(log_counts))
        median = float(np.median(log_counts[with_rows]))
        return np.exp(self.history_rarity * (median - log_counts))

    def _weights(self, stars: np.ndarray, emphasis: np.ndarray | None) -> np.ndarray:
        """w(stars) × scale per rated row, times its ``emphasis`` when given."""
        weights = self.star_weights(stars) * self.scale
        return weights if emphasis is None else weights * emphasis

    def contributions(
        self, rows: np.ndarray, stars: np.ndarray, n: int, emphasis: np.ndarray | None = None
    ) -> np.ndarray:
        """[len(rows), n] each rated row's share of the term, w(stars) × S[row, ·] × scale
        (× its ``emphasis``, when given; a dense block: a new user has a handful of picks)."""
        out = np.zeros((len(rows), n), dtype="float64")
        weights = self._weights(stars, emphasis)
        for k, (row, weight) in enumerate(zip(rows, weights, strict=True)):
            columns, values = self.row(int(row))
            out[k, columns] = weight * values
        return out

    def term(
        self, rows: np.ndarray, stars: np.ndarray, emphasis: np.ndarray | None = None
    ) -> np.ndarray:
        """[n] one user's term from their rated rows and stars (a handful: no matrix),
        each row times its ``emphasis`` when given."""
        out = np.zeros(len(self), dtype="float64")
        weights = self._weights(stars, emphasis)
        for row, weight in zip(rows, weights, strict=True):
            columns, values = self.row(int(row))
            out[columns] += weight * values
        return out

    def terms(
        self,
        users: np.ndarray,
        rows: np.ndarray,
        stars: np.ndarray,
        n_users: int,
        emphasis: np.ndarray | None = None,
    ):
        """[n_users, n] sparse: every user's term from (user code, row, stars) triples,
        each times its ``emphasis`` when given."""
        weights = self._weights(stars, emphasis)
        shape = (n_users, len(self))
        per_user = sparse.csr_matrix((weights, (users, rows)), shape=shape)
        return (per_user @ self.matrix()).tocsr()

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "neighbour_indptr": self.indptr,
            "neighbour_columns": self.columns,
            "neighbour_weights": self.weights,
            "neighbour_scalars": np.array(
                [self.scale, self.pivot, self.popularity_relief, self.history_rarity],
                dtype="float64",
            ),
        }
        if self.similar is not None:
            arrays.update(self.similar.to_arrays(SIMILAR_KEYS))
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], n: int) -> NeighbourTable | None:
        """The table of ``arrays``, None when they hold none (a bundle from before it);
        ValueError when it is malformed or does not fit the ``n`` movies."""
        present = [key in arrays for key in NEIGHBOUR_KEYS]
        if not any(present):
            return None
        if not all(present):
            raise ValueError("the neighbour table is incomplete")
        rows = SparseRows.from_arrays(arrays, NEIGHBOUR_KEYS, n)
        scalars = np.asarray(arrays["neighbour_scalars"], "float64")
        if scalars.shape == (3,):  # a bundle from before the history's rarity weight
            scalars = np.append(scalars, 0.0)
        if scalars.shape != (4,) or not np.isfinite(scalars).all() or scalars[1] >= TOP_STARS:
            raise ValueError("the neighbour table's scale, pivot, relief or rarity is malformed")
        similar_present = [key in arrays for key in SIMILAR_KEYS]
        if any(similar_present) and not all(similar_present):
            raise ValueError("the Similar movies table is incomplete")
        similar = SparseRows.from_arrays(arrays, SIMILAR_KEYS, n) if all(similar_present) else None
        scale, pivot, relief, rarity = (float(x) for x in scalars)
        return cls(rows.indptr, rows.columns, rows.weights, scale, pivot, relief, similar, rarity)


def covered_items(counts: np.ndarray, min_count: int, max_items: int) -> np.ndarray:
    """The rows the closed form covers: at least ``min_count`` ratings, the
    ``max_items`` most-rated (ties by row), in row order."""
    eligible = np.flatnonzero(counts >= min_count)
    if len(eligible) > max_items:
        order = np.lexsort((eligible, -counts[eligible]))[:max_items]
        eligible = np.sort(eligible[order])
    return eligible


def rated_matrix(users: np.ndarray, items: np.ndarray, n_users: int, m: int):
    """[n_users, m] float32 CSR, 1 where the user rated the item (coded 0..m-1)."""
    ones = np.ones(len(users), dtype="float32")
    x = sparse.csr_matrix((ones, (users, items)), shape=(n_users, m))
    x.data[:] = 1.0  # a repeated (user, movie) pair counts once
    return x


def ease_weights(
    users: np.ndarray, items: np.ndarray, n_users: int, m: int, lam: float
) -> np.ndarray:
    """[m, m] EASE's B over items coded 0..m-1 (diagonal 0), from who rated what."""
    x = rated_matrix(users, items, n_users, m)
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


def asymmetric_cosine_rows(
    x: sparse.csr_matrix,
    alpha: float,
    shrink: float,
    top_k: int,
    block: int = BLOCK_ROWS,
    flags: np.ndarray | None = None,
    kinship: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, columns, values) of each item's ``top_k`` largest asymmetric cosines
    s(x, j) = c(x, j) / (c(x)^α · c(j)^(1 − α) + h) over ``x`` [n_users, m] (who rated
    what), each row divided by its largest, then times 1 + ``kinship`` × the two movies'
    genre overlap when their genre ``flags`` [m, genres] are given; the co-rating counts
    ``block`` rows at a time, so no [m, m] matrix is ever held."""
    m = x.shape[1]
    counts = np.maximum(np.asarray(x.sum(axis=0), "float64").ravel(), 1.0)
    by_item = x.T.tocsr()
    column_part = counts ** (1.0 - alpha)
    pointers, columns, values = [np.zeros(1, "int64")], [], []
    for start in range(0, m, block):
        stop = min(start + block, m)
        both = (by_item[start:stop] @ x).toarray()  # [rows, m] c(x, j)
        local = np.arange(stop - start)
        both[local, start + local] = 0.0  # a movie is never its own neighbour
        denominator = (counts[start:stop] ** alpha)[:, None] * column_part[None, :] + shrink
        cosines = both / denominator
        cosines /= np.maximum(cosines.max(axis=1, keepdims=True), np.finfo("float32").tiny)
        if flags is not None and kinship:
            cosines *= 1.0 + kinship * genre_jaccard(flags[start:stop], flags)
        indptr, cols, vals = top_k_rows(cosines, top_k)
        pointers.append(indptr[1:] + pointers[-1][-1])
        columns.append(cols)
        values.append(vals)
    indptr = np.concatenate(pointers).astype("int64")
    if not columns:
        return indptr, np.zeros(0, "int32"), np.zeros(0, "float32")
    return indptr, np.concatenate(columns), np.concatenate(values)


def top_k_rows(weights: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, columns, values) of each row's ``top_k`` largest positive weights,
    largest first (ties by column); ``weights`` [rows, m], a row's own column left out by
    the caller (at most m − 1 are kept)."""
    rows, m = weights.shape
    k = min(top_k, max(m - 1, 0))
    if k == 0:
        return np.zeros(rows + 1, "int64"), np.zeros(0, "int32"), np.zeros(0, "float32")
    best = np.argpartition(-weights, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(weights, best, axis=1)
    order = np.lexsort((best, -values), axis=1)
    best = np.take_along_axis(best, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    keep = values > 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype("int64")
    return indptr, best[keep].astype("int32"), values[keep].astype("float32")


def genre_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[len(a), len(b)] float32, the Jaccard overlap of the genres of each movie of ``a``
    with each of ``b`` (genre flags [movies, genres], non-zero = has the genre); 0 where
    neither has any."""
    a = (np.asarray(a) > 0).astype("float32")
    b = (np.asarray(b) > 0).astype("float32")
    both = a @ b.T
    union = a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :] - both
    return np.where(union > 0, both / np.maximum(union, 1.0), np.float32(0.0))


def _spread(local, covered: np.ndarray, n_items: int) -> SparseRows:
    """Rows over the covered items (coded 0..m-1) as rows over the ``n_items`` catalogue
    rows (an uncovered row is empty)."""
    local_ptr, local_cols, values = local
    lengths = np.zeros(n_items, dtype="int64")
    lengths[covered] = np.diff(local_ptr)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")
    columns = covered[local_cols].astype("int32")  # rows are in covered order already
    return SparseRows(indptr, columns, np.asarray(values, "float32"))


def fit_neighbour_table(
    users: np.ndarray,
    items: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    stars: np.ndarray | None = None,
    weighting: str = WEIGHTING,
    liked_stars: float | None = LIKED_STARS,
    alpha: float = ALPHA,
    shrink: float = SHRINK,
    lam: float = LAMBDA,
    top_k: int = TOP_K,
    similar_alpha: float = SIMILAR_ALPHA,
    similar_shrink: float = SIMILAR_SHRINK,
    similar_top_k: int = SIMILAR_TOP_K,
    flags: np.ndarray | None = None,
    similar_kinship: float = SIMILAR_KINSHIP,
    min_count: int = 2,
    max_items: int = MAX_COVERED,
    **blend: float,
) -> NeighbourTable:
    """The tables over ``n_items`` catalogue rows from (user code, item row) pairs.

    Both asymmetric cosines count the ratings of ``liked_stars`` or more when ``stars``
    are given and ``liked_stars`` is not None, every rating otherwise. weighting: the
    pick term's, "cosine" (the asymmetric cosine with ``alpha`` and ``shrink``) or "ease"
    (EASE's B with ``lam``, over every rating); Similar movies' table is the asymmetric
    cosine with ``similar_alpha`` and ``similar_shrink`` (none when ``similar_top_k`` is
    0), weighed by genre kinship ``similar_kinship`` when the movies' genre ``flags``
    [n_items, genres] are given. ``blend``: the scale,
    pivot, popularity_relief and history_rarity (the defaults otherwise).
    """
    if weighting not in ("cosine", "ease"):
        raise ValueError(f"unknown weighting {weighting!r}")
    counts = np.bincount(items, minlength=n_items)
    covered = covered_items(counts, min_count, max_items)
    code = np.full(n_items, -1, dtype="int64")
    code[covered] = np.arange(len(covered))
    keep = code[items] >= 0
    if len(covered) < 2:
        indptr = np.zeros(n_items + 1, "int64")
        return NeighbourTable(indptr, np.zeros(0, "int32"), np.zeros(0, "float32"), **blend)
    users, rows = np.asarray(users)[keep], code[items[keep]]
    if stars is not None and liked_stars is not None:
        liked = np.asarray(stars)[keep] >= liked_stars
        x = rated_matrix(users[liked], rows[liked], n_users, len(covered))
    else:
        x = rated_matrix(users, rows, n_users, len(covered))
    if weighting == "ease":
        local = top_k_rows(ease_weights(users, rows, n_users, len(covered), lam), top_k)
    else:
        local = asymmetric_cosine_rows(x, alpha, shrink, top_k)
    term = _spread(local, covered, n_items)
    similar = None
    if similar_top_k > 0:
        kin_flags = None if flags is None else np.asarray(flags)[covered]
        found = asymmetric_cosine_rows(
            x,
            similar_alpha,
            similar_shrink,
            similar_top_k,
            flags=kin_flags,
            kinship=similar_kinship,
        )
        similar = _spread(found, covered, n_items)
    return NeighbourTable(term.indptr, term.columns, term.weights, **blend, similar=similar)


def with_neighbours(
    params, users: np.ndarray, items: np.ndarray, n_users: int, stars: np.ndarray | None = None
):
    """``params`` (a HybridParams) with the tables fitted on (user code, item row) pairs
    and their ``stars`` (None: the pick term counts every rating, not only the liked), and
    the movies' genres for Similar movies' kinship."""
    n_items = len(params.movie_ids)
    table = fit_neighbour_table(users, items, n_users, n_items, stars=stars, flags=params.flags)
    return dataclasses.replace(params, neighbours=table)
