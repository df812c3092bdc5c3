"""The Explore page's state and widgets: the browse controls and the picked movie.

Any movie table of the app can open a movie here (``movie_table``): selecting its row
stores the movie and switches to this page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from recsys.columns import NUM_RATINGS
from recsys.dashboard import overview
from recsys.dashboard.explore import MAX_SEARCH_CHARS, SORTS, BrowseQuery, genre_names, ids_in
from recsys.dashboard.overview import year_bounds
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import ExploreCatalogue
from recsys.dashboard.ui.widgets import (
    PRESENT,
    clamp_state,
    keep_choice,
    show_movies,
    show_url_notes,
    url_params,
)
from recsys.dashboard.urls import (
    EXPLORE_URL_KEYS,
    MODEL_MOVIES,
    UrlReader,
    browse_url,
    read_browse,
    read_movie_id,
)
from recsys.serving.recommender import Recommender

EXPLORE = "explore"
EXPLORE_PAGE = "pages/explore.py"
EX_MOVIE, EX_TEXT, EX_GENRES = "ex_movie", "ex_text", "ex_genres"
EX_YEARS, EX_MIN, EX_SORT = "ex_years", "ex_min_ratings", "ex_sort"
_PENDING = "_ex_pending"  # a movie selected in a table, picked on Explore's next run
JUST_PICKED = "_ex_just_picked"  # this run shows a movie just selected in a table


def init_state(model: Recommender, catalogue: ExploreCatalogue) -> None:
    """Defaults (the most-rated movie), then a shared link's movie (an id or a title)."""
    items, labels = catalogue.items, catalogue.labels
    if _PENDING in st.session_state:
        st.session_state[EX_MOVIE] = st.session_state.pop(_PENDING)
        st.session_state[JUST_PICKED] = True
    keep_choice(EX_MOVIE, labels, overview.most_rated_movie(items))
    bounds = year_bounds(items)
    st.session_state.setdefault(EX_TEXT, "")
    st.session_state.setdefault(EX_GENRES, [])
    st.session_state.setdefault(EX_YEARS, bounds)
    st.session_state.setdefault(EX_MIN, 0)
    st.session_state.setdefault(EX_SORT, next(iter(SORTS)))
    years = tuple(st.session_state[EX_YEARS])
    st.session_state[EX_YEARS] = tuple(min(max(y, bounds[0]), bounds[1]) for y in years)
    clamp_state(EX_MIN, 0, int(items[NUM_RATINGS].max()))
    params = url_params(EXPLORE, EXPLORE_URL_KEYS)
    if params is None:
        return
    reader = UrlReader(params)
    current = st.session_state[EX_MOVIE]
    st.session_state[EX_MOVIE] = read_movie_id(
        reader, _finder(model, labels), current, labels[current]
    )
    text, genres, sort = read_browse(reader, genre_names(items["genres"]), SORTS)
    for key, value in ((EX_TEXT, text), (EX_GENRES, genres), (EX_SORT, sort)):
        if value is not None:
            st.session_state[key] = value
    show_url_notes(reader)


def _finder(model: Recommender, labels: Mapping[int, str]) -> Callable[[str], int]:
    """A link's movie: any catalogue movie by id, else the model's search by title."""

    def find(raw: str) -> int:
        text = raw.strip()
        if text.isdigit() and int(text) in labels:
            return int(text)
        return model.find_movie(raw)

    return find


def browse_link(movie_id: int, query: BrowseQuery) -> dict[str, str]:
    return browse_url(movie_id, query.text, query.genres, query.sort, next(iter(SORTS)))


def browse_controls(items: pd.DataFrame) -> BrowseQuery:
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
        "With all of these genres", genre_names(items["genres"]), key=EX_GENRES, **kept
    )
    bounds = year_bounds(items)
    years = None
    if bounds[0] < bounds[1]:
        years = years_col.slider("Released", bounds[0], bounds[1], key=EX_YEARS, **kept)
    least = min_col.number_input(
        "At least this many ratings",
        0,
        int(items[NUM_RATINGS].max()),
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
    # A table reads its font once, when first drawn: presenter mode's (larger) is drawn
    # anew under a key of its own.
    drawn_key = f"{key}_presenter" if st.session_state.get(PRESENT) else key
    event = show_movies(
        table, key=drawn_key, on_select="rerun", selection_mode="single-row", **shown
    )
    movie_id = _newly_selected(key, table, event)
    if movie_id is None:
        return
    st.session_state[_PENDING] = movie_id
    if switch:
        st.switch_page(EXPLORE_PAGE)
    st.rerun()


def point_to_details(title: str) -> None:
    """A movie just selected in a table: a toast naming it (its summary is beside the
    list, under its name)."""
    if st.session_state.pop(JUST_PICKED, False):
        name = md_escape(title, 120)
        st.toast(f"Showing **{name}** beside the list", icon=":material/east:")


DETAILS_ANCHOR = "movie-details"


def not_served_text(model_kind: str) -> str:
    """Why a movie of the dataset has no neighbours under the served model."""
    among = MODEL_MOVIES.get(model_kind, "this model's movies")
    return (
        f"This movie is not among {among}, so it has no place in its movie space. The "
        "other model (sidebar) may have it."
    )
