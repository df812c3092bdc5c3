"""Two models side by side for one user: their lists, popularity, overlap and own
favourites found."""

from __future__ import annotations

import numpy as np

from recsys.columns import MOVIE_ID, NUM_RATINGS, RATING
from recsys.serving.compare import POPULAR, compare_for_user, favourites_found


def test_favourites_found_counts_liked_movies_in_the_top_n():
    rank = np.array([0.9, 0.1, 0.8, 0.5, 0.7])
    assert favourites_found(rank, np.array([0, 1, 2]), 2) == 2  # rows 0 and 2 lead
    assert favourites_found(rank, np.array([1, 3]), 3) == 0
    assert favourites_found(rank, np.array([], dtype=int), 3) == 0


def test_a_model_is_compared_with_itself_and_with_popularity(recommender):
    user_id = int(recommender.user_ids[0])
    result = compare_for_user({"a": recommender, "b": recommender}, user_id, top=5)
    assert list(result.lists) == ["a", "b", POPULAR]
    assert (
        result.lists["a"][MOVIE_ID].tolist()
        == recommender.for_user(user_id, 5).unseen[MOVIE_ID].tolist()
    )
    shared = dict(
        zip(
            zip(result.overlap["list"], result.overlap["other list"]),
            result.overlap["shared movies"],
        )
    )
    assert shared[("a", "b")] == 5  # the same model: the same list
    # Popularity: the most-rated movies the user has not rated, most rated first.
    own = recommender.ratings[recommender.ratings["userId"] == user_id]
    popular = result.lists[POPULAR]
    assert not set(popular[MOVIE_ID]) & set(own[MOVIE_ID])
    assert popular[NUM_RATINGS].is_monotonic_decreasing
    liked = own[own[RATING] >= 4.0]
    assert result.liked == len(liked)
    assert 0 <= result.favourites["a"] <= min(5, len(liked))


def test_a_user_unknown_to_one_model_is_said_not_hidden(recommender):
    result = compare_for_user({"a": recommender}, 10**9, top=5)
    assert "a" in result.missing and "not in this model" in result.missing["a"]
    assert result.lists == {}
