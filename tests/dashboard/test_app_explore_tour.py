"""The Explore and Tour pages, reasons in the tables, and a selected row opening Explore,
through AppTest."""

from __future__ import annotations

import re

import pytest

from recsys.columns import MOVIE_ID, TITLE, WHY
from recsys.dashboard.explore import MAX_SEARCH_CHARS
from recsys.dashboard.tour import STEPS
from recsys.serving.recommender import Recommender
from tests.dashboard.apptest import go, ok, open_app, sidebar_text, table, texts, unescape

# ------------------------------------------------------------------ explore


def test_explore_searches_filters_and_sorts(hostile_app):
    at = hostile_app("explore")
    everything = table(at, "num ratings")
    assert at.text_input(key="ex_text").max_chars == MAX_SEARCH_CHARS  # ~200, not unbounded
    at.text_input(key="ex_text").set_value("movie 1")
    found = table(ok(at.run()), "num ratings")
    assert 0 < len(found) < len(everything)
    assert found[TITLE].str.casefold().str.contains("movie").all()
    assert found[TITLE].str.contains("1").all()
    at.selectbox(key="ex_sort").set_value("Title A–Z")
    found = table(ok(at.run()), "num ratings")
    assert found[TITLE].tolist() == sorted(found[TITLE], key=str)


def test_selecting_a_row_in_explore_shows_that_movie(hostile_app):
    at = hostile_app("explore")
    browse = table(at, "num ratings")
    at.session_state["ex_browse"] = {"selection": {"rows": [2], "columns": []}}
    ok(at.run())
    chosen = int(browse[MOVIE_ID].iat[2])
    assert at.session_state["ex_movie"] == chosen
    assert at.query_params["movie"] == str(chosen)
    assert unescape(at.header[0].value) == browse[TITLE].iat[2]


def test_a_row_selected_on_new_user_opens_in_explore(hostile_app):
    at = hostile_app("new_user")
    top = table(at, "predicted stars")
    at.session_state["nu_table"] = {"selection": {"rows": [1], "columns": []}}
    ok(at.run())
    assert [t.value for t in at.title] == ["Explore"]
    assert at.session_state["ex_movie"] == int(top[MOVIE_ID].iat[1])


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_a_movie_shows_its_ratings_dates_tags_fans_and_neighbours(real_app, real_artifacts):
    model = Recommender.load(real_artifacts)
    shrek = model.find_movie("Shrek (2001)")
    at = real_app("explore", {"movie": "Shrek (2001)"})
    assert at.session_state["ex_movie"] == shrek
    assert unescape(at.header[0].value) == "Shrek (2001)"
    assert len(at.get("vega_lite_chart")) == 2  # the histogram and the ratings over time
    fans = table(at, "their ratings")
    assert fans["rating"].is_monotonic_decreasing and fans["rating"].iat[0] == 5.0
    tags = table(at, "tag")
    assert len(tags) > 0
    neighbours = table(at, "distance")
    assert neighbours[MOVIE_ID].tolist() == model.similar(shrek, 10)[MOVIE_ID].tolist()


def test_a_bad_movie_link_is_answered_on_explore(hostile_app):
    at = hostile_app("explore", {"movie": "no such film at all"})
    assert "no such film" in unescape(texts(at))
    assert at.header  # the most-rated movie is shown instead


# ------------------------------------------------------------------ tour


def test_the_tour_walks_every_step_and_keeps_it_in_the_url(hostile_app):
    at = hostile_app("tour")
    for number, step in enumerate(STEPS, start=1):
        assert [t.value for t in at.title] == [step.title]
        assert at.query_params["step"] == step.slug
        assert [p.proto.text for p in at.get("progress")] == [f"Step {number} of {len(STEPS)}"] * 2
        if number < len(STEPS):
            next(b for b in at.button if b.key == "tour_next_top").click()
            ok(at.run())
    next(b for b in at.button if b.key == "tour_back_bottom").click()
    assert [t.value for t in ok(at.run()).title] == [STEPS[-2].title]


def test_a_tour_link_opens_its_step_and_a_bad_one_says_so(hostile_app):
    at = hostile_app("tour", {"step": "new-user"})
    assert [t.value for t in at.title] == ["A new user, with no ratings yet"]
    assert len(table(at, WHY)) == 5  # the live new-user step, with reasons
    at = hostile_app("tour", {"step": "99"})
    assert [t.value for t in at.title] == [STEPS[0].title]
    assert "there is no step" in unescape(texts(at))


def test_the_tour_new_user_step_follows_its_sliders(hostile_app):
    at = hostile_app("tour", {"step": "new-user"})
    before = table(at, WHY)[MOVIE_ID].tolist()
    at.slider(key="tour_adventure").set_value(0.0)
    at.slider(key="tour_fantasy").set_value(0.0)
    after = table(ok(at.run()), WHY)[MOVIE_ID].tolist()
    assert before != after


# ------------------------------------------------------------------ reasons


def test_new_user_and_existing_user_tables_give_a_reason_per_row(
    monkeypatch, hostile, hybrid_artifacts
):
    data, _, _ = hostile
    at = open_app(monkeypatch, hybrid_artifacts, data, "new_user")
    reasons = table(at, WHY)[WHY]
    assert reasons.map(lambda text: isinstance(text, str) and len(text) > 0).all()
    assert re.search(r"your \S+ rating \([\d.]+★\)", " ".join(reasons))  # the sliders
    at = go(at, "existing_user")
    assert table(at, WHY)[WHY].str.len().gt(0).all()


# ------------------------------------------------------------------ two models


def test_the_sidebar_switches_between_the_two_trained_models(monkeypatch, hostile, both_artifacts):
    data, _, _ = hostile
    at = open_app(monkeypatch, both_artifacts, data, "new_user")
    switch = at.button_group(key="served_model")
    assert switch.value == "hybrid"  # the default
    assert "hybrid model" in sidebar_text(at)
    hybrid_top = table(at, WHY)[MOVIE_ID].tolist()
    switch.set_value("lab")
    ok(at.run())
    assert "lab\\'s network" in sidebar_text(at)
    assert table(at, WHY)[MOVIE_ID].tolist() != hybrid_top
    at = go(at, "similar_movies")  # the choice holds on every page
    assert "lab\\'s network" in sidebar_text(at)


def test_existing_user_shows_both_models_and_popular_side_by_side(
    monkeypatch, hostile, both_artifacts
):
    data, _, _ = hostile
    at = open_app(monkeypatch, both_artifacts, data, "existing_user")
    user_id = at.session_state["eu_user"]
    found = [m for m in at.metric if m.label == "Own favourites found"]
    assert len(found) == 3  # hybrid, lab, most popular
    overlap = table(at, "shared movies")
    assert len(overlap) == 3  # every pair of the three lists
    assert set(overlap["list"]) | set(overlap["other list"]) == {
        "Hybrid",
        "Lab's network",
        "Most popular",
    }
    hybrid = Recommender.load(
        both_artifacts / (both_artifacts / "CURRENT-hybrid").read_text().strip()
    )
    expected = hybrid.for_user(user_id, top=10).unseen[TITLE].tolist()
    assert any(
        frame.value[TITLE].tolist() == expected
        for frame in at.dataframe
        if list(frame.value.columns) == [TITLE]
    )


def test_one_trained_model_is_compared_with_popular_and_says_how_to_add_one(hostile_app):
    at = hostile_app("existing_user")
    assert len([m for m in at.metric if m.label == "Own favourites found"]) == 2
    assert "train the other on the Model page" in texts(at)
    assert not at.get("button_group") or all(
        b.key != "served_model" for b in at.get("button_group")
    )


# ------------------------------------------------------------------ the sliders' meaning


@pytest.mark.slow  # trains a quick hybrid model on the real data once per session
@pytest.mark.parametrize(
    ("link", "genres", "at_most"),
    [
        ({"Adventure": "0.5", "Fantasy": "0.5"}, ("Adventure", "Fantasy"), 3),  # a dislike
        ({"Horror": "0.5", "Thriller": "0.5"}, ("Horror", "Thriller"), 3),
    ],
)
def test_low_genre_stars_push_those_genres_down_on_the_page(real_hybrid_app, link, genres, at_most):
    at = real_hybrid_app("new_user", link)
    top = table(at, WHY)
    shown = top["genres"].str.split("|").map(lambda names: bool(set(names) & set(genres)))
    assert shown.sum() <= at_most, top[[TITLE, "genres"]]
    labels = {s.label: s.value for s in at.select_slider}
    assert labels[genres[0]] == 0.5 and labels["Drama"] == 0.0  # 0 reads "not rated"


@pytest.mark.slow  # trains a quick hybrid model on the real data once per session
def test_every_preset_lists_mostly_what_its_label_says_on_the_page(real_hybrid_app):
    from recsys.genres import GENRE_PRESETS, preset_genres

    at = real_hybrid_app("new_user")
    for name in GENRE_PRESETS:
        wanted = preset_genres(name)
        if not wanted:
            continue  # "Clear"
        at.button_group(key="nu_preset").set_value(name)
        top = table(ok(at.run()), WHY)
        hits = top["genres"].str.split("|").map(lambda names, w=wanted: bool(set(names) & set(w)))
        assert hits.sum() >= 6, (name, top[[TITLE, "genres"]])
