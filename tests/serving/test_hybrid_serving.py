"""The hybrid model served over the whole ml-latest-small catalogue: sliders that mean
what they say, picked movies that pull their neighbours up, titles of every year."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import GENRES, MOVIE_ID, PREDICTED, TITLE


def _has_any(table, genres: tuple[str, ...]):
    return table[GENRES].str.split("|").apply(lambda gs: bool(set(gs) & set(genres)))


@pytest.mark.slow
def test_the_whole_catalogue_is_served_and_searchable(hybrid_recommender):
    assert len(hybrid_recommender.items) == 9742
    toy_story = hybrid_recommender.find_movie("Toy Story (1995)")
    assert hybrid_recommender.title_of(toy_story) == "Toy Story (1995)"
    assert len(hybrid_recommender.similar(toy_story, k=5)) == 5


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sliders", "genres"),
    [
        ({"Adventure": 5.0, "Fantasy": 5.0}, ("Adventure", "Fantasy")),
        ({"Animation": 5.0, "Children": 5.0}, ("Animation", "Children")),
    ],
)
def test_sliders_alone_put_their_genres_first(hybrid_recommender, sliders, genres):
    top = hybrid_recommender.for_new_user(sliders, top=5)
    assert _has_any(top, genres).all(), top[[TITLE, GENRES]]


@pytest.mark.slow
def test_a_low_genre_rating_pushes_the_genre_down(hybrid_recommender):
    top = hybrid_recommender.for_new_user({"Adventure": 0.5, "Fantasy": 0.5}, top=10)
    assert _has_any(top, ("Adventure", "Fantasy")).sum() <= 3, top[[TITLE, GENRES]]


def _percentile_of(scores: np.ndarray, rows: np.ndarray) -> float:
    """Mean share of the catalogue ranked below each of ``rows`` (1 = the very top)."""
    order = scores.argsort().argsort()
    return float(np.mean(order[rows] / (len(scores) - 1)))


@pytest.mark.slow
def test_picked_movies_pull_their_neighbours_up(hybrid_recommender):
    rec = hybrid_recommender
    rated = rec.items[rec.items["num ratings"] >= 20][MOVIE_ID].to_numpy()
    rng = np.random.default_rng(1)
    gains = []
    for _ in range(10):
        picks = {int(m): 5.0 for m in rng.choice(rated, 3, replace=False)}
        neighbours = set()
        for movie_id in picks:
            neighbours |= set(rec.similar(movie_id, k=5)[MOVIE_ID]) - set(picks)
        rows = rec.catalogue.rows_of(np.array(sorted(neighbours)))
        with_picks = rec.new_user_scores({}, picks).rank
        without = rec.new_user_scores({}).rank
        gains.append(_percentile_of(with_picks, rows) - _percentile_of(without, rows))
    assert np.mean(gains) > 0.05 and sum(g > 0 for g in gains) >= 8, gains
    listed = rec.for_new_user({}, picks, top=10)
    assert not set(listed[MOVIE_ID]) & set(picks)
    assert listed[PREDICTED].between(0.5, 5.0).all()
