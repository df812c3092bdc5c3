"""Explore: search words, genres and sort in the link; titles matched without case or
accents; a sensible least count for the rated-order sorts, said on the page; a selected
row shows its movie beside the list (AppTest and plain pandas)."""

from __future__ import annotations

import pandas as pd

from recsys.columns import AVE_RATING, GENRES, MOVIE_ID, NUM_RATINGS, TITLE, YEAR
from recsys.dashboard.explore import RATED_SORT_FLOOR, BrowseQuery, browse
from recsys.dashboard.urls import UrlReader, read_browse, sort_slug
from tests.dashboard.apptest import ok, table, texts, unescape

ITEMS = pd.DataFrame(
    {
        MOVIE_ID: [1, 2, 3],
        TITLE: ["Léon: The Professional (1994)", "Leonard Part 6 (1987)", "Heat (1995)"],
        YEAR: [1994, 1987, 1995],
        GENRES: ["Action|Crime", "Comedy", "Action|Crime"],
        AVE_RATING: [4.0, 5.0, 3.9],
        NUM_RATINGS: [100, 1, 80],
    }
)


def test_a_title_matches_without_case_or_accents():
    assert browse(ITEMS, BrowseQuery(text="leon"))[MOVIE_ID].tolist() == [1, 2]
    assert browse(ITEMS, BrowseQuery(text="LÉON professional"))[MOVIE_ID].tolist() == [1]


def test_highest_rated_counts_movies_with_enough_ratings_unless_a_minimum_is_set():
    highest = browse(ITEMS, BrowseQuery(sort="Highest rated"))
    assert highest[MOVIE_ID].tolist() == [1, 3]  # the 5-star film of one rating is left out
    assert highest[NUM_RATINGS].min() >= RATED_SORT_FLOOR
    chosen = browse(ITEMS, BrowseQuery(sort="Highest rated", min_ratings=1))
    assert chosen[MOVIE_ID].tolist() == [2, 1, 3]
    assert len(browse(ITEMS, BrowseQuery(sort="Most rated"))) == 3


def test_a_links_search_genres_and_sort_are_read_and_junk_noted():
    reader = UrlReader({"q": "  star   wars ", "genres": "action,nope", "sort": "title-a-z"})
    text, genres, sort = read_browse(reader, ["Action", "Comedy"], ["Most rated", "Title A–Z"])
    assert (text, genres, sort) == ("star wars", ["Action"], "Title A–Z")
    assert "nope" in reader.message()
    assert sort_slug("Title A–Z") == "title-a-z"
    assert read_browse(UrlReader({}), ["Action"], ["Most rated"]) == (None, None, None)


def test_explores_search_genres_and_sort_go_into_the_link_and_come_back(hostile_app):
    at = hostile_app("explore")
    at.text_input(key="ex_text").set_value("movie")
    at.multiselect(key="ex_genres").set_value(["Drama"])
    at.selectbox(key="ex_sort").set_value("Title A–Z")
    at = ok(at.run())
    assert at.query_params["q"] == "movie"
    assert at.query_params["genres"] == "Drama"
    assert at.query_params["sort"] == "title-a-z"
    shared = hostile_app(
        "explore", {"q": "MOVIE", "genres": "drama", "sort": "title-a-z", "model": "lab"}
    )
    assert shared.text_input(key="ex_text").value == "MOVIE"
    assert shared.multiselect(key="ex_genres").value == ["Drama"]
    assert shared.selectbox(key="ex_sort").value == "Title A–Z"
    titles = table(shared, "num ratings")[TITLE].tolist()
    assert titles == sorted(titles, key=str)


def test_highest_rated_says_its_least_count_and_a_selected_row_shows_its_movie(
    hostile_app,
):
    at = hostile_app("explore", {"sort": "highest-rated"})
    shown = unescape(texts(at))
    assert f"only movies with at least {RATED_SORT_FLOOR} ratings are listed" in shown
    assert table(at, "num ratings")[NUM_RATINGS].min() >= RATED_SORT_FLOOR
    listed = table(at, "num ratings")
    at.session_state["ex_browse"] = {"selection": {"rows": [1], "columns": []}}
    at = ok(at.run())
    title = listed[TITLE].iat[1]
    assert unescape(at.header[0].value) == title  # the summary beside the list
    assert any(title in unescape(t.proto.body) for t in at.get("toast"))
