"""Baselines on a tiny hand-made frame (exact values), and on synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys.columns import GENRE_LIST, MOVIE_ID, RATING, USER_ID
from recsys.evaluation.baselines import (
    BASELINES,
    Bias,
    GenreProfile,
    GlobalMean,
    MovieMean,
    Popular,
    UserMean,
    make_baseline,
)
from recsys.evaluation.metrics import rmse

# Three users, three rated movies (10 Action, 20 Comedy, 30 Action|Comedy) and one
# unrated Drama (40). Stars: the global mean is 15 / 5 = 3.
RATINGS = pd.DataFrame(
    {
        USER_ID: [1, 1, 2, 2, 3],
        MOVIE_ID: [10, 20, 10, 30, 20],
        RATING: [4.0, 2.0, 5.0, 3.0, 1.0],
    }
)


def _items(genres: dict[int, tuple[str, ...]]) -> pd.DataFrame:
    rows = [
        [movie, *(1.0 if g in tags else 0.0 for g in GENRE_LIST)] for movie, tags in genres.items()
    ]
    return pd.DataFrame(rows, columns=[MOVIE_ID, *GENRE_LIST])


ITEMS = _items({10: ("Action",), 20: ("Comedy",), 30: ("Action", "Comedy"), 40: ("Drama",)})


def test_global_mean():
    model = GlobalMean().fit(RATINGS, ITEMS)
    np.testing.assert_array_equal(model.predict([1, 99], [10, 99]), [3.0, 3.0])


def test_movie_mean_falls_back_to_the_global_mean():
    model = MovieMean().fit(RATINGS, ITEMS)
    # 10: (4 + 5) / 2; 20: (2 + 1) / 2; 30: 3; 40 has no rating, 99 is unknown → 3.
    np.testing.assert_array_equal(
        model.predict([1, 1, 1, 1, 1], [10, 20, 30, 40, 99]), [4.5, 1.5, 3.0, 3.0, 3.0]
    )


def test_user_mean_falls_back_to_the_global_mean():
    model = UserMean().fit(RATINGS, ITEMS)
    np.testing.assert_array_equal(model.predict([1, 2, 3, 99], [10] * 4), [3.0, 4.0, 1.0, 3.0])


def test_bias_one_round_by_hand():
    # μ = 3, residuals r − μ: (1,10) +1, (1,20) −1, (2,10) +2, (2,30) 0, (3,20) −2.
    # reg 1: b_10 = (1 + 2) / (1 + 2) = 1, b_20 = (−1 − 2) / 3 = −1, b_30 = 0 / 2 = 0;
    # then b_1 = ((1 − 1) + (−1 + 1)) / 3 = 0, b_2 = ((2 − 1) + 0) / 3 = 1/3,
    # b_3 = (−2 + 1) / 2 = −1/2.
    model = Bias(reg_u=1.0, reg_i=1.0, n_epochs=1).fit(RATINGS, ITEMS)
    np.testing.assert_allclose(
        model.predict([2, 3, 1], [20, 10, 30]), [3 + 1 / 3 - 1, 3 - 0.5 + 1, 3.0]
    )


def test_bias_scores_are_unclipped_but_predictions_are_clipped():
    # Without regularisation user 1 and movie 10 both look far above the mean.
    ratings = pd.DataFrame(
        {USER_ID: [1, 1, 2, 2], MOVIE_ID: [10, 20, 10, 20], RATING: [5.0, 4.0, 4.0, 1.0]}
    )
    model = Bias(reg_u=0.0, reg_i=0.0, n_epochs=1).fit(ratings)
    # μ = 3.5, b_10 = 1, b_20 = −1; b_1 = ((1.5 − 1) + (0.5 + 1)) / 2 = 1.
    assert model.scores([1], [10])[0, 0] == pytest.approx(5.5)
    assert model.predict([1], [10])[0] == 5.0  # clipped to the training stars' 1..5


def test_genre_profile_averages_the_users_genre_means():
    model = GenreProfile().fit(RATINGS, ITEMS)
    # User 1: Action 4, Comedy 2 → movie 30 (both) = 3; Drama unrated → user mean 3.
    # User 2: Action (5 + 3) / 2 = 4, Comedy 3 → movie 20 = 3, movie 30 = 3.5.
    # User 3: Comedy 1 only → movie 30 = 1, movie 10 (Action) → user mean 1.
    # Unknown user → the global mean 3.
    predicted = model.predict([1, 1, 2, 2, 3, 3, 99], [30, 40, 20, 30, 30, 10, 30])
    np.testing.assert_allclose(predicted, [3.0, 3.0, 3.0, 3.5, 1.0, 1.0, 3.0])


def test_genre_profile_needs_items():
    with pytest.raises(ValueError, match="genre flags"):
        GenreProfile().fit(RATINGS)


def test_popular_counts_ratings_and_predicts_no_rating():
    model = Popular().fit(RATINGS, ITEMS)
    np.testing.assert_array_equal(
        model.scores([1, 2], [10, 20, 30, 40]), [[2, 2, 1, 0], [2, 2, 1, 0]]
    )
    assert np.isnan(model.predict([1], [10])).all()
    assert not model.predicts_ratings


@pytest.mark.parametrize("name", [n for n in BASELINES if n != "popular"])
def test_scores_agree_with_pairwise_predictions(name):
    model = make_baseline(name).fit(RATINGS, ITEMS)
    users, movies = np.array([1, 2, 3]), np.array([10, 20, 30, 40])
    matrix = model.scores(users, movies)
    assert matrix.shape == (3, 4)
    pairs = model.predict(np.repeat(users, 4), np.tile(movies, 3)).reshape(3, 4)
    np.testing.assert_allclose(np.clip(matrix, 1.0, 5.0), pairs)


def test_fit_leaves_the_frames_untouched():
    before_ratings, before_items = RATINGS.copy(), ITEMS.copy()
    for name in BASELINES:
        make_baseline(name).fit(RATINGS, ITEMS)
    pd.testing.assert_frame_equal(RATINGS, before_ratings)
    pd.testing.assert_frame_equal(ITEMS, before_items)


def test_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("svd")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    stars=st.lists(st.sampled_from([0.5, 1.0, 2.5, 4.0, 5.0]), min_size=4, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_predictions_stay_within_the_training_stars(stars, seed):
    rng = np.random.default_rng(seed)
    n = len(stars)
    ratings = pd.DataFrame(
        {USER_ID: rng.integers(1, 6, n), MOVIE_ID: rng.integers(1, 8, n), RATING: stars}
    ).drop_duplicates([USER_ID, MOVIE_ID])
    items = _items({m: (GENRE_LIST[m % 14],) for m in range(1, 9)})
    low, high = ratings[RATING].min(), ratings[RATING].max()
    for name in ("global_mean", "movie_mean", "user_mean", "bias", "genre_profile"):
        predicted = (
            make_baseline(name)
            .fit(ratings, items)
            .predict(np.repeat(np.arange(0, 7), 9), np.tile(np.arange(0, 9), 7))
        )
        assert np.all((predicted >= low) & (predicted <= high)), name


def test_bias_beats_the_global_mean_on_synthetic_data(tmp_path):
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.synth import write_synthetic
    from recsys.evaluation import split_ratings

    write_synthetic(tmp_path, n_users=150, n_movies=200, n_ratings=12_000, rng=3)
    dataset = load_movielens(tmp_path)
    split = split_ratings(dataset.ratings, "holdout", rng=3)
    test = split.test[split.test[MOVIE_ID].isin(split.train[MOVIE_ID])]
    errors = {}
    for name in ("global_mean", "bias"):
        model = make_baseline(name).fit(split.train)
        errors[name] = rmse(model.predict(test[USER_ID], test[MOVIE_ID]), test[RATING])
    # The generator plants user and movie biases of 0.3 stars (sd) each.
    assert errors["bias"] < errors["global_mean"] - 0.05, errors
