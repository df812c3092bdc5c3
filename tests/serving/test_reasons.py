"""Reasons on every recommendation: the liked movies closest to it and the genres that
raise it, read off the model; they differ from row to row where the model's do."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import BECAUSE, GENRE_LIFT, GENRES, MOVIE_ID, WHY
from recsys.serving import reasons

# ---------------------------------------------------------------------------- the parts


def test_liked_movies_are_those_rated_four_stars_or_more_best_first():
    assert reasons.liked_movies({10: 4.0, 11: 3.5, 12: 5.0, 9: 4.0}) == [12, 9, 10]
    assert reasons.liked_movies({1: 3.0}) == []


def test_the_closest_liked_movies_come_first_with_ties_by_id():
    distances = np.array([[0.5, 0.1, 0.9], [0.2, 0.2, 0.1]])
    assert reasons.closest_liked(distances, [30, 10, 20]) == [[10, 30], [20, 10]]
    assert reasons.closest_liked(np.zeros((2, 0)), []) == [[], []]


def test_a_genre_lift_is_the_change_beyond_what_every_movie_gets():
    # Removing Comedy lowers every movie by 1 and movie 2 by 3 more; removing Drama
    # lowers only movie 0.
    base = np.array([5.0, 4.0, 6.0, 1.0])
    without = {
        frozenset({"Comedy"}): base - np.array([1.0, 1.0, 4.0, 1.0]),
        frozenset({"Drama"}): base - np.array([2.0, 0.0, 0.0, 0.0]),
    }
    rows, genres = np.array([0, 2]), ["Comedy", "Drama"]
    lifts = reasons.genre_lifts(base, without.__getitem__, rows, genres)
    np.testing.assert_allclose(lifts, [[1 - 1.75, 2 - 0.5], [4 - 1.75, 0 - 0.5]])
    top = reasons.top_lifts(lifts, ["Comedy", "Drama"])
    assert top == [{"Drama": 1.5}, {"Comedy": 2.25}]  # a negative lift is no reason


def test_small_lifts_are_no_reason_and_at_most_two_are_named():
    lifts = np.array([[0.5, 0.3, 0.2, 0.01]])
    assert reasons.top_lifts(lifts, ["A", "B", "C", "D"]) == [{"A": 0.5, "B": 0.3}]
    assert reasons.top_lifts(np.array([[0.05]]), ["A"]) == [{}]


def test_the_text_names_the_movies_and_genres_or_says_it_is_for_everyone():
    text = reasons.reason_text(["Shrek (2001)"], {"Fantasy": 0.42})
    assert text == "because you liked Shrek (2001) · raised by your Fantasy (+0.42) rating"
    assert reasons.reason_text([], {}) == reasons.EVERYONE


# ---------------------------------------------------------------------------- on a model


def _explained(rec, genre_ratings, picks, top=10):
    table = rec.for_new_user(genre_ratings, picks, top=top, explain=True)
    plain = rec.for_new_user(genre_ratings, picks, top=top)
    assert table[MOVIE_ID].tolist() == plain[MOVIE_ID].tolist()  # reasons change no order
    return table


@pytest.mark.slow
def test_because_names_the_liked_pick_closest_in_the_movie_space(hybrid_recommender):
    rec = hybrid_recommender
    shrek, alien = rec.find_movie("Shrek (2001)"), rec.find_movie("Alien (1979)")
    table = _explained(rec, {}, {shrek: 5.0, alien: 5.0}, top=20)
    picked = rec.catalogue.rows_of([shrek, alien])
    rows = rec.catalogue.rows_of(table[MOVIE_ID])
    distances = rec.catalogue.space.pair_distances(rows, picked)
    for because, nearest in zip(table[BECAUSE], distances.argmin(axis=1), strict=True):
        assert because[0] == [shrek, alien][nearest]
    # Two picks far apart in taste: different rows credit different picks.
    assert len({ids[0] for ids in table[BECAUSE]}) == 2, table[[WHY]]


@pytest.mark.slow
def test_reasons_differ_from_row_to_row(hybrid_recommender):
    table = _explained(hybrid_recommender, {"Adventure": 5.0, "Fantasy": 5.0, "Comedy": 4.0}, {})
    assert table[WHY].nunique() >= 5, table[WHY].tolist()
    # The genre a row is credited with is one of its own genres or one the user rated.
    for genres, lift in zip(table[GENRES], table[GENRE_LIFT], strict=True):
        assert lift, genres
        assert set(lift) <= {"Adventure", "Fantasy", "Comedy"}


@pytest.mark.slow
def test_a_genre_lift_is_what_removing_the_rating_takes_away(hybrid_recommender):
    rec = hybrid_recommender
    sliders = {"Adventure": 5.0, "Fantasy": 5.0}
    table = _explained(rec, sliders, {}, top=5)
    base = rec.new_user_scores(sliders).rank
    without = rec.new_user_scores({"Adventure": 5.0}).rank  # Fantasy removed
    change = base - without
    rows = rec.catalogue.rows_of(table[MOVIE_ID])
    checked = 0
    for row, lift in zip(rows, table[GENRE_LIFT], strict=True):
        if "Fantasy" in lift:
            assert lift["Fantasy"] == pytest.approx(change[row] - change.mean(), abs=1e-3)
            checked += 1
    assert checked, table[[WHY]]  # the Fantasy fan's list is credited to Fantasy somewhere


def test_an_existing_user_gets_reasons_from_their_own_ratings(recommender):
    user_id = int(recommender.user_ids[0])
    result = recommender.for_user(user_id, top=5, explain=True)
    own = recommender.ratings[recommender.ratings["userId"] == user_id]
    liked = set(own[own["rating"] >= reasons.LIKED_STARS]["movieId"])
    assert all(set(ids) <= liked for ids in result.unseen[BECAUSE])
    assert all(len(ids) == min(2, len(liked)) for ids in result.unseen[BECAUSE])
    assert (
        result.unseen[MOVIE_ID].tolist()
        == recommender.for_user(user_id, top=5).unseen[MOVIE_ID].tolist()
    )
