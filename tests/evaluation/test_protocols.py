"""Prepared data: held-out ratings shape no training feature (holdout, temporal); lab leaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import preset_config
from recsys.dataset.movielens import MovieLens
from recsys.evaluation import split_ratings
from recsys.evaluation.protocols import prepare_holdout, prepare_lab


def _with_held_out_changed(dataset: MovieLens, protocol: str, seed: int) -> pd.DataFrame:
    """The ratings with every held-out star flipped (5.5 − r), the split unchanged."""
    test_index = split_ratings(dataset.ratings, protocol, rng=seed).test.index
    changed = dataset.ratings.copy()
    changed.loc[test_index, RATING] = 5.5 - changed.loc[test_index, RATING]
    return changed


@pytest.mark.parametrize("protocol", ["holdout", "temporal"])
def test_changing_held_out_ratings_changes_no_training_feature(synthetic, protocol):
    config = preset_config("lab")
    before = prepare_holdout(synthetic.ratings, synthetic.movies, protocol, config, rng=5)
    changed = _with_held_out_changed(synthetic, protocol, seed=5)
    after = prepare_holdout(changed, synthetic.movies, protocol, config, rng=5)
    assert not before.test_ratings[RATING].equals(after.test_ratings[RATING])  # it did change
    pd.testing.assert_frame_equal(before.training.items, after.training.items, check_exact=True)
    pd.testing.assert_frame_equal(before.training.users, after.training.users, check_exact=True)
    for field in ("user_x", "item_x", "y_scaled"):
        np.testing.assert_array_equal(getattr(before, field), getattr(after, field))
    for field in ("user_mean", "user_scale", "item_mean", "item_scale"):
        np.testing.assert_array_equal(getattr(before.scalers, field), getattr(after.scalers, field))
    assert (before.scalers.target_min, before.scalers.target_max) == (
        after.scalers.target_min,
        after.scalers.target_max,
    )
    pd.testing.assert_frame_equal(before.train_ratings, after.train_ratings, check_exact=True)


def test_the_lab_protocol_does_leak(synthetic):
    # The same change moves the lab's features: what the leak test above guards against.
    config = preset_config("lab")
    before = prepare_lab(synthetic, config)
    changed = _with_held_out_changed(synthetic, "holdout", seed=5)
    after = prepare_lab(MovieLens(changed, synthetic.movies, "changed", "changed", ()), config)
    assert not before.training.items.equals(after.training.items)


def test_test_ratings_are_known_to_training(synthetic):
    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=2
    )
    assert data.test_ratings[MOVIE_ID].isin(data.training.items[MOVIE_ID]).all()
    assert data.test_ratings[USER_ID].isin(data.training.users[USER_ID]).all()
    train_pairs = set(map(tuple, data.train_ratings[[USER_ID, MOVIE_ID]].to_numpy()))
    test_pairs = set(map(tuple, data.test_ratings[[USER_ID, MOVIE_ID]].to_numpy()))
    assert not train_pairs & test_pairs
    # The movie selection counted training ratings only: min_ratings holds there.
    counts = data.train_ratings[MOVIE_ID].value_counts()
    assert (counts.reindex(data.training.items[MOVIE_ID]).fillna(0) >= 10).all()


def test_the_lab_protocol_scores_the_rows_the_lab_split_holds_out(synthetic):
    # What the bundle's training calls its test rows, the evaluation scores: same stars,
    # same scaled inputs, in the same order.
    from recsys.model.lab.train import lab_split

    data = prepare_lab(synthetic, preset_config("lab"))
    split = lab_split(data.training)
    test_scaled = data.scalers.scale_target(data.test_ratings[RATING])
    np.testing.assert_array_equal(test_scaled, split.y_test)
    np.testing.assert_array_equal(data.user_x, split.user_train)
    np.testing.assert_array_equal(data.y_scaled, split.y_train)
    assert len(data.train_ratings) + len(data.test_ratings) == len(data.training.y)
