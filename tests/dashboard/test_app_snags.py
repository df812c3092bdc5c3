"""The smaller snags of a walkthrough (AppTest and plain Python): a link's filters said
beside the count, a movie named twice in a link, the Overview's source switch only where
it changes something, "the movie nearest", the picked movie's neighbours as a download,
and the lab's presets said to be loose."""

from __future__ import annotations

from recsys.dashboard.urls import NewUserFilters, UrlReader, filters_text
from tests.dashboard.apptest import open_app, texts, unescape


def test_the_filters_that_are_set_are_said_in_words():
    bounds = (1990, 2020)
    none = NewUserFilters(10, (), (), bounds, 0)
    assert filters_text(none, bounds) is None
    some = NewUserFilters(10, ("Drama",), ("Horror", "War"), (2000, 2020), 50)
    assert filters_text(some, bounds) == (
        "Filters: only Drama; no Horror, no War; released 2000–2020; at least 50 ratings."
    )


def test_a_movie_named_twice_in_a_link_says_which_was_kept():
    reader = UrlReader({"movies": "1:5,1:2,2:4"})
    assert reader.picks("movies", {1, 2}) == {1: 5.0, 2: 4.0}
    assert "a movie named twice in movies: 1:2 (kept 1:5)" in reader.notes


def test_a_shared_links_filters_show_beside_the_count(hostile_app):
    at = hostile_app("new_user", {"exclude": "Horror", "min_ratings": "5"})
    assert "Filters: no Horror; at least 5 ratings." in unescape(texts(at))
    assert "Filters:" not in texts(hostile_app("new_user"))


def test_the_overview_offers_the_training_subset_only_where_it_differs(
    monkeypatch, hostile, hybrid_artifacts, hostile_app
):
    data, _, _ = hostile
    at = open_app(monkeypatch, hybrid_artifacts, data, "overview")
    assert all(b.key != "ov_source" for b in at.get("button_group"))
    assert "also what the hybrid model trains on" in texts(at)
    lab = hostile_app("overview")
    assert any(b.key == "ov_source" for b in lab.get("button_group"))


def test_one_neighbour_is_the_movie_nearest_and_the_neighbours_download(hostile_app):
    at = hostile_app("similar_movies", {"k": "1"})
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("The movie nearest to") for h in heads), heads
    assert not any("The 1 movies" in h for h in heads)
    keys = [b.proto.id for b in at.get("download_button")]
    assert any("sm_csv" in key for key in keys), keys


def test_the_lab_says_its_presets_are_loose(hostile_app, monkeypatch, hostile, hybrid_artifacts):
    assert "follows genre presets loosely" in texts(hostile_app("new_user"))
    data, _, _ = hostile
    hybrid = open_app(monkeypatch, hybrid_artifacts, data, "new_user")
    assert "follows genre presets loosely" not in texts(hybrid)


def test_an_address_naming_no_page_is_found_out():
    from recsys.dashboard.urls import unknown_page

    known = ["home", "new_user", "overview"]
    assert unknown_page("http://localhost:8501/no_such_page?x=1", "", known) == "no_such_page"
    assert unknown_page("http://localhost:8501/", "", known) is None
    assert unknown_page("http://localhost:8501/New_User", "", known) is None
    assert unknown_page("http://host/app/", "app", known) is None  # the base path itself
    assert unknown_page("http://host/app/nope", "/app/", known) == "nope"


def test_own_favourites_found_is_explained_in_one_line(hostile_app):
    at = hostile_app("existing_user")
    found = [m for m in at.metric if m.label == "Own favourites found"]
    liked = found[0].value.split(" of ")[1]
    assert f"of the {liked} movies this user rated 4★ or more, how many each list" in texts(at)
