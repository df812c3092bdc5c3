"""Item and user vectors, the lab preset's counts, and genre balancing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import GENRE_LIST, ITEM_VECTOR_COLUMNS, USER_VECTOR_COLUMNS
from recsys.config import preset_config
from recsys.dataset.movielens import load_movielens
from recsys.errors import UsageError
from recsys.model.features import (
    build_features,
    build_training_set,
    item_vectors,
    repeat_counts,
    user_vectors,
)


def _frames():
    movies = pd.DataFrame(
        {
            "movieId": np.array([10, 20, 30], dtype="int32"),
            "title": ["A (2001)", "B (2005)", "C (2010)"],
            "genres": ["Action|Comedy", "Comedy", "Fantasy"],
            "year": np.array([2001, 2005, 2010], dtype="float32"),
        }
    )
    ratings = pd.DataFrame(
        {
            "userId": np.array([1, 1, 2, 2, 2], dtype="int32"),
            "movieId": np.array([10, 20, 10, 20, 30], dtype="int32"),
            "rating": np.array([4.0, 2.0, 5.0, 3.0, 1.0], dtype="float32"),
            "timestamp": np.arange(5, dtype="int64"),
        }
    )
    return ratings, movies


def test_item_vectors_follow_the_lab_layout_and_average_each_movie():
    ratings, movies = _frames()
    items = item_vectors(movies, ratings)
    assert list(items.columns) == list(ITEM_VECTOR_COLUMNS)
    assert items["ave rating"].tolist() == [4.5, 2.5, 1.0]
    assert items.loc[0, "Action"] == 1 and items.loc[0, "Comedy"] == 1
    assert items.loc[0, list(GENRE_LIST)].sum() == 2
    assert items["year"].tolist() == [2001, 2005, 2010]


def test_user_vectors_average_ratings_per_genre_and_zero_where_unrated():
    ratings, movies = _frames()
    users = user_vectors(ratings, item_vectors(movies, ratings))
    assert list(users.columns) == list(USER_VECTOR_COLUMNS)
    first = users.set_index("userId").loc[1]
    assert first["rating count"] == 2
    assert first["rating ave"] == 3.0
    assert first["Action"] == 4.0  # only movie 10
    assert first["Comedy"] == 3.0  # (4 + 2) / 2
    assert first["Fantasy"] == 0.0  # never rated
    second = users.set_index("userId").loc[2]
    assert second["Fantasy"] == 1.0


def test_repeat_counts_favour_ratings_of_rare_genres():
    ratings, movies = _frames()
    items = item_vectors(movies, ratings)
    repeats = repeat_counts(ratings, items, max_repeat=5)
    # Comedy has 4 ratings, Action 2, Fantasy 1: the mean over present genres is 7/3,
    # so the Fantasy rating repeats ceil(7/3 / 1) = 3 times, Action ones ceil(7/6) = 2.
    assert repeats.tolist() == [2, 1, 2, 1, 3]
    assert repeat_counts(ratings, items, max_repeat=2).max() == 2


def test_building_rows_leaves_the_input_frames_unchanged():
    ratings, movies = _frames()
    before = (ratings.copy(), movies.copy())
    config = preset_config("lab", min_ratings=1)
    training = build_training_set(ratings, movies, config)
    pd.testing.assert_frame_equal(ratings, before[0])
    pd.testing.assert_frame_equal(movies, before[1])
    assert training.user_train.shape == (len(training.y), 17)
    assert training.item_train.shape == (len(training.y), 17)
    # Each row pairs a rating with its own user's and movie's vectors.
    assert set(zip(training.user_train[:, 0], training.item_train[:, 0], training.y)) == set(
        zip(ratings.userId.astype(float), ratings.movieId.astype(float), ratings.rating)
    )


def test_unknown_preset_is_refused():
    with pytest.raises(UsageError, match="unknown preset"):
        preset_config("huge")


def test_a_preset_that_keeps_nothing_says_so():
    ratings, movies = _frames()
    with pytest.raises(UsageError, match="keeps no movies"):
        build_training_set(ratings, movies, preset_config("lab"))  # each movie has < 10


def test_lab_preset_reproduces_the_lab_counts(real_data):
    training = build_features(load_movielens(real_data), preset_config("lab"))
    counts = training.counts()
    # The lab's set: 847 movies, 397 users, 25,521 ratings, 50,884 rows. Its rule,
    # applied to today's ml-latest-small, keeps slightly more movies.
    assert counts["users"] == 397
    assert abs(counts["items"] - 847) <= 15
    assert abs(counts["ratings"] - 25_521) / 25_521 < 0.01
    assert abs(counts["rows"] - 50_884) / 50_884 < 0.01
    assert training.items["year"].min() >= 2001
    assert training.items["num ratings"].min() >= 10
    assert (training.items[list(GENRE_LIST)].sum(axis=1) > 0).all()


def test_full_preset_keeps_every_year_without_repetition(real_data):
    training = build_features(load_movielens(real_data), preset_config("full"))
    assert training.items["year"].min() < 2001
    assert len(training.y) == len(training.ratings)


@pytest.mark.parametrize("n_rows", [5, 101, 2_000])
def test_lab_split_rows_are_disjoint_complete_and_80_20(n_rows):
    from recsys.model.lab.train import lab_split_rows

    rows = lab_split_rows(n_rows)
    assert np.intersect1d(rows.train, rows.test).size == 0
    assert np.array_equal(np.sort(np.concatenate([rows.train, rows.test])), np.arange(n_rows))
    assert len(rows.test) == int(np.ceil(0.2 * n_rows))
    # The same rows every time: the evaluation relies on drawing the lab's split again.
    assert np.array_equal(lab_split_rows(n_rows).test, rows.test)


def test_lab_split_takes_the_rows_of_lab_split_rows(synthetic_data):
    from recsys.model.features import build_features
    from recsys.model.lab.train import lab_split, lab_split_rows

    training = build_features(load_movielens(synthetic_data), preset_config("full"))
    split = lab_split(training)
    rows = lab_split_rows(len(training.y))
    assert np.array_equal(split.rows.test, rows.test)
    assert np.allclose(split.y_test, split.scalers.scale_target(training.y[rows.test]))
    assert np.allclose(split.item_test, split.scalers.item_inputs(training.item_train[rows.test]))
    assert split.user_train.shape[1] == 14 and split.item_train.shape[1] == 16
