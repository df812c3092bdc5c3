"""The Tour page's state and its steps' live widgets (the script is recsys.dashboard.tour).

The step lives in ``st.session_state`` and in the URL (``?step=new-user``), so a
presenter can reload or share a step; Next and Back are buttons with callbacks.
"""

from __future__ import annotations

import streamlit as st

from recsys.columns import DISTANCE, FOUND_BY, ITEM_VECTOR_COLUMNS, PREDICTED, TITLE, WHY, YEAR
from recsys.dashboard import charts, overview
from recsys.dashboard.text import md_escape
from recsys.dashboard.tour import STEPS, step_number
from recsys.dashboard.ui import explore
from recsys.dashboard.ui.cache import model_overview, movie_labels, user_labels
from recsys.dashboard.ui.model_page import architecture_section, loss_section
from recsys.dashboard.ui.widgets import (
    keep_choice,
    metric_row,
    metric_value,
    picker,
    show_chart,
    show_table,
    show_url_notes,
    table_height,
    url_params,
)
from recsys.dashboard.urls import UrlReader
from recsys.serving.recommender import Recommender

TOUR = "tour"
TOUR_STEP, TOUR_USER, TOUR_MOVIE = "tour_step", "tour_user", "tour_movie"
TOUR_ADVENTURE, TOUR_FANTASY = "tour_adventure", "tour_fantasy"


def init_state(model: Recommender) -> None:
    """Step 1 at first, then a shared link's step (a number or a slug)."""
    st.session_state.setdefault(TOUR_STEP, 1)
    st.session_state.setdefault(TOUR_ADVENTURE, 5.0)
    st.session_state.setdefault(TOUR_FANTASY, 5.0)
    keep_choice(TOUR_USER, user_labels(model), int(model.user_ids[0]))
    keep_choice(TOUR_MOVIE, movie_labels(model), overview.most_rated_movie(model.items))
    params = url_params(TOUR, ("step",))
    if params is None:
        return
    number = step_number(params["step"])
    if number is None:
        reader = UrlReader(params)
        reader.note(f"there is no step {params['step'][:40]!r}; showing step 1")
        show_url_notes(reader)
        number = 1
    st.session_state[TOUR_STEP] = number


def _move(by: int) -> None:
    step = st.session_state[TOUR_STEP] + by
    st.session_state[TOUR_STEP] = min(max(step, 1), len(STEPS))


def navigation(where: str) -> None:
    """Back, the step count and Next; ``where`` makes the buttons' keys unique."""
    number = st.session_state[TOUR_STEP]
    back, count, forward = st.columns([1, 4, 1], vertical_alignment="center")
    back.button(
        "Back",
        key=f"tour_back_{where}",
        icon=":material/arrow_back:",
        on_click=_move,
        args=(-1,),
        disabled=number == 1,
        width="stretch",
    )
    count.progress(number / len(STEPS), text=f"Step {number} of {len(STEPS)}")
    if number < len(STEPS):
        forward.button(
            "Next",
            key=f"tour_next_{where}",
            icon=":material/arrow_forward:",
            on_click=_move,
            args=(1,),
            type="primary",
            width="stretch",
        )
    else:
        forward.page_link("pages/new_user.py", label="Try it", icon=":material/tune:")


# ---------------------------------------------------------------------------- the steps


def data_step(model: Recommender) -> None:
    numbers = model_overview(model).numbers
    metric_row(
        [
            ("Ratings", f"{numbers['ratings']:,}", None),
            ("Users", f"{numbers['users']:,}", None),
            ("Movies", f"{numbers['movies']:,}", None),
            ("Mean rating", f"{numbers['mean_rating']:.2f} ★", None),
        ]
    )
    show_chart(
        st, charts.rating_distribution_chart(model_overview(model).rating_counts), width="stretch"
    )


def vectors_step(model: Recommender) -> None:
    left, right = st.columns(2, gap="large")
    user_id = picker(left, "A user", user_labels(model), key=TOUR_USER)
    genres = model.for_user(user_id, top=1).genre_averages
    show_chart(left, charts.genre_averages_chart(genres), width="stretch")
    movie_id = picker(right, "A movie", movie_labels(model), key=TOUR_MOVIE)
    row = model.items.iloc[model.movie_row(movie_id)]
    vector = row[list(ITEM_VECTOR_COLUMNS)].to_frame("value").reset_index(names="feature")
    vector["value"] = vector["value"].astype(float).round(2)
    show_table(right, vector, hide_index=True, height=table_height(8))


def network_step(model: Recommender) -> None:
    architecture_section(model.manifest)


def training_step(model: Recommender) -> None:
    metrics = model.manifest.get("metrics", {})
    left, right = st.columns([3, 1], gap="large")
    loss_section(left, model.history)
    with right:
        st.metric("Epochs", metric_value(metrics, "epochs_run", ".0f"))
        st.metric("Fit time", f"{metric_value(metrics, 'fit_seconds', '.0f')} s")


def new_user_step(model: Recommender) -> None:
    left, right = st.columns([1, 3], gap="large")
    kept = {"min_value": 0.0, "max_value": 5.0, "step": 0.5, "format": "%.1f ★"}
    adventure = left.slider("Adventure", key=TOUR_ADVENTURE, **kept)
    fantasy = left.slider("Fantasy", key=TOUR_FANTASY, **kept)
    top = model.for_new_user({"Adventure": adventure, "Fantasy": fantasy}, top=5, explain=True)
    with right:
        explore.movie_table(
            top, "tour_new_user", order=[TITLE, PREDICTED, WHY], title_width="medium"
        )


def similar_step(model: Recommender) -> None:
    movie_id = picker(st, "A movie", movie_labels(model), key=TOUR_MOVIE)
    neighbours = model.similar(movie_id, 5)
    st.markdown(f"The 5 movies most like **{md_escape(model.title_of(movie_id))}**")
    explore.movie_table(neighbours, "tour_similar", order=[TITLE, FOUND_BY, DISTANCE, YEAR])


STEP_WIDGETS = {
    "data": data_step,
    "vectors": vectors_step,
    "network": network_step,
    "training": training_step,
    "new-user": new_user_step,
    "similar": similar_step,
}
