"""Item-to-item peers over the candidate movies: a square weight matrix W, where W[x, j]
says how strongly a person who picked x will want j.

- ``cooccurrence``: "people who liked x also liked j", the conditional frequency
  P(j liked | x liked) = |liked x and j| / |liked x| over the training users' ratings of
  ``RELEVANT_STARS`` or more.
- ``cosine``: the cosine of two movies' columns of the binary who-rated-what matrix.
- ``ease``: EASE's B (Steck, 2019) over who-rated-what, its λ chosen per protocol on a
  validation carve of the training side. NDCG there rises with λ, and as λ grows B
  tends to the raw co-rating counts, a popularity-led list; so ``ease_500`` keeps the
  λ of 500 that the other protocols use (the paper's), which finds non-obvious movies.

A new user's scores are the sum of their picks' rows (EASE: the picks as its input
row); a movie's similar movies are its own row. The diagonal is 0: a movie never
recommends itself. Dense [n_items, n_items] float64: fine for a preset's few thousand
movies; the whole catalogue's ten thousand take about 0.8 GB per matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.evaluation.ranking import RELEVANT_STARS

ITEM_PEERS = ("ease", "ease_500", "cooccurrence", "cosine")
FIXED_EASE_LAMBDA = 500.0
# EASE's λ is chosen among these on validation, half a decade apart.
EASE_LAMBDAS = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 1e4, 3e4, 1e5)


def binary_matrix(
    ratings: pd.DataFrame, movie_ids: np.ndarray, min_stars: float | None = None
) -> sparse.csr_matrix:
    """[n_users, n_items] float64, 1 where the user rated the movie (with at least
    ``min_stars`` when given); ratings of other movies are left out."""
    if min_stars is not None:
        ratings = ratings[ratings[RATING].to_numpy() >= min_stars]
    cols = pd.Index(np.asarray(movie_ids, "int64")).get_indexer(
        ratings[MOVIE_ID].to_numpy().astype("int64")
    )
    keep = cols >= 0
    users, _ = pd.factorize(ratings[USER_ID].to_numpy()[keep])
    shape = (int(users.max()) + 1 if len(users) else 0, len(movie_ids))
    matrix = sparse.csr_matrix((np.ones(len(users)), (users, cols[keep])), shape=shape)
    matrix.data[:] = 1.0  # a repeated (user, movie) pair counts once
    return matrix


def _gram(matrix: sparse.csr_matrix) -> np.ndarray:
    return np.asarray((matrix.T @ matrix).todense(), dtype="float64")


def cooccurrence(ratings: pd.DataFrame, movie_ids: np.ndarray) -> np.ndarray:
    """[n_items, n_items] P(j liked | x liked) in row x; 0 for a movie nobody liked."""
    both = _gram(binary_matrix(ratings, movie_ids, RELEVANT_STARS))
    liked = np.diag(both).copy()
    weights = both / np.maximum(liked, 1.0)[:, None]
    np.fill_diagonal(weights, 0.0)
    return weights


def cosine(ratings: pd.DataFrame, movie_ids: np.ndarray) -> np.ndarray:
    """[n_items, n_items] the cosine of two movies' rater sets; 0 for an unrated movie."""
    both = _gram(binary_matrix(ratings, movie_ids))
    norms = np.sqrt(np.diag(both))
    weights = both / np.maximum(np.outer(norms, norms), 1e-12)
    np.fill_diagonal(weights, 0.0)
    return weights


def ease_weights(
    ratings: pd.DataFrame, movie_ids: np.ndarray, lambdas: tuple[float, ...]
) -> Iterator[tuple[float, np.ndarray]]:
    """(λ, B) for each λ: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, diagonal 0.

    One eigendecomposition of XᵀX serves every λ (P = V diag(1/(s + λ)) Vᵀ), so a grid
    costs little more than one fit.
    """
    gram = _gram(binary_matrix(ratings, movie_ids))
    values, vectors = np.linalg.eigh(gram)
    values = np.maximum(values, 0.0)  # XᵀX is positive semi-definite; drop round-off
    for lam in lambdas:
        precision = (vectors / (values + lam)) @ vectors.T
        weights = precision / -np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        yield float(lam), weights


def pick_scores(weights: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """[n_users, n_items] the sum of each user's picks' rows: ``picked`` [n_users, n_items]
    bool @ ``weights``."""
    return picked.astype("float64") @ weights


def item_peers(
    ratings: pd.DataFrame, movie_ids: np.ndarray, ease_lambda: float
) -> dict[str, np.ndarray]:
    """{peer: [n_items, n_items] weights} fitted on ``ratings`` over ``movie_ids``."""
    (_, ease), (_, fixed) = ease_weights(ratings, movie_ids, (ease_lambda, FIXED_EASE_LAMBDA))
    return {
        "ease": ease,
        "ease_500": fixed,
        "cooccurrence": cooccurrence(ratings, movie_ids),
        "cosine": cosine(ratings, movie_ids),
    }
