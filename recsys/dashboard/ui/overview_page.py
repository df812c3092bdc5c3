"""The Overview page's own widgets: its tabs (only the open one is drawn; the open one
is in the URL) and the warning that the model was trained on other data."""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys.dashboard.overview import Overview
from recsys.dashboard.text import error_text, md_escape
from recsys.dashboard.ui.frame import app_pages
from recsys.dashboard.ui.widgets import show_url_notes, url_params, write_url
from recsys.dashboard.urls import UrlReader
from recsys.errors import StaleBundleError
from recsys.model.bundle import check_fresh
from recsys.serving.recommender import Recommender

OVERVIEW = "overview"
OV_TAB = "ov_tab"
_OV_TAB_KEPT = "_ov_tab_kept"  # the open tab, kept while other pages are shown
# The tabs, by the name a link gives them (?tab=per-genre); the first is the default.
TABS = {
    "start": "Start here",
    "most-rated": "Most rated",
    "per-genre": "Per genre",
    "ratings": "Ratings",
    "training-data": "Training data",
}
_SLUGS = {label: slug for slug, label in TABS.items()}
START = next(iter(TABS))

# What each page is for (by its URL path): the first tab's guide, in the menu's order.
GUIDE = {
    "new_user": "Rate genres with sliders, or add movies you liked: a ranked list, each "
    "row with its reason.",
    "existing_user": "A user's predicted and actual stars, what to watch next, and two "
    "models side by side.",
    "similar_movies": "A movie's nearest neighbours in the model's movie space, on a map "
    "of every movie.",
    "explore": "Search and filter the catalogue; a movie's ratings and their trend, its "
    "tags, and who rated it highest.",
    "model": "How the served model was trained, and how well it ranks and predicts stars "
    "against baselines and well-known libraries.",
    "tour": "The lab's story in steps with live widgets, for presenting.",
}


def open_tab() -> tuple[str, Any]:
    """The tabs; the name (a key of ``TABS``) and the container of the open one, the
    only one whose content the page draws: a first visit draws no table or chart. A
    shared link's tab is opened; an unknown one is noted, and the first is shown. The
    open tab is kept across page switches."""
    params = url_params(OVERVIEW, ("tab",))
    if params is not None:
        slug = params["tab"].strip().lower()
        if slug not in TABS:
            reader = UrlReader(params)
            reader.note(f"there is no tab {params['tab'][:40]!r}; showing {TABS[START]}")
            show_url_notes(reader)
            slug = START
        st.session_state[OV_TAB] = TABS[slug]
    # Streamlit forgets a widget's state while its page is not shown: the copy keeps it.
    st.session_state.setdefault(OV_TAB, st.session_state.get(_OV_TAB_KEPT, TABS[START]))
    tabs = st.tabs(list(TABS.values()), key=OV_TAB, on_change="rerun")
    st.session_state[_OV_TAB_KEPT] = st.session_state[OV_TAB]
    slug = _SLUGS[st.session_state[OV_TAB]]
    write_url(OVERVIEW, {} if slug == START else {"tab": slug})
    return slug, tabs[list(TABS).index(slug)]


def start_here() -> None:
    """The first tab: what each page does, with a link to it (the menu's own title and
    icon)."""
    st.caption(
        "Above, the dataset in numbers; the next tabs hold its most-rated movies, its "
        "genres, its ratings and the network's training rows. What each page does:"
    )
    pages = [page for page in app_pages() if page.url_path in GUIDE]
    for row in (pages[:3], pages[3:]):
        for column, page in zip(st.columns(len(row), gap="medium"), row, strict=True):
            with column.container(border=True):
                st.page_link(page)
                st.caption(GUIDE[page.url_path])


def warn_if_stale(model: Recommender, shown: Overview) -> None:
    """Say so when the served model was trained on other data than the dataset shown."""
    if shown.fingerprint is None:
        return
    try:
        check_fresh(model.manifest, data_fingerprint=shown.fingerprint)
    except StaleBundleError as err:
        st.warning(
            f"{md_escape(error_text(err))}: the model's predictions are from that data. "
            "Retrain on the Model page to use this dataset.",
            icon=":material/history:",
        )
