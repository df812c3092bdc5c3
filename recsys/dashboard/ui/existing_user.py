"""The Existing user page's state: the picked MovieLens user and top-N."""

from __future__ import annotations

import streamlit as st

from recsys.dashboard.ui.cache import user_labels
from recsys.dashboard.ui.widgets import keep_choice, show_url_notes, url_params
from recsys.dashboard.urls import UrlReader, read_user
from recsys.serving.recommender import Recommender

EXISTING_USER = "existing_user"
EU_USER, EU_TOP = "eu_user", "eu_top"
LAB_USER_ID = 2  # the lab's example existing user


def init_state(model: Recommender) -> None:
    """The picked user (the lab's user 2 at first) and top-N, then a shared link."""
    labels = user_labels(model)
    fallback = LAB_USER_ID if LAB_USER_ID in labels else next(iter(labels))
    keep_choice(EU_USER, labels, fallback)
    st.session_state.setdefault(EU_TOP, 10)
    params = url_params(EXISTING_USER, ("user", "top"))
    if params is None:
        return
    reader = UrlReader(params)
    st.session_state[EU_USER], st.session_state[EU_TOP] = read_user(
        reader, labels, st.session_state[EU_USER]
    )
    show_url_notes(reader)
