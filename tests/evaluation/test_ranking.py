"""The ranking task, the top k (seen movies skipped, ties at random) and the metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recsys.columns import RATING, USER_ID
from recsys.config import preset_config
from recsys.evaluation.metrics import blockbusters_at_k, tail_ndcg_at_k
from recsys.evaluation.protocols import prepare_holdout
from recsys.evaluation.ranking import (
    RankingTask,
    most_rated,
    ranking_metrics,
    ranking_task,
    top_k,
)


def test_top_k_skips_seen_movies_and_pads():
    scores = np.array([[3.0, 1.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    seen = np.array([[False, False, True, False], [True, True, True, False]])
    np.testing.assert_array_equal(top_k(scores, seen, 2, rng=0), [[0, 1], [3, -1]])


def test_top_k_breaks_ties_at_random_per_user():
    scores = np.zeros((50, 40))
    top = top_k(scores, np.zeros_like(scores, dtype=bool), 1, rng=0)
    assert len(np.unique(top)) > 10  # not the same (lowest-id) movie for everyone
    np.testing.assert_array_equal(top, top_k(scores, np.zeros_like(scores, bool), 1, rng=0))


def test_ranking_metrics_worked_example():
    # Two users, five movies. User A: relevant {0, 3}, top [0, 1]; user B: relevant {4},
    # top [4, -1] (only one candidate). P@10 = hits / 10: A 0.1, B 0.1. R: A 1/2, B 1.
    task = RankingTask(
        user_ids=np.array([1, 2]),
        movie_ids=np.array([10, 20, 30, 40, 50]),
        seen=np.zeros((2, 5), bool),
        relevant=np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 1]], bool),
    )
    top = np.full((2, 10), -1)
    top[0, :2] = [0, 1]
    top[1, 0] = 4
    metrics = ranking_metrics(top, task)
    assert metrics["precision_at_10"] == pytest.approx(0.1)
    assert metrics["recall_at_10"] == pytest.approx(0.75)
    # NDCG: A = 1 / (1 + 1/log2(3)), B = 1. MAP: A = 1/2, B = 1.
    assert metrics["ndcg_at_10"] == pytest.approx((1 / (1 + 1 / math.log2(3)) + 1) / 2)
    assert metrics["map_at_10"] == pytest.approx(0.75)
    assert metrics["coverage"] == pytest.approx(3 / 5)  # movies 0, 1 and 4 shown


def test_ranking_task_judges_users_with_a_good_held_out_rating(synthetic):
    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=4
    )
    task = ranking_task(data)
    assert task.relevant.any(axis=1).all()
    assert not (task.relevant & task.seen).any()
    good = data.test_ratings[data.test_ratings[RATING] >= 4]
    assert set(task.user_ids) == set(good[USER_ID])
    assert task.relevant.sum() == len(good)


def test_batch_tail_ndcg_and_blockbusters_match_the_per_list_functions():
    # Five movies; head (most-rated) = movies 0 and 1, blockbuster = movie 0.
    # User A: relevant {0, 3}, top [0, 3, 1]; user B: relevant {1} only (head): no tail.
    task = RankingTask(
        user_ids=np.array([1, 2]),
        movie_ids=np.array([10, 20, 30, 40, 50]),
        seen=np.zeros((2, 5), bool),
        relevant=np.array([[1, 0, 0, 1, 0], [0, 1, 0, 0, 0]], bool),
        head=np.array([1, 1, 0, 0, 0], bool),
        blockbuster=np.array([1, 0, 0, 0, 0], bool),
    )
    top = np.full((2, 10), -1)
    top[0, :3] = [0, 3, 1]
    top[1, :2] = [0, 2]
    metrics = ranking_metrics(top, task, rng=0)
    # A's only tail item (3) at position 2: 1/log2(3) over the ideal 1; B is not judged.
    assert metrics["tail_ndcg_at_10"] == pytest.approx(tail_ndcg_at_k([0, 3, 1], {0, 3}, {0, 1}))
    assert metrics["tail_ndcg_at_10"] == pytest.approx(1 / math.log2(3))
    # Both lists hold movie 0, the one blockbuster: 1 each.
    assert metrics["blockbusters_at_10"] == pytest.approx(blockbusters_at_k([0, 3, 1], {0}))
    assert metrics["blockbusters_at_10"] == 1.0


def test_most_rated_counts_ratings_and_breaks_ties_by_id():
    ratings = pd.DataFrame({"movieId": [5, 5, 5, 7, 7, 3, 3, 9], "rating": [1.0] * 8})
    np.testing.assert_array_equal(most_rated(ratings, 3), [5, 3, 7])  # 3 and 7 tie at 2
    np.testing.assert_array_equal(most_rated(ratings, 10), [5, 3, 7, 9])  # fewer than 10
