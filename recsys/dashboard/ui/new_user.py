"""The New user page's widgets: genre presets, the 14 genre sliders and the filters.

Their values live in ``st.session_state`` under the keys below, set from the defaults,
then from a shared link, before any widget exists.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys.columns import GENRE_LIST
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import explore_catalogue, movie_labels
from recsys.dashboard.ui.widgets import (
    PRESENT,
    clamp_state,
    show_url_notes,
    steady_box,
    url_params,
)
from recsys.dashboard.urls import (
    MAX_PICKS,
    MAX_TOP,
    NEW_USER_URL_KEYS,
    NewUserFilters,
    UrlReader,
    kept_years,
    lacking_text,
    read_new_user,
)
from recsys.genres import DEFAULT_PRESET, GENRE_PRESETS
from recsys.serving.recommender import Recommender

NEW_USER = "new_user"
NU_TOP, NU_INCLUDE, NU_EXCLUDE = "nu_top", "nu_include", "nu_exclude"
NU_GENRES_BOX = "nu_genres"
GENRE_ROW_PX = 68  # a row of genre sliders, label and track, at the normal text size
ROW_GAP_PX = 16  # Streamlit's gap between the elements of a container (1rem)
NU_YEARS, NU_MIN_RATINGS = "nu_years", "nu_min_ratings"
NU_PICKS, NU_ADD, NU_ADD_STARS = "nu_picks", "nu_add_movie", "nu_add_stars"
NU_PRESET = "nu_preset"
NU_PICK_TITLES = "nu_pick_titles"  # movieId → label of every pick, for a model that lacks it
NU_YEARS_BOUNDS = "nu_years_bounds"  # the release years the stored range was set within
STAR_CHOICES = [k / 2 for k in range(1, 11)]
GENRE_CHOICES = [0.0, *STAR_CHOICES]  # 0 = not rated


def genre_key(genre: str) -> str:
    return f"genre_{genre}"


def apply_preset(name: str) -> None:
    """Button callback: set every genre slider (callbacks run before widgets exist)."""
    ratings = GENRE_PRESETS.get(name, {})
    for genre in GENRE_LIST:
        st.session_state[genre_key(genre)] = float(ratings.get(genre, 0.0))


def init_state(model: Recommender) -> None:
    """Defaults, then a shared link (clamped, with notes), before any widget exists."""
    catalogue = model.catalogue
    bounds, max_count = catalogue.year_bounds, catalogue.max_count
    defaults = GENRE_PRESETS[DEFAULT_PRESET]
    for genre in GENRE_LIST:
        st.session_state.setdefault(genre_key(genre), float(defaults.get(genre, 0.0)))
    st.session_state.setdefault(NU_TOP, 10)
    st.session_state.setdefault(NU_INCLUDE, [])
    st.session_state.setdefault(NU_EXCLUDE, [])
    st.session_state.setdefault(NU_YEARS, bounds)
    st.session_state.setdefault(NU_MIN_RATINGS, 0)
    # Picks stay whole when the served model lacks some (the other model, a retrain):
    # the page names those and serves the rest, and they return on a switch back.
    st.session_state.setdefault(NU_PICKS, {})
    st.session_state.setdefault(NU_PICK_TITLES, {})
    st.session_state[NU_YEARS] = kept_years(
        tuple(st.session_state[NU_YEARS]), st.session_state.get(NU_YEARS_BOUNDS), bounds
    )
    st.session_state[NU_YEARS_BOUNDS] = bounds
    clamp_state(NU_MIN_RATINGS, 0, max_count)
    clamp_state(NU_TOP, 1, MAX_TOP)
    params = url_params(NEW_USER, NEW_USER_URL_KEYS)
    if params is None:
        return
    reader = UrlReader(params)
    # A pick may be any movie of the dataset: one the served model lacks was kept for a
    # switch back (the link carries it), and a reload keeps it so.
    dataset_movies = explore_catalogue(model).labels
    link = read_new_user(reader, bounds, max_count, dataset_movies, catalogue.find_movie)
    for genre, stars in link.genre_ratings.items():
        st.session_state[genre_key(genre)] = stars
    st.session_state[NU_TOP] = link.filters.top
    st.session_state[NU_INCLUDE] = list(link.filters.include)
    st.session_state[NU_EXCLUDE] = list(link.filters.exclude)
    st.session_state[NU_YEARS] = link.filters.years
    st.session_state[NU_MIN_RATINGS] = link.filters.min_ratings
    st.session_state[NU_PICKS] = link.picks
    st.session_state[NU_PICK_TITLES] = {m: dataset_movies.get(m, str(m)) for m in link.picks}
    show_url_notes(reader)


def _add_pick() -> None:
    """Callback of the title search: add the chosen movie with the chosen stars."""
    movie_id = st.session_state.get(NU_ADD)
    picks = st.session_state[NU_PICKS]
    if movie_id is not None and len(picks) < MAX_PICKS:
        picks[int(movie_id)] = float(st.session_state.get(NU_ADD_STARS, 5.0))
        titles = st.session_state.setdefault(NU_PICK_TITLES, {})
        titles[int(movie_id)] = st.session_state.get(_ADD_LABELS, {}).get(int(movie_id))
    st.session_state[NU_ADD] = None


_ADD_LABELS = "_nu_add_labels"  # the title search's labels, for its callback


def _remove_pick(movie_id: int) -> None:
    st.session_state[NU_PICKS].pop(movie_id, None)


def picked_movies(model: Recommender, search: Any, stars: Any) -> dict[int, float]:
    """Movies the user liked: a title search over the whole catalogue (in the slot
    ``search``), stars for each (in ``stars``), and below them the picks with a remove
    button; the picks the served model knows, {movieId: stars}."""
    labels = movie_labels(model)
    st.session_state[_ADD_LABELS] = labels
    wanted: dict[int, float] = st.session_state[NU_PICKS]
    picks = {m: s for m, s in wanted.items() if m in labels}
    lacking = [m for m in wanted if m not in labels]
    if lacking:
        titles = st.session_state.get(NU_PICK_TITLES, {})
        st.info(
            md_escape(
                lacking_text([titles.get(m) or f"movie {m}" for m in lacking], model.model_kind)
            ),
            icon=":material/bookmark:",
        )
    stars.select_slider("Your stars", STAR_CHOICES, value=5.0, key=NU_ADD_STARS)
    search.selectbox(
        "Add a movie you liked",
        [m for m in labels if m not in picks],
        index=None,
        format_func=lambda m: labels.get(m, str(m)),
        placeholder="Search titles",
        key=NU_ADD,
        on_change=_add_pick,
        disabled=len(wanted) >= MAX_PICKS,
    )
    with st.container(horizontal=True, gap="small"):
        for movie_id, value in list(picks.items()):
            st.button(
                f"{md_escape(labels.get(movie_id, str(movie_id)), 60)} · {value:g} ★",
                key=f"nu_pick_{movie_id}",
                icon=":material/close:",
                help="Remove this movie",
                on_click=_remove_pick,
                args=(movie_id,),
            )
    return dict(picks)


def _preset_chosen() -> None:
    """Callback of the presets: set every slider, then let the preset go (the sliders,
    not the preset, are what the user has rated)."""
    name = st.session_state.get(NU_PRESET)
    if name is not None:
        apply_preset(name)
    st.session_state[NU_PRESET] = None


def preset_buttons() -> None:
    st.pills(
        "Start from a preset",
        list(GENRE_PRESETS),
        key=NU_PRESET,
        on_change=_preset_chosen,
        wrap=True,
    )


def genre_label(stars: float) -> str:
    """A genre slider's value in words: "not rated" at 0, else its stars."""
    return "not rated" if stars == 0 else f"{stars:g} ★"


def genre_sliders(per_row: int = 4) -> dict[str, float]:
    """The 14 genre sliders, in the lab's order, ``per_row`` to a row; stars (0 = not
    rated, shown as such).

    ``persist_state="session"`` keeps their values when the user visits other pages.
    """
    rows = -(-len(GENRE_LIST) // per_row)
    # The whole box its final height too: under load the rows arrive one by one, and the
    # page must not grow as they do (presenter mode's larger text has no known height).
    if st.session_state.get(PRESENT):
        box = st.container(key=NU_GENRES_BOX)
    else:
        height = rows * (GENRE_ROW_PX + ROW_GAP_PX)
        box = st.container(key=NU_GENRES_BOX, height=height, border=False)
    for start in range(0, len(GENRE_LIST), per_row):
        # Each row its final height from the first paint: a first visit draws grey
        # placeholders until the sliders' code has loaded, and the page must not grow.
        slots = steady_box(GENRE_ROW_PX, box).columns(per_row)
        for slot, genre in zip(slots, GENRE_LIST[start : start + per_row], strict=False):
            slot.select_slider(
                genre,
                options=GENRE_CHOICES,
                format_func=genre_label,
                key=genre_key(genre),
                persist_state="session",
            )
    return {g: float(st.session_state[genre_key(g)]) for g in GENRE_LIST}


def kept_picks() -> dict[int, float]:
    """Every pick, those the served model lacks included (kept for a switch back): what
    the link carries, so a reload keeps them too."""
    return dict(st.session_state.get(NU_PICKS, {}))


def filters(model: Recommender, top_col: Any, rest: Any) -> NewUserFilters:
    """Top-N (in the slot ``top_col``) and the filters, in an expander (in ``rest``);
    values survive page switches."""
    bounds, max_count = model.catalogue.year_bounds, model.catalogue.max_count
    kept = {"persist_state": "session"}  # the values survive page switches
    top = top_col.number_input(
        # The range in the label: a typed 0 or 500 only turns the box red, without words.
        f"How many (1 to {MAX_TOP})",
        1,
        MAX_TOP,
        step=1,
        key=NU_TOP,
        help=f"1 to {MAX_TOP}: the most this page lists",
        **kept,
    )
    # A popover: the filters float over the page instead of widening a narrow slot.
    with rest.popover("Filters", icon=":material/filter_list:", width="stretch"):
        include = st.multiselect(
            "Only movies with any of these genres", GENRE_LIST, key=NU_INCLUDE, **kept
        )
        exclude = st.multiselect(
            "Leave out movies with any of these genres", GENRE_LIST, key=NU_EXCLUDE, **kept
        )
        years = None
        if bounds[0] < bounds[1]:
            years = st.slider("Released", bounds[0], bounds[1], key=NU_YEARS, **kept)
        min_ratings = st.number_input(
            "At least this many ratings in the data",
            0,
            max_count,
            step=5,
            key=NU_MIN_RATINGS,
            **kept,
        )
    return NewUserFilters(int(top), tuple(include), tuple(exclude), years, int(min_ratings))
