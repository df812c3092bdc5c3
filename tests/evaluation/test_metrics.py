"""Metrics against hand-worked cases, and their invariants as Hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys.evaluation.metrics import (
    average_precision_at_k,
    blockbusters_at_k,
    coverage,
    mae,
    mean_over_users,
    ndcg_at_k,
    precision_at_k,
    ranking_from_hits,
    recall_at_k,
    rmse,
    tail_ndcg_at_k,
)

RANKING = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "ap": average_precision_at_k,
}

# --------------------------------------------------------------------------- hand-worked


@pytest.mark.parametrize("metric", RANKING.values(), ids=RANKING.keys())
def test_empty_list_scores_zero(metric):
    assert metric([], {"a", "b"}, k=10) == 0.0


@pytest.mark.parametrize("metric", RANKING.values(), ids=RANKING.keys())
def test_no_relevant_items_is_nan(metric):
    assert math.isnan(metric(["a", "b"], set(), k=10))
    assert math.isnan(metric([], set(), k=10))  # nothing to judge beats an empty list


def test_perfect_ranking_scores_one():
    relevant = {"a", "b", "c"}
    # Every relevant item first, then misses: NDCG and AP are 1 whatever the list length.
    assert ndcg_at_k(["c", "a", "b", "x", "y"], relevant, k=5) == pytest.approx(1.0)
    assert average_precision_at_k(["c", "a", "b", "x", "y"], relevant, k=5) == pytest.approx(1.0)
    # Precision and recall are 1 when there are exactly k relevant items, all in the list.
    assert precision_at_k(["b", "c", "a"], relevant, k=3) == 1.0
    assert recall_at_k(["b", "c", "a"], relevant, k=3) == 1.0


def test_worked_example():
    # recommended a b c d e, relevant {a, c, f}, k = 5: hits at positions 1 and 3.
    recommended, relevant = ["a", "b", "c", "d", "e"], {"a", "c", "f"}
    # precision = 2 hits / 5 = 0.4; recall = 2 / 3 relevant.
    assert precision_at_k(recommended, relevant, k=5) == pytest.approx(0.4)
    assert recall_at_k(recommended, relevant, k=5) == pytest.approx(2 / 3)
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal: 3 hits first = 1 + 1/log2(3) + 1/log2(4).
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(recommended, relevant, k=5) == pytest.approx(1.5 / ideal)  # ≈ 0.7039
    # AP = (precision@1 + precision@3) / min(5, 3) = (1 + 2/3) / 3 = 5/9.
    assert average_precision_at_k(recommended, relevant, k=5) == pytest.approx(5 / 9)


def test_only_first_k_count():
    # The only hit is at position 3, beyond k = 2.
    assert precision_at_k(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert ndcg_at_k(["x", "y", "a"], {"a"}, k=2) == 0.0
    # At k = 3: precision 1/3, NDCG = (1/log2(4)) / (1/log2(2)) = 0.5, AP = (1/3) / 1.
    assert precision_at_k(["x", "y", "a"], {"a"}, k=3) == pytest.approx(1 / 3)
    assert ndcg_at_k(["x", "y", "a"], {"a"}, k=3) == pytest.approx(0.5)
    assert average_precision_at_k(["x", "y", "a"], {"a"}, k=3) == pytest.approx(1 / 3)


def test_a_repeated_item_counts_once():
    assert precision_at_k(["a", "a", "a"], {"a"}, k=3) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "a"], {"a"}, k=2) == 1.0


def test_short_list_pays_for_empty_slots():
    # Precision divides by k, not by the list's length: 1 hit in a list of 1 at k = 10.
    assert precision_at_k(["a"], {"a"}, k=10) == pytest.approx(0.1)
    assert ndcg_at_k(["a"], {"a"}, k=10) == 1.0


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(["a"], {"a"}, k=0)


def test_rmse_and_mae_worked_example():
    # errors −1, 0, 2 stars: RMSE = sqrt((1 + 0 + 4) / 3), MAE = (1 + 0 + 2) / 3.
    predicted, actual = np.array([3.0, 4.0, 5.0]), np.array([4.0, 4.0, 3.0])
    assert rmse(predicted, actual) == pytest.approx(math.sqrt(5 / 3))
    assert mae(predicted, actual) == pytest.approx(1.0)
    assert rmse(actual, actual) == 0.0


def test_rating_metrics_edge_cases():
    assert math.isnan(rmse([], []))
    assert math.isnan(mae([], []))
    with pytest.raises(ValueError, match="predictions"):
        rmse([1.0, 2.0], [1.0])


def test_coverage_worked_example():
    # Items 1, 2, 3 shown (the -1 padding is not an item) out of 6 candidates.
    assert coverage([[1, 2], [2, 3, -1]], 6) == 0.5
    assert coverage([], 6) == 0.0
    assert math.isnan(coverage([[1]], 0))


def test_mean_over_users_skips_nan():
    assert mean_over_users(np.array([1.0, np.nan, 0.0])) == 0.5
    assert math.isnan(mean_over_users(np.array([np.nan])))


def test_batch_rows_worked_example():
    hits = np.array([[True, False, True], [False, False, False], [True, True, False]])
    per_user = ranking_from_hits(hits, np.array([2, 0, 5]))
    # Row 1: 2 of 2 relevant in 3 slots; row 2 has none relevant; row 3: 2 of 5.
    np.testing.assert_allclose(per_user["precision"], [2 / 3, np.nan, 2 / 3])
    np.testing.assert_allclose(per_user["recall"], [1.0, np.nan, 0.4])
    # Row 3: AP = (1 + 1) / min(3, 5).
    np.testing.assert_allclose(per_user["ap"], [(1 + 2 / 3) / 2, np.nan, 2 / 3])


# --------------------------------------------------------------------------- properties

ITEMS = st.integers(min_value=0, max_value=30)
LISTS = st.lists(ITEMS, max_size=25, unique=True)
RELEVANT = st.sets(ITEMS, min_size=1, max_size=15)
KS = st.integers(min_value=1, max_value=20)
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


@PROPERTY
@given(recommended=LISTS, relevant=RELEVANT, k=KS)
def test_every_ranking_metric_is_between_zero_and_one(recommended, relevant, k):
    for metric in RANKING.values():
        assert 0.0 <= metric(recommended, relevant, k=k) <= 1.0 + 1e-12


@PROPERTY
@given(recommended=LISTS, relevant=RELEVANT)
def test_recall_never_falls_as_k_grows(recommended, relevant):
    recalls = [recall_at_k(recommended, relevant, k=k) for k in range(1, 26)]
    assert all(a <= b for a, b in zip(recalls, recalls[1:], strict=False))


@PROPERTY
@given(relevant=RELEVANT, misses=st.lists(st.integers(100, 130), unique=True, max_size=10), k=KS)
def test_relevant_items_first_is_perfect(relevant, misses, k):
    ranked = sorted(relevant) + misses
    assert ndcg_at_k(ranked, relevant, k=k) == pytest.approx(1.0)
    assert average_precision_at_k(ranked, relevant, k=k) == pytest.approx(1.0)


@PROPERTY
@given(recommended=LISTS, relevant=RELEVANT, k=KS)
def test_ndcg_below_one_when_a_miss_precedes_a_hit(recommended, relevant, k):
    hits = [item in relevant for item in recommended[:k]]
    miss_before_hit = any(not a and b for a, b in zip(hits, hits[1:], strict=False))
    if miss_before_hit:
        assert ndcg_at_k(recommended, relevant, k=k) < 1.0


@PROPERTY
@given(lists=st.lists(st.tuples(LISTS, st.sets(ITEMS, max_size=15)), min_size=1, max_size=8), k=KS)
def test_batch_matches_one_list_at_a_time(lists, k):
    hits = np.array([[i < len(rec) and rec[i] in rel for i in range(k)] for rec, rel in lists])
    per_user = ranking_from_hits(hits, np.array([len(rel) for _, rel in lists]))
    for name, metric in RANKING.items():
        expected = [metric(rec, rel, k=k) for rec, rel in lists]
        np.testing.assert_allclose(per_user[name], expected, equal_nan=True)


def test_personalization_same_lists_is_zero_and_disjoint_lists_is_one():
    from recsys.evaluation.metrics import personalization

    same = np.tile(np.arange(10), (5, 1))
    assert personalization(same, rng=1) == pytest.approx(0.0)
    disjoint = np.arange(50).reshape(5, 10)
    assert personalization(disjoint, rng=1) == pytest.approx(1.0)


def test_personalization_by_hand_with_padding():
    from recsys.evaluation.metrics import personalization

    # Two users: {1, 2, 3} and {2, 3, 4} (padding ignored): Jaccard 2/4, so 0.5.
    top = np.array([[1, 2, 3, -1], [4, 3, 2, -1]])
    assert personalization(top, rng=0, pairs=50) == pytest.approx(0.5)
    assert np.isnan(personalization(top[:1], rng=0))


# --------------------------------------------------------------------------- popularity


def test_tail_ndcg_counts_only_relevant_items_outside_the_head():
    # Head (the most-rated) {a, b}; relevant {a, c, d}: only c and d count.
    # List [a, c, x, d]: hits at 2 and 4 → DCG = 1/log2(3) + 1/log2(5);
    # ideal: 2 hits first = 1 + 1/log2(3). The head item a at 1 is a miss.
    value = tail_ndcg_at_k(["a", "c", "x", "d"], {"a", "c", "d"}, head={"a", "b"}, k=10)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert value == pytest.approx(expected)  # ≈ 0.6397
    # The plain NDCG of the same list counts a too, and is higher.
    assert ndcg_at_k(["a", "c", "x", "d"], {"a", "c", "d"}, k=10) > value


def test_tail_ndcg_is_nan_when_every_relevant_item_is_in_the_head():
    assert math.isnan(tail_ndcg_at_k(["a", "b"], {"a"}, head={"a", "b"}, k=10))


def test_blockbusters_count_the_list_among_the_most_rated():
    blockbusters = {"a", "b", "c"}
    assert blockbusters_at_k(["a", "x", "b", "y", "c"], blockbusters, k=10) == 3.0
    assert blockbusters_at_k(["a", "x", "b", "y", "c"], blockbusters, k=2) == 1.0  # first 2
    assert blockbusters_at_k(["a", "a", "a"], blockbusters, k=3) == 1.0  # a repeat counts once
    assert blockbusters_at_k(["x", "y"], blockbusters, k=10) == 0.0
