"""Reasons on every recommendation: the liked movies closest to it and the genres that
raise it, read off the model; they differ from row to row where the model's do."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import BECAUSE, GENRE_LIFT, GENRE_LIST, GENRES, MOVIE_ID, WHY
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


def test_the_text_names_the_movies_and_genres_with_stars_or_says_it_is_for_everyone():
    said = {"Fantasy": reasons.GenreRating(4.5, reasons.SLIDER)}
    text = reasons.reason_text(["Shrek (2001)"], {"Fantasy": 0.42}, said)
    assert text == "because you liked Shrek (2001) · your Fantasy rating (4.5★)"
    assert reasons.reason_text([], {}) == reasons.EVERYONE


def test_because_names_the_liked_pick_whose_term_adds_most():
    terms = np.array([[0.2, 0.9, 0.0], [0.0, -0.3, 0.0], [0.4, 0.4, 0.1]])
    assert reasons.largest_terms(terms, [30, 10, 20]) == [[10, 30], [], [10, 30]]
    assert reasons.largest_terms(np.zeros((2, 0)), []) == [[], []]


def test_a_liked_genre_is_a_reason_only_for_a_movie_that_has_it():
    said = {"Horror": reasons.GenreRating(4.5, reasons.SLIDER)}
    lifts = np.array([[0.8], [0.8]])
    has = np.array([[True], [False]])
    assert reasons.top_lifts(lifts, ["Horror"], has, said) == [{"Horror": 0.8}, {}]


def test_a_low_rating_is_never_a_reason_to_like_a_movie_of_that_genre():
    """A genre rated 0.5★ that lifts a Horror movie names nothing; for a movie without
    Horror it is named as the dislike that pushed the others down."""
    said = {"Horror": reasons.GenreRating(0.5, reasons.SLIDER)}
    lifts = np.array([[3.2], [0.5]])
    has = np.array([[True], [False]])
    top = reasons.top_lifts(lifts, ["Horror"], has, said)
    assert top == [{}, {"Horror": 0.5}]
    text = reasons.reason_text([], top[1], said)
    assert text == "you rated Horror low (0.5★)" and "your Horror" not in text


def test_a_genre_from_a_pick_is_called_the_picks_and_a_slider_wins():
    flags = np.zeros((2, 14), dtype=bool)
    action, adventure = GENRE_LIST.index("Action"), GENRE_LIST.index("Adventure")
    flags[0, action] = flags[1, action] = flags[1, adventure] = True
    stars, titles = np.array([5.0, 4.0]), ["Toy Story", "Up"]
    said = reasons.genres_said({"Adventure": 2.0}, flags, stars, titles, reasons.PICKS)
    assert said == {
        "Action": reasons.GenreRating(4.5, reasons.PICKS, "Toy Story"),
        "Adventure": reasons.GenreRating(2.0, reasons.SLIDER),
    }  # nothing of a genre the user neither set nor picked
    assert reasons.genre_phrase("Action", said["Action"]) == "Action, as in Toy Story"
    low = reasons.GenreRating(1.0, reasons.PICKS, "Saw")
    assert reasons.genre_phrase("Horror", low) == "you rated Saw (Horror) low"
    both = {"Fantasy": said["Action"], "Horror": low, "Animation": said["Action"]}
    text = reasons.reason_text(
        ["Toy Story"], {"Fantasy": 0.4, "Horror": 0.3, "Animation": 0.2}, both
    )
    assert text == (
        "because you liked Toy Story · Fantasy and Animation, as in Toy Story, "
        "you rated Saw (Horror) low"
    )  # one pick's genres said together, once
    mine = reasons.GenreRating(4.3, reasons.RATINGS)
    assert reasons.genre_phrase("Drama", mine) == "your Drama ratings (4.3★ on average)"


# ---------------------------------------------------------------------------- on a model


def _explained(rec, genre_ratings, picks, top=10):
    table = rec.for_new_user(genre_ratings, picks, top=top, explain=True)
    plain = rec.for_new_user(genre_ratings, picks, top=top)
    assert table[MOVIE_ID].tolist() == plain[MOVIE_ID].tolist()  # reasons change no order
    return table


@pytest.mark.slow
def test_on_the_model_because_names_the_pick_whose_term_adds_most(hybrid_recommender):
    rec = hybrid_recommender
    shrek, alien = rec.find_movie("Shrek (2001)"), rec.find_movie("Alien (1979)")
    table = _explained(rec, {}, {shrek: 5.0, alien: 5.0}, top=20)
    params = rec.scoring.params
    picked = params.index.get_indexer([shrek, alien])
    rows = params.index.get_indexer(table[MOVIE_ID])
    terms = params.neighbours.contributions(picked, np.array([5.0, 5.0]), len(params.movie_ids))
    for because, row in zip(table[BECAUSE], rows, strict=True):
        if terms[:, row].max() > 0:
            assert because[0] == [shrek, alien][int(terms[:, row].argmax())]
        else:
            assert because == []
    # Two picks far apart in taste: different rows credit different picks.
    assert len({ids[0] for ids in table[BECAUSE] if ids}) == 2, table[[WHY]]


@pytest.mark.slow
def test_a_lone_pick_names_no_genre_as_the_users_own_rating(hybrid_recommender):
    """Only Toy Story picked, no slider: a genre is named only as Toy Story's, only
    for a movie that has it, and every number has its unit."""
    rec = hybrid_recommender
    toy = rec.find_movie("Toy Story (1995)")
    table = _explained(rec, {}, {toy: 5.0}, top=20)
    toy_genres = set(rec.catalogue.movie_table(rec.catalogue.rows_of([toy]))[GENRES][0].split("|"))
    for why, genres, lift in zip(table[WHY], table[GENRES], table[GENRE_LIFT], strict=True):
        assert "your " not in why, why
        assert set(lift) <= toy_genres & set(genres.split("|")), (why, genres)
        assert not any(ch.isdigit() for ch in why.replace(rec.title_of(toy), "")), why


@pytest.mark.slow
def test_a_genre_rated_low_is_never_why_a_movie_of_it_is_liked(hybrid_recommender):
    rec = hybrid_recommender
    sliders = {"Horror": 0.5, "Children": 0.5, "Thriller": 5.0}
    table = _explained(rec, sliders, {}, top=30)
    for why, genres, lift in zip(table[WHY], table[GENRES], table[GENRE_LIFT], strict=True):
        own = set(genres.split("|"))
        for genre in lift:
            if sliders[genre] < reasons.LIKED_GENRE_STARS:
                assert genre not in own and f"you rated {genre} low" in why, (why, genres)
            else:
                assert genre in own and f"your {genre} rating (5★)" in why, (why, genres)


@pytest.mark.slow
def test_reasons_differ_from_row_to_row(hybrid_recommender):
    table = _explained(hybrid_recommender, {"Adventure": 5.0, "Fantasy": 5.0, "Comedy": 4.0}, {})
    # The lifts (the model's) differ row to row; the text names the genres, not the
    # lifts' score units, so it differs where the genres named or their order do.
    assert table[GENRE_LIFT].astype(str).nunique() >= 5, table[GENRE_LIFT].tolist()
    assert table[WHY].nunique() >= 2, table[WHY].tolist()
    # The genre a row is credited with is one the user rated and one of its own.
    for genres, lift in zip(table[GENRES], table[GENRE_LIFT], strict=True):
        assert set(lift) <= {"Adventure", "Fantasy", "Comedy"} & set(genres.split("|"))


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
