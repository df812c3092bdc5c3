"""The Explore page's state and widgets: the browse controls and the picked movie.

Any movie table of the app can open a movie here (``movie_table``): selecting its row
stores the movie and switches to this page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recsys.columns import NUM_RATINGS
from recsys.dashboard import overview
from recsys.dashboard.explore import MAX_SEARCH_CHARS, SORTS, BrowseQuery, genre_names, ids_in
from recsys.dashboard.overview import year_bounds
from recsys.dashboard.ui.cache import movie_labels
from recsys.dashboard.ui.widgets import (
    clamp_state,
    keep_choice,
    show_movies,
    show_url_notes,
    url_params,
)
from recsys.dashboard.urls import UrlReader, read_movie_id
from recsys.serving.recommender import Recommender

EXPLORE = "explore"
EXPLORE_PAGE = "app_pages/explore.py"
EX_MOVIE, EX_TEXT, EX_GENRES = "ex_movie", "ex_text", "ex_genres"
EX_YEARS, EX_MIN, EX_SORT = "ex_years", "ex_min_ratings", "ex_sort"
_PENDING = "_ex_pending"  # a movie selected in a table, picked on Explore's next run


def init_state(model: Recommender) -> None:
    """Defaults (the most-rated movie), then a shared link's movie (an id or a title)."""
    labels = movie_labels(model)
    if _PENDING in st.session_state:
        st.session_state[EX_MOVIE] = st.session_state.pop(_PENDING)
    keep_choice(EX_MOVIE, labels, overview.most_rated_movie(model.items))
    bounds = year_bounds(model.items)
    st.session_state.setdefault(EX_TEXT, "")
    st.session_state.setdefault(EX_GENRES, [])
    st.session_state.setdefault(EX_YEARS, bounds)
    st.session_state.setdefault(EX_MIN, 0)
    st.session_state.setdefault(EX_SORT, next(iter(SORTS)))
    years = tuple(st.session_state[EX_YEARS])
    st.session_state[EX_YEARS] = tuple(min(max(y, bounds[0]), bounds[1]) for y in years)
    clamp_state(EX_MIN, 0, int(model.items[NUM_RATINGS].max()))
    params = url_params(EXPLORE, ("movie",))
    if params is None:
        return
    reader = UrlReader(params)
    current = st.session_state[EX_MOVIE]
    st.session_state[EX_MOVIE] = read_movie_id(reader, model.find_movie, current, labels[current])
    show_url_notes(reader)


def browse_controls(model: Recommender) -> BrowseQuery:
    """Search words, genres, years, least ratings and the sort order; they survive page
    switches."""
    kept = {"persist_state": "session"}
    text, sort = st.columns([3, 1], vertical_alignment="bottom")
    words = text.text_input(
        "Search titles",
        key=EX_TEXT,
        max_chars=MAX_SEARCH_CHARS,
        placeholder="Words of the title, e.g. star wars",
        **kept,
    )
    order = sort.selectbox("Sort by", list(SORTS), key=EX_SORT, **kept)
    genres_col, years_col, min_col = st.columns([3, 2, 1], vertical_alignment="bottom")
    genres = genres_col.multiselect(
        "With all of these genres", genre_names(model.items["genres"]), key=EX_GENRES, **kept
    )
    bounds = year_bounds(model.items)
    years = None
    if bounds[0] < bounds[1]:
        years = years_col.slider("Released", bounds[0], bounds[1], key=EX_YEARS, **kept)
    least = min_col.number_input(
        "At least this many ratings",
        0,
        int(model.items[NUM_RATINGS].max()),
        step=5,
        key=EX_MIN,
        **kept,
    )
    return BrowseQuery(words, tuple(genres), years, int(least), order)


def _newly_selected(key: str, table: pd.DataFrame, event: Any) -> int | None:
    """The movie a table's selection points at, when it is new since the last run."""
    rows = list(event.selection.rows) if event is not None else []
    ids = ids_in(table, rows)
    seen = f"_ex_seen_{key}"
    if not ids:
        st.session_state.pop(seen, None)
        return None
    if st.session_state.get(seen) == ids[0]:
        return None
    st.session_state[seen] = ids[0]
    return ids[0]


def movie_table(table: pd.DataFrame, key: str, *, switch: bool = True, **shown: Any) -> None:
    """``show_movies`` whose rows can be selected: a selected movie opens in Explore
    (``switch``), or, on Explore itself, becomes the picked movie."""
    event = show_movies(table, key=key, on_select="rerun", selection_mode="single-row", **shown)
    movie_id = _newly_selected(key, table, event)
    if movie_id is None:
        return
    st.session_state[_PENDING] = movie_id
    if switch:
        st.switch_page(EXPLORE_PAGE)
    st.rerun()
