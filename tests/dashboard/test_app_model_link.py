"""The served model and presenter mode across pages and links; the New user page's
work kept over a model switch (AppTest, no browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recsys.columns import MOVIE_ID, WHY
from recsys.serving.recommender import Recommender
from tests.dashboard.apptest import go, ok, open_app, table, texts, unescape


@pytest.fixture(scope="module")
def short_lab_artifacts(hostile, hybrid_artifacts, tmp_path_factory) -> Path:
    """The hostile dataset's hybrid bundle with a lab bundle beside it on the lab's
    preset (movies of 2001 and later): the lab lacks the older movies."""
    from tests.helpers import train_small_bundle

    data, _, _ = hostile
    artifacts = tmp_path_factory.mktemp("short_lab") / "artifacts"
    shutil.copytree(hybrid_artifacts, artifacts)
    train_small_bundle(data, artifacts, epochs=1, preset="lab")
    return artifacts


def _served(artifacts: Path, kind: str) -> Recommender:
    return Recommender.load(artifacts / (artifacts / f"CURRENT-{kind}").read_text().strip())


def test_a_model_switch_names_the_picks_it_lacks_and_a_switch_back_restores_them(
    monkeypatch, hostile, short_lab_artifacts
):
    data, _, _ = hostile
    hybrid, lab = _served(short_lab_artifacts, "hybrid"), _served(short_lab_artifacts, "lab")
    lab_ids = set(lab.items[MOVIE_ID])
    lacking = [int(m) for m in hybrid.items[MOVIE_ID] if m not in lab_ids][:2]
    shared = next(int(m) for m in hybrid.items[MOVIE_ID] if m in lab_ids)
    assert len(lacking) == 2, "the lab's preset keeps fewer movies than the hybrid"
    picks = ",".join(f"{m}:5" for m in (*lacking, shared))
    at = open_app(monkeypatch, short_lab_artifacts, data, "new_user", {"movies": picks})
    assert at.query_params["movies"] == picks

    at.button_group(key="served_model").set_value("lab")
    at = ok(at.run())
    shown = unescape(texts(at))
    for movie_id in lacking:
        assert f"{hybrid.title_of(movie_id)}" in shown
    assert "not among the lab network's movies; kept for when you switch back" in shown
    # The lab serves the one it knows; the link keeps all three, so a reload keeps them.
    assert at.query_params["movies"] == picks
    assert at.query_params["model"] == "lab"

    at.button_group(key="served_model").set_value("hybrid")
    at = ok(at.run())
    assert at.query_params["movies"] == picks  # all three are back
    assert "years" not in at.query_params  # no filter the user did not set
    assert "kept for when you switch back" not in texts(at)


def test_picks_the_served_model_lacks_survive_a_reload_and_return_on_a_switch_back(
    monkeypatch, hostile, short_lab_artifacts
):
    data, _, _ = hostile
    hybrid, lab = _served(short_lab_artifacts, "hybrid"), _served(short_lab_artifacts, "lab")
    lab_ids = set(lab.items[MOVIE_ID])
    lacking = next(int(m) for m in hybrid.items[MOVIE_ID] if m not in lab_ids)
    shared = next(int(m) for m in hybrid.items[MOVIE_ID] if m in lab_ids)
    picks = f"{lacking}:4.5,{shared}:5"
    # A reload of the lab's link: a new session, only the link to go on.
    at = open_app(
        monkeypatch, short_lab_artifacts, data, "new_user", {"movies": picks, "model": "lab"}
    )
    shown = unescape(texts(at))
    assert f"{hybrid.title_of(lacking)} is not among the lab network's movies" in shown
    assert "ignored in movies" not in shown  # kept, not dropped as unknown
    assert at.query_params["movies"] == picks

    at.button_group(key="served_model").set_value("hybrid")
    at = ok(at.run())
    assert at.query_params["movies"] == picks
    assert "kept for when you switch back" not in texts(at)
    # Served again: the pick has its remove button under the title search.
    assert any(unescape(b.label).startswith(hybrid.title_of(lacking)) for b in at.button)


def test_a_year_range_the_user_set_is_kept_inside_the_other_models_years():
    from recsys.dashboard.urls import kept_years

    assert kept_years((2001, 2018), (2001, 2018), (1902, 2018)) == (1902, 2018)
    assert kept_years((1990, 2010), (1902, 2018), (2001, 2018)) == (2001, 2010)
    assert kept_years((1990, 2010), None, (1902, 2018)) == (1990, 2010)


def test_every_page_names_its_model_in_the_link_and_a_shared_link_opens_on_it(
    monkeypatch, hostile, both_artifacts
):
    data, _, _ = hostile
    at = open_app(monkeypatch, both_artifacts, data, "overview")
    assert at.query_params["model"] == "hybrid"
    at.button_group(key="served_model").set_value("lab")
    at = ok(at.run())
    for page in ("new_user", "existing_user", "similar_movies", "explore", "model", "tour"):
        at = go(at, page)
        assert at.query_params["model"] == "lab", page

    # A new session (a shared link, a reload) opens on the link's model.
    hybrid_top = table(open_app(monkeypatch, both_artifacts, data, "new_user"), WHY)[MOVIE_ID]
    shared = open_app(monkeypatch, both_artifacts, data, "new_user", {"model": "lab"})
    assert shared.button_group(key="served_model").value == "lab"
    assert table(shared, WHY)[MOVIE_ID].tolist() != hybrid_top.tolist()
    assert shared.query_params["model"] == "lab"

    # A model that is not trained is named, and the default is served.
    odd = open_app(monkeypatch, both_artifacts, data, "new_user", {"model": "nope"})
    assert odd.button_group(key="served_model").value == "hybrid"
    assert "ignored model='nope'" in unescape(texts(odd))


def test_a_switch_is_not_undone_by_the_link_it_replaces(monkeypatch, hostile, both_artifacts):
    data, _, _ = hostile
    at = open_app(monkeypatch, both_artifacts, data, "similar_movies", {"model": "hybrid"})
    at.button_group(key="served_model").set_value("lab")
    at = ok(at.run())
    assert at.button_group(key="served_model").value == "lab"
    assert at.query_params["model"] == "lab"


# ------------------------------------------------------------------ the Tour


def _tour_text(at) -> str:
    return unescape("\n".join(m.value for m in at.markdown if m.value.startswith("####")))


def test_the_tour_is_true_to_the_hybrid_and_reads_its_figures_from_the_bundle(
    monkeypatch, hostile, hybrid_artifacts
):
    from recsys.dashboard.tour import STEPS

    data, _, _ = hostile
    served = _served(hybrid_artifacts, "hybrid")
    dim, movies = served.manifest["config"]["dim"], served.manifest["counts"]["items"]
    said = {}
    for step in STEPS:
        at = open_app(monkeypatch, hybrid_artifacts, data, "tour", {"step": step.slug})
        said[step.slug] = _tour_text(at)
    assert f"on {movies:,} movies" in said["data"] and "title words and tags" in said["data"]
    assert "its year, its average rating and its genres" not in said["vectors"]
    assert "The lab's network sees less" in said["vectors"]  # how the two differ
    assert f"into {dim} numbers" in said["network"] and "32 numbers" not in said["network"]
    assert "is the predicted rating" not in said["network"]
    assert "ranking loss" in said["training"] and "validation loss shows" not in said["training"]
    assert f"validation RMSE {served.manifest['validation']['rmse_stars']:.2f}" in said["training"]
    assert "{" not in "".join(said.values())  # every figure filled in


def test_the_tour_for_the_lab_reads_its_width_and_says_when_no_validation_curve(hostile_app):
    at = hostile_app("tour", {"step": "network"})
    assert "into 32 numbers" in _tour_text(at)  # the lab's towers end in Dense 32
    assert "dot product is the predicted rating" in _tour_text(at)
    at = hostile_app("tour", {"step": "training"})
    assert "kept no validation loss per epoch" in _tour_text(at)


def test_the_existing_user_fit_tooltip_names_the_served_model(
    monkeypatch, hostile, hybrid_artifacts
):
    data, _, _ = hostile
    at = open_app(monkeypatch, hybrid_artifacts, data, "existing_user")
    helps = [m.help for m in at.metric if m.label.startswith("RMSE on ratings")]
    assert helps and "the hybrid model trained on all of them" in helps[0]
    assert "random 80%" not in helps[0]


# ------------------------------------------------------------------ explore's catalogue


def test_explore_browses_the_whole_dataset_under_the_lab_and_says_what_it_lacks(
    monkeypatch, hostile, short_lab_artifacts
):
    import pandas as pd

    data, _, _ = hostile
    movies = pd.read_csv(data / "movies.csv")
    lab = _served(short_lab_artifacts, "lab")
    lacking = next(int(m) for m in movies[MOVIE_ID] if m not in set(lab.items[MOVIE_ID]))
    at = open_app(monkeypatch, short_lab_artifacts, data, "explore", {"model": "lab"})
    assert at.button_group(key="served_model").value == "lab"
    assert f"of {len(movies):,} movies match" in texts(at)
    at = open_app(
        monkeypatch, short_lab_artifacts, data, "explore", {"model": "lab", "movie": str(lacking)}
    )
    assert at.session_state["ex_movie"] == lacking
    assert "is not among the lab network's movies" in texts(at)
    assert not at.error
