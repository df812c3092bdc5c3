"""What every model kind promises through the Recommender, checked on each kind.

The same tests run on the lab network and on the hybrid model (one small bundle of each,
trained on synthetic data): picks are never recommended back, filters hold, ties are
broken the same way every time, ``predict`` agrees with the ``for_user`` table, bad
picks raise the one-line usage error, and ``explain`` adds the reason columns.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.columns import BECAUSE, GENRE_LIFT, GENRES, MOVIE_ID, PREDICTED, WHY, YEAR
from recsys.config import HYBRID, MODELS, hybrid_config
from recsys.dataset.movielens import load_movielens
from recsys.dataset.synth import write_synthetic
from recsys.errors import UsageError
from recsys.serving.catalogue import Catalogue
from recsys.serving.recommender import Recommender
from recsys.serving.scoring import SCORINGS
from tests.helpers import train_small_bundle

GENRE_STARS = {"Comedy": 5.0, "Drama": 2.0}
REASONS = (WHY, BECAUSE, GENRE_LIFT)


@pytest.fixture(scope="module", params=MODELS)
def artifacts(request, tmp_path_factory) -> Path:
    """A small served bundle of each model kind, on the same synthetic data."""
    data = tmp_path_factory.mktemp(f"contract-data-{request.param}")
    write_synthetic(data, n_users=80, n_movies=150, n_ratings=6000, rng=5)
    artifacts = tmp_path_factory.mktemp(f"contract-{request.param}")
    if request.param != HYBRID:
        train_small_bundle(data, artifacts, epochs=2, preset="full")
    else:
        from recsys.model.hybrid.train import train_hybrid_bundle

        dataset = load_movielens(data)
        train_hybrid_bundle(dataset, hybrid_config(epochs=2), artifacts)
    return artifacts


@pytest.fixture(scope="module")
def model(artifacts) -> Recommender:
    return Recommender.load(artifacts)


def liked_movies(model: Recommender, n: int = 3) -> dict[int, float]:
    return {int(m): 4.5 for m in model.items[MOVIE_ID].to_numpy()[:n]}


def test_picks_are_never_recommended_back(model):
    picks = liked_movies(model)
    every = model.for_new_user(GENRE_STARS, picks, top=len(model.items))
    assert len(every) == len(model.items) - len(picks)
    assert not set(every[MOVIE_ID]) & set(picks)


def test_filters_hold(model):
    years = model.items[YEAR].dropna()
    low, high = float(years.quantile(0.25)), float(years.quantile(0.75))
    table = model.for_new_user(
        GENRE_STARS,
        top=len(model.items),
        include_genres=["Comedy"],
        exclude_genres=["Horror"],
        year_range=(low, high),
    )
    assert len(table) > 0
    genres = table[GENRES].str.split("|")
    assert genres.map(lambda g: "Comedy" in g).all()
    assert not genres.map(lambda g: "Horror" in g).any()
    assert table[YEAR].between(low, high).all()


def test_ties_are_broken_by_movie_id_every_time(model, artifacts):
    picks = liked_movies(model, 2)
    table = model.for_new_user(GENRE_STARS, picks, top=20)
    again = Recommender.load(artifacts).for_new_user(GENRE_STARS, picks, top=20)
    pd.testing.assert_frame_equal(table, again)
    rank = model.new_user_scores(GENRE_STARS, picks).rank
    ids = model.items[MOVIE_ID].to_numpy()
    candidates = np.flatnonzero(~np.isin(ids, list(picks)))
    best_first = candidates[np.lexsort((ids[candidates], -rank[candidates]))]
    assert table[MOVIE_ID].tolist() == ids[best_first[:20]].tolist()


def test_predict_agrees_with_the_for_user_table(model):
    user = int(model.user_ids[0])
    rated = model.for_user(user).rated
    predicted = model.predict(np.full(len(rated), user), rated[MOVIE_ID].to_numpy())
    np.testing.assert_allclose(predicted, rated[PREDICTED].to_numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "bad", ["unknown movie", "too many stars", "stars between halves", "no stars at all"]
)
def test_bad_picks_raise_the_usage_error(model, bad):
    known = int(model.items[MOVIE_ID].iat[0])
    picks = {
        "unknown movie": {int(model.items[MOVIE_ID].max()) + 1: 4.0},
        "too many stars": {known: 7.0},
        "stars between halves": {known: 2.3},
        "no stars at all": {known: 0.0},
    }[bad]
    with pytest.raises(UsageError):
        model.for_new_user(GENRE_STARS, picks)


def test_explain_adds_the_reason_columns(model):
    picks = liked_movies(model)
    plain = model.for_new_user(GENRE_STARS, picks)
    explained = model.for_new_user(GENRE_STARS, picks, explain=True)
    assert list(explained.columns) == [*plain.columns, *REASONS]
    pd.testing.assert_frame_equal(explained[list(plain.columns)], plain)
    user = int(model.user_ids[0])
    unseen = model.for_user(user, explain=True).unseen
    assert set(REASONS) <= set(unseen.columns)
    assert not set(REASONS) & set(model.for_user(user).unseen.columns)


def test_a_new_user_is_checked_once_and_its_picks_looked_up_once(model, monkeypatch):
    picks = liked_movies(model)
    expected = model.for_new_user(GENRE_STARS, picks, top=5, explain=True)
    looked_up: list[int] = []
    rows_of = Catalogue.rows_of

    def counted(catalogue, movie_ids):
        looked_up.append(len(np.atleast_1d(movie_ids)))
        return rows_of(catalogue, movie_ids)

    monkeypatch.setattr(Catalogue, "rows_of", counted)
    user = model.new_user(GENRE_STARS, picks)
    assert looked_up == [len(picks)]
    pd.testing.assert_frame_equal(model.for_new_user(user, top=5, explain=True), expected)
    assert looked_up == [len(picks)]  # the request's table and reasons reuse its rows
    with pytest.raises(UsageError, match="not beside a NewUser"):
        model.for_new_user(user, picks)


def test_a_third_kind_is_served_through_its_scorer_alone(model, monkeypatch):
    """What differs by kind is the scorer's: a kind the Recommender has never heard of
    is served once its scorer is registered, with nothing else to change."""
    base = type(model.scoring)

    class ThirdScoring(base):
        whole_catalogue = not base.whole_catalogue

    monkeypatch.setitem(SCORINGS, "third", ThirdScoring)
    third = Recommender(replace(model.decoded, manifest={**model.manifest, "model": "third"}))
    assert type(third.scoring) is ThirdScoring and third.model_kind == "third"
    assert third.scoring.whole_catalogue is not model.scoring.whole_catalogue
    pd.testing.assert_frame_equal(
        third.for_new_user(GENRE_STARS, top=5), model.for_new_user(GENRE_STARS, top=5)
    )
    monkeypatch.delitem(SCORINGS, "third")
    with pytest.raises(ValueError, match="'third' cannot be served"):
        Recommender(replace(model.decoded, manifest={"model": "third"}))
