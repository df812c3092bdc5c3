"""The coldstart protocol: a fifth of the users held out whole, five picks revealed each."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import preset_config
from recsys.evaluation.coldstart import COLD_FRACTION, EXCLUDED, PICKS, prepare_coldstart


def _keys(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame[USER_ID].astype(int), frame[MOVIE_ID].astype(int)))


def test_cold_users_show_only_their_picks_and_are_scored_on_the_rest(synthetic):
    ratings = synthetic.ratings
    data = prepare_coldstart(ratings, synthetic.movies, preset_config("full"), rng=3)
    cold = np.setdiff1d(
        ratings[USER_ID].unique(), data.network_ratings[USER_ID].unique(), assume_unique=True
    )
    assert len(cold) == int(COLD_FRACTION * ratings[USER_ID].nunique())
    # Every scored rating belongs to a cold user; none of them is also shown.
    assert set(data.test_ratings[USER_ID]) <= set(cold)
    assert not _keys(data.test_ratings) & _keys(data.train_ratings)
    shown = data.train_ratings[data.train_ratings[USER_ID].isin(cold)]
    assert shown.groupby(USER_ID).size().max() <= PICKS
    # The networks never train on a cold user, not even on their picks.
    assert not data.network_ratings[USER_ID].isin(cold).any()
    assert len(data.user_x) == data.counts["train_rows"]
    # Shown and scored ratings are real ratings with their stars.
    real = ratings.set_index([USER_ID, MOVIE_ID])[RATING]
    for frame in (data.test_ratings, shown):
        index = pd.MultiIndex.from_frame(frame[[USER_ID, MOVIE_ID]])
        np.testing.assert_array_equal(real.loc[index].to_numpy(), frame[RATING].to_numpy())


def test_the_same_seed_draws_the_same_users(synthetic):
    first = prepare_coldstart(synthetic.ratings, synthetic.movies, preset_config("full"), rng=5)
    again = prepare_coldstart(synthetic.ratings, synthetic.movies, preset_config("full"), rng=5)
    other = prepare_coldstart(synthetic.ratings, synthetic.movies, preset_config("full"), rng=6)
    pd.testing.assert_frame_equal(first.test_ratings, again.test_ratings)
    assert not first.test_ratings.equals(other.test_ratings)


def test_models_that_need_retraining_are_named_with_a_reason():
    assert set(EXCLUDED) == {"svd", "knn_baseline", "als"}
    assert all(reason for reason in EXCLUDED.values())
