"""The onepick/similar split, the item-to-item peers, and EASE's λ chosen on validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import preset_config
from recsys.evaluation.itemitem import cooccurrence, cosine, pick_scores
from recsys.evaluation.onepick import choose_ease_lambda
from recsys.evaluation.picks import MIN_LIKED, carve_picks, held_out_users, prepare_picks
from recsys.evaluation.ranking import PICK_COUNTS, RELEVANT_STARS, top_k
from recsys.evaluation.validation import training_side


@pytest.fixture(scope="module")
def split(synthetic):
    return prepare_picks(synthetic.ratings, synthetic.movies, preset_config("full"), rng=3)


def _liked_counts(ratings: pd.DataFrame) -> pd.Series:
    return ratings[ratings[RATING] >= RELEVANT_STARS].groupby(USER_ID).size()


def test_only_users_with_enough_liked_movies_are_held_out(synthetic):
    liked = _liked_counts(synthetic.ratings)
    eligible = liked[liked >= MIN_LIKED].index
    assert len(eligible) < synthetic.ratings[USER_ID].nunique()  # someone is not eligible
    held = held_out_users(synthetic.ratings, np.random.default_rng(0))
    assert set(held) <= set(eligible)
    assert len(held) == int(0.2 * len(eligible))


def test_held_out_users_train_nothing(split):
    assert len(split.user_ids) > 0
    assert not split.train_ratings[USER_ID].isin(split.user_ids).any()
    assert not split.data.training.ratings[USER_ID].isin(split.user_ids).any()


def test_picks_are_liked_never_relevant_and_the_three_hold_the_one(split, synthetic):
    one, three = split.picked(1), split.picked(3)
    assert (one.sum(axis=1) == 1).all() and (three.sum(axis=1) == 3).all()
    assert not (one & ~three).any()  # the first pick is among the three
    ratings = synthetic.ratings.set_index([USER_ID, MOVIE_ID])[RATING]
    for k in PICK_COUNTS:
        task = split.task(k)
        assert not (task.relevant & split.picked(k)).any()  # picks are never relevant
        np.testing.assert_array_equal(task.seen, split.picked(k))  # nor recommended
        for user, picks in zip(split.user_ids, split.picks(k), strict=True):
            for movie, stars in picks.items():  # a pick is a liked movie, with its stars
                assert stars == ratings[(user, movie)] >= RELEVANT_STARS
    # Relevant: every other liked candidate of theirs.
    liked = (split.order >= 0).sum(axis=1)
    np.testing.assert_array_equal(split.task(1).relevant.sum(axis=1), liked - 1)
    np.testing.assert_array_equal(split.task(3).relevant.sum(axis=1), liked - 3)


def test_validation_drops_the_test_users(synthetic):
    held = held_out_users(synthetic.ratings, np.random.default_rng(5))
    kept = training_side(synthetic.ratings, "onepick", 5)
    assert not kept[USER_ID].isin(held).any()
    assert len(kept) == (~synthetic.ratings[USER_ID].isin(held)).sum()


def _planted(ratings: pd.DataFrame, partner_of: int, partner: int, fans: int) -> pd.DataFrame:
    """``ratings`` where ``fans`` users who liked movie ``partner_of`` also give ``partner``
    5 stars (nobody else rates it)."""
    ratings = ratings[ratings[MOVIE_ID] != partner]
    liked = ratings[(ratings[MOVIE_ID] == partner_of) & (ratings[RATING] >= RELEVANT_STARS)]
    users = liked[USER_ID].to_numpy()[:fans]
    added = pd.DataFrame({USER_ID: users, MOVIE_ID: partner, RATING: 5.0})
    return pd.concat([ratings[[USER_ID, MOVIE_ID, RATING]], added], ignore_index=True)


def _top_for_pick(weights: np.ndarray, movie_ids: np.ndarray, pick: int) -> list[int]:
    picked = (movie_ids == pick)[None, :]
    return movie_ids[top_k(pick_scores(weights, picked), picked, 10, rng=0)[0]].tolist()


def test_cooccurrence_finds_a_planted_partner(synthetic):
    ratings = synthetic.ratings
    liked = ratings[ratings[RATING] >= RELEVANT_STARS]
    pick = int(liked[MOVIE_ID].value_counts().index[20])  # liked by a fair few, not the top
    partner = int(ratings[MOVIE_ID].value_counts().index[-1])  # the least rated movie
    movie_ids = np.sort(ratings[MOVIE_ID].unique()).astype("int64")
    before = _top_for_pick(cooccurrence(ratings, movie_ids), movie_ids, pick)
    assert partner not in before  # nothing ties them in the data as drawn
    fans = int((liked[MOVIE_ID] == pick).sum())
    planted = _planted(ratings, pick, partner, fans=fans // 2)
    after = _top_for_pick(cooccurrence(planted, movie_ids), movie_ids, pick)
    assert partner in after  # half the pick's fans like the partner: P(partner | pick) ½
    planted = _planted(ratings, pick, partner, fans=fans)
    after = _top_for_pick(cooccurrence(planted, movie_ids), movie_ids, pick)
    assert after[0] == partner  # every fan of the pick likes the partner: P is 1


def test_cooccurrence_is_the_conditional_frequency():
    # Users 1, 2 like movie 10; user 1 also likes 20; user 3 likes 20 only.
    ratings = pd.DataFrame(
        {USER_ID: [1, 1, 2, 3], MOVIE_ID: [10, 20, 10, 20], RATING: [5.0, 4.0, 4.5, 5.0]}
    )
    weights = cooccurrence(ratings, np.array([10, 20]))
    assert weights[0, 1] == pytest.approx(0.5)  # P(20 | 10) = 1 of 2
    assert weights[1, 0] == pytest.approx(0.5)  # P(10 | 20) = 1 of 2
    assert weights[0, 0] == weights[1, 1] == 0.0


def test_ease_lambda_is_chosen_on_the_training_side_only(split, monkeypatch):
    seen: list[pd.DataFrame] = []
    import recsys.evaluation.onepick as onepick

    def spy(ratings, movie_ids, seed, **kwargs):
        seen.append(ratings)
        return carve_picks(ratings, movie_ids, seed, **kwargs)

    monkeypatch.setattr(onepick, "carve_picks", spy)
    lam, tried = choose_ease_lambda(split, "onepick", seed=1, lambdas=(10.0, 1000.0))
    assert lam in (10.0, 1000.0) and set(tried) == {"10", "1000"}
    assert not seen[0][USER_ID].isin(split.user_ids).any()  # no test user in validation


def test_cosine_of_rater_sets():
    # Movie 10: users 1, 2; movie 20: users 1, 3, 4 → cosine 1 / sqrt(2 × 3).
    ratings = pd.DataFrame(
        {USER_ID: [1, 2, 1, 3, 4], MOVIE_ID: [10, 10, 20, 20, 20], RATING: [1.0, 5, 2, 3, 4]}
    )
    weights = cosine(ratings, np.array([10, 20, 30]))
    assert weights[0, 1] == weights[1, 0] == pytest.approx(1 / np.sqrt(6))
    assert (weights[2] == 0).all() and (np.diag(weights) == 0).all()  # 30: nobody rated it


def test_a_reordered_split_picks_other_liked_movies_of_the_same_users(split):
    again = split.reordered(np.random.default_rng(0))
    np.testing.assert_array_equal(again.order >= 0, split.order >= 0)  # the same liked movies
    for row in again.order:  # each user's liked movies in some order 0..n-1
        liked = np.sort(row[row >= 0])
        np.testing.assert_array_equal(liked, np.arange(len(liked)))
    assert (again.picked(1) != split.picked(1)).any()  # other movies become the picks
    assert again.train_ratings is split.train_ratings and again.data is split.data


def test_a_validation_run_reports_the_mean_over_its_orders(monkeypatch):
    from recsys.evaluation import onepick, run

    runs = [
        {"hybrid": {"ndcg_at_10_k1": 0.2, "rmse": np.nan}},
        {"hybrid": {"ndcg_at_10_k1": 0.4, "rmse": np.nan}},
    ]
    mean = onepick.mean_scores(runs)
    assert mean["hybrid"]["ndcg_at_10_k1"] == pytest.approx(0.3)
    assert np.isnan(mean["hybrid"]["rmse"])
    seen = []

    def fake(*args):
        seen.append(args[-1])
        return {}

    monkeypatch.setattr(run, "evaluate_picks_seed", fake)
    side = run.ValidationSide(pd.DataFrame(), None, np.random.default_rng(0))
    run._evaluate_seed(None, None, "onepick", None, (None, None), 1, print, side)
    run._evaluate_seed(None, None, "onepick", None, (None, None), 1, print, None)
    assert seen == [onepick.VALIDATION_ORDERS, 1]  # validation redraws; the test keeps one
