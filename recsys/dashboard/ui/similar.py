"""The Similar movies page's state: the picked movie and how many neighbours."""

from __future__ import annotations

import streamlit as st

from recsys.dashboard import overview
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import movie_labels
from recsys.dashboard.ui.widgets import clamp_state, keep_choice, show_url_notes, url_params
from recsys.dashboard.urls import MAX_NEIGHBOURS, UrlReader, read_movie
from recsys.serving.recommender import Recommender

SIMILAR = "similar_movies"
SM_MOVIE, SM_K = "sm_movie", "sm_k"
NEAREST_SHOWN = 50  # rows of the lab's nearest-neighbour table shown on the page


def init_state(model: Recommender) -> None:
    """The picked movie (the most-rated at first) and k, then a shared link, whose movie
    may be an id or a title."""
    labels = movie_labels(model)
    keep_choice(SM_MOVIE, labels, overview.most_rated_movie(model.items))
    st.session_state.setdefault(SM_K, 10)
    clamp_state(SM_K, 1, MAX_NEIGHBOURS)
    params = url_params(SIMILAR, ("movie", "k"))
    if params is None:
        return
    reader = UrlReader(params)
    current = st.session_state[SM_MOVIE]
    st.session_state[SM_MOVIE], st.session_state[SM_K] = read_movie(
        reader, model.find_movie, current, labels[current]
    )
    for error in reader.errors:  # an ambiguous or unknown movie, with its close matches
        st.error(md_escape(error, limit=600), icon=":material/link_off:")
    show_url_notes(reader)
