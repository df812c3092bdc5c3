"""What every page's URL carries besides its own state: the served model (``model=``)
and presenter mode (``present=1``). A link sets them in a new session; the session's
own choices then write them back on every page."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from recsys.dashboard.text import md_escape, shown
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.dashboard.ui.widgets import FRAME_URL, PRESENT
from recsys.dashboard.urls import (
    MODEL_PARAM,
    PRESENT_PARAM,
    frame_params,
    pick_params,
    read_model,
    read_present,
    unknown_page,
)
from recsys.model.bundle import trained_models


def read_frame_link(served_key: str) -> None:
    """The served model and presenter mode from a link, when the URL holds values this
    session did not write itself (a shared link, a reload); a model that is not
    trained is noted and the session keeps its own. ``served_key``: the session-state
    key of the sidebar's model switch."""
    query = pick_params(
        {k: st.query_params[k] for k in st.query_params}, (MODEL_PARAM, PRESENT_PARAM)
    )
    written = st.session_state.get(FRAME_URL, {})
    raw_model = query.get(MODEL_PARAM)
    if raw_model is not None and raw_model != written.get(MODEL_PARAM):
        try:
            trained = trained_models(artifacts_dir())
        except OSError:
            trained = []
        kind, note = read_model(raw_model, trained)
        if kind is not None:
            st.session_state[served_key] = kind
        if note is not None:
            st.warning(f"Some settings in the link were adjusted: {md_escape(note)}")
    raw_present = query.get(PRESENT_PARAM)
    if raw_present is not None and raw_present != written.get(PRESENT_PARAM):
        on = read_present(raw_present)
        if on is not None:
            st.session_state[PRESENT] = on


def write_frame_link(model_kind: str) -> None:
    """Every page's URL names the served model and, when on, presenter mode; pages that
    write their own parameters keep these (``widgets.write_url``)."""
    params = frame_params(model_kind, bool(st.session_state.get(PRESENT)))
    st.session_state[FRAME_URL] = params
    for name in (MODEL_PARAM, PRESENT_PARAM):
        if name not in params and name in st.query_params:
            del st.query_params[name]
        elif name in params and st.query_params.get(name) != params[name]:
            st.query_params[name] = params[name]


_ADDRESS_CHECKED = "_address_checked"


def note_unknown_address(known_paths: Iterable[str]) -> None:
    """On a session's first run: an address naming no page opens the default one;
    say so, rather than show the Overview as if it had been asked for."""
    if st.session_state.get(_ADDRESS_CHECKED):
        return
    st.session_state[_ADDRESS_CHECKED] = True
    url = st.context.url or ""
    name = unknown_page(url, str(st.get_option("server.baseUrlPath") or ""), known_paths)
    if name is not None:
        st.warning(
            f"There is no page called “{md_escape(shown(name))}”; showing the Overview. "
            "The menu on the left lists the pages.",
            icon=":material/link_off:",
        )
