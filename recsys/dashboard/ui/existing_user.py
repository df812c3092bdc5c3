"""The Existing user page's state (the picked MovieLens user and top-N) and its
side-by-side view of the trained models."""

from __future__ import annotations

import streamlit as st

from recsys.columns import TITLE
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import artifacts_dir, current_model, user_labels
from recsys.dashboard.ui.frame import MODEL_LABELS
from recsys.dashboard.ui.widgets import (
    keep_choice,
    show_table,
    show_url_notes,
    table_height,
    url_params,
)
from recsys.dashboard.urls import UrlReader, read_user
from recsys.model.bundle import trained_models
from recsys.serving.compare import POPULAR, compare_for_user
from recsys.serving.reasons import LIKED_STARS
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


def compare_section(model: Recommender, user_id: int, top: int) -> None:
    """The trained models' top ``top`` for the user side by side, with a most-popular
    chart: what each list finds of the user's own favourites, and what they share."""
    trained = trained_models(artifacts_dir())
    models = {kind: current_model(kind) for kind in trained if kind != model.model_kind}
    models = {model.model_kind: model, **models}
    result = compare_for_user(models, user_id, top)
    names = {**MODEL_LABELS, POPULAR: "Most popular"}
    if len(trained) < 2:
        st.caption(
            "Only one model is trained: train the other on the Model page to see the two "
            "side by side."
        )
    for name, why in result.missing.items():
        st.info(f"{names.get(name, name)}: {md_escape(why)}", icon=":material/info:")
    st.caption(
        f"*Own favourites found*: of the {result.liked} movies this user rated "
        f"{LIKED_STARS:g}★ or more, how many each list ranks in its top {top}. Most "
        "popular ranks movies by how many ratings they have in the served model's data."
    )
    columns = st.columns(len(result.lists), gap="medium")
    for column, (name, table) in zip(columns, result.lists.items(), strict=True):
        with column:
            st.markdown(f"**{names.get(name, name)}**")
            st.metric(
                "Own favourites found",
                f"{result.favourites[name]} of {result.liked}",
                help=f"Of the movies this user rated {LIKED_STARS:g}★ or more, how many this "
                f"list's ranking puts in its top {top} when they are not left out. The "
                "models trained on these ratings: this shows what a list is made of, not "
                "its accuracy (the Model page's evaluation is the honest measure).",
            )
            show_table(st, table[[TITLE]], hide_index=True, height=table_height(len(table)))
    overlap = result.overlap.assign(
        **{
            "list": result.overlap["list"].map(lambda n: names.get(n, n)),
            "other list": result.overlap["other list"].map(lambda n: names.get(n, n)),
        }
    )
    show_table(st, overlap, hide_index=True)
