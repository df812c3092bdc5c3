"""Rating and top-k ranking metrics (numpy only).

Conventions, the same in the per-list functions and the batch function:

- Relevance is binary: an item is relevant or not (the evaluation calls a held-out
  rating of 4 stars or more relevant).
- Only the first ``k`` recommendations count. A repeated item counts once, at its
  first position, so no metric can exceed 1.
- **No relevant items → NaN.** Such a user cannot be judged; means over users skip
  NaN (as LensKit does).
- **An empty recommendation list → 0** (when there are relevant items).
- A perfect ranking (every relevant item first) scores 1 on NDCG@k and AP@k. Precision
  and recall reach 1 only when there are exactly ``k`` relevant items: precision
  divides by ``k`` (a short list pays for its empty slots), recall by the number of
  relevant items (the textbook recall, not LensKit's ``min(k, n_relevant)``).
- NDCG@k: DCG = Σ hit_j / log2(j + 1) over positions j = 1..k; the ideal DCG puts
  ``min(k, n_relevant)`` hits first.
- AP@k (its mean over users is MAP@k): Σ over hits of the precision at that hit's
  position, divided by ``min(k, n_relevant)``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np


def _hit_row(recommended: Iterable, relevant: Collection, k: int) -> np.ndarray:
    """[1, k] bool: whether the j-th recommendation is a (first-seen) relevant item."""
    if k < 1:
        raise ValueError(f"k must be 1 or more, got {k}")
    hits = np.zeros((1, k), dtype=bool)
    seen: set = set()
    for position, item in enumerate(list(recommended)[:k]):
        if item in relevant and item not in seen:
            hits[0, position] = True
        seen.add(item)
    return hits


def ranking_from_hits(hits: np.ndarray, n_relevant: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user precision, recall, NDCG and AP at k from a hit matrix.

    hits: [n_users, k] bool, True where the j-th recommendation is relevant (a
    duplicate or an empty slot is False). n_relevant: [n_users] int, how many relevant
    items each user has. Returns {"precision", "recall", "ndcg", "ap"}, each
    [n_users] float64, NaN where ``n_relevant`` is 0.
    """
    hits = np.asarray(hits, dtype=bool)
    if hits.ndim != 2:
        raise ValueError(f"hits must be [n_users, k], got shape {hits.shape}")
    n_users, k = hits.shape
    n_relevant = np.asarray(n_relevant, dtype="int64").reshape(-1)
    if n_relevant.shape[0] != n_users:
        raise ValueError(f"{n_users} hit rows but {n_relevant.shape[0]} relevant counts")
    no_relevant = n_relevant <= 0
    denominator = np.where(no_relevant, 1, n_relevant)  # NaN is set below
    ideal_hits = np.minimum(denominator, k)
    hit_values = hits.astype("float64")
    hit_count = hit_values.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))  # position j = 1..k → 1 / log2(j + 1)
    ideal_dcg = np.cumsum(discounts)[ideal_hits - 1]
    precision_at_hit = np.cumsum(hit_values, axis=1) / np.arange(1, k + 1)
    per_user = {
        "precision": hit_count / k,
        "recall": hit_count / denominator,
        "ndcg": (hit_values @ discounts) / ideal_dcg,
        "ap": (precision_at_hit * hit_values).sum(axis=1) / ideal_hits,
    }
    for values in per_user.values():
        values[no_relevant] = np.nan
    return per_user


def _one(recommended: Iterable, relevant: Collection, k: int, metric: str) -> float:
    hits = _hit_row(recommended, relevant, k)
    return float(ranking_from_hits(hits, np.array([len(set(relevant))]))[metric][0])


def precision_at_k(recommended: Sequence, relevant: Collection, k: int = 10) -> float:
    """Relevant items among the first ``k`` recommendations, divided by ``k``."""
    return _one(recommended, relevant, k, "precision")


def recall_at_k(recommended: Sequence, relevant: Collection, k: int = 10) -> float:
    """Relevant items among the first ``k`` recommendations / all relevant items."""
    return _one(recommended, relevant, k, "recall")


def ndcg_at_k(recommended: Sequence, relevant: Collection, k: int = 10) -> float:
    """Binary-relevance NDCG@k with a log2 discount (see the module docstring)."""
    return _one(recommended, relevant, k, "ndcg")


def average_precision_at_k(recommended: Sequence, relevant: Collection, k: int = 10) -> float:
    """AP@k: mean precision at each hit, over ``min(k, n_relevant)``; MAP@k averages it."""
    return _one(recommended, relevant, k, "ap")


def rmse(predicted_stars: np.ndarray, actual_stars: np.ndarray) -> float:
    """Root mean squared error, in the units given (stars here). NaN for no pairs."""
    errors = _errors(predicted_stars, actual_stars)
    return float(np.sqrt(np.mean(errors**2))) if errors.size else float("nan")


def mae(predicted_stars: np.ndarray, actual_stars: np.ndarray) -> float:
    """Mean absolute error, in the units given (stars here). NaN for no pairs."""
    errors = _errors(predicted_stars, actual_stars)
    return float(np.mean(np.abs(errors))) if errors.size else float("nan")


def _errors(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    predicted = np.asarray(predicted, dtype="float64").reshape(-1)
    actual = np.asarray(actual, dtype="float64").reshape(-1)
    if predicted.shape != actual.shape:
        raise ValueError(f"{predicted.shape[0]} predictions for {actual.shape[0]} ratings")
    return predicted - actual


def coverage(top_lists: Iterable[Iterable], n_candidates: int) -> float:
    """Distinct items over all top lists / number of candidate items (0..1).

    Padding entries (``-1``, as the evaluation's top-k matrices use) are ignored.
    NaN when there are no candidates.
    """
    if n_candidates <= 0:
        return float("nan")
    shown = {item for top in top_lists for item in top if item != -1}
    return len(shown) / n_candidates


def personalization(
    top: np.ndarray, rng: int | np.random.Generator | None = None, pairs: int = 2000
) -> float:
    """1 − the mean Jaccard overlap of top lists between random pairs of users (0..1).

    top: [n_users, k] item indices, ``-1`` as padding. 0 when everyone gets the same
    list, 1 when no two lists share an item. Up to ``pairs`` distinct-user pairs are
    drawn at random; NaN with fewer than two users.
    """
    top = np.asarray(top)
    n = top.shape[0]
    if n < 2:
        return float("nan")
    rng = np.random.default_rng(rng)
    first = rng.integers(0, n, size=pairs)
    second = (first + rng.integers(1, n, size=pairs)) % n  # never the same user
    a, b = top[first], top[second]
    shared = ((a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)).any(axis=2).sum(axis=1)
    union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - shared
    jaccard = np.where(union > 0, shared / np.maximum(union, 1), 1.0)
    return float(1.0 - jaccard.mean())


def mean_over_users(values: np.ndarray) -> float:
    """Mean of per-user values, skipping NaN (users without relevant items); NaN if none."""
    values = np.asarray(values, dtype="float64")
    judged = values[~np.isnan(values)]
    return float(judged.mean()) if judged.size else float("nan")


def tail_ndcg_at_k(
    recommended: Sequence, relevant: Collection, head: Collection, k: int = 10
) -> float:
    """NDCG@k counting only the relevant items outside ``head`` (the most-rated movies).

    A head item in the list is a miss, as any unrelated item is; the ideal DCG is that of
    the relevant tail items. NaN when every relevant item is in the head.
    """
    head = set(head)
    return ndcg_at_k(recommended, {item for item in relevant if item not in head}, k)


def blockbusters_at_k(recommended: Sequence, blockbusters: Collection, k: int = 10) -> float:
    """How many of the first ``k`` recommendations (each counted once) are blockbusters."""
    first = []
    for item in list(recommended)[:k]:
        if item not in first:
            first.append(item)
    blockbusters = set(blockbusters)
    return float(sum(item in blockbusters for item in first))
