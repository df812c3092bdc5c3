"""Existing user: a MovieLens user's predicted vs actual ratings, and what to watch next."""

import streamlit as st

from recsys.columns import (
    ACTUAL,
    AVE_RATING,
    ERROR,
    GENRES,
    NUM_RATINGS,
    PREDICTED,
    TITLE,
    WHY,
    YEAR,
)
from recsys.dashboard import charts, export
from recsys.dashboard.model_words import fit_help
from recsys.dashboard.ui import existing_user, explore, frame, widgets
from recsys.dashboard.ui.cache import user_labels
from recsys.dashboard.urls import MAX_TOP
from recsys.errors import known_errors

RATED_COLUMNS = [TITLE, PREDICTED, ACTUAL, ERROR, YEAR, GENRES, AVE_RATING, NUM_RATINGS]
TOP_COLUMNS = [TITLE, PREDICTED, WHY, YEAR, GENRES, AVE_RATING, NUM_RATINGS]
# The picker, the metrics and the charts are drawn late (the charts by Vega after the
# run); each sits in a box of its final height from the first paint, so the tables below
# are not pushed down under the reader. Presenter mode's larger text has no fixed height.
HEAD_PX, METRICS_PX, CHART_BOX_PX = 92, 80, 420  # the charts: 400 px and 310 px tall

model = frame.require_model()
existing_user.init_state(model)
EU_ERROR_HELP = fit_help(model.model_kind)
st.title("Existing user")

labels = user_labels(model)
pick, count = widgets.steady_box(HEAD_PX).columns([3, 1])
user_id = widgets.picker(pick, "User (type to search)", labels, key=existing_user.EU_USER)
top = count.number_input(
    f"How many to recommend (1 to {MAX_TOP})",
    1,
    MAX_TOP,
    key=existing_user.EU_TOP,
    persist_state="session",
)
try:
    result = model.for_user(user_id, top=int(top), explain=True)
except known_errors() as err:
    widgets.show_error(err, "Pick another user.")
    st.stop()
widgets.write_url(existing_user.EXISTING_USER, {"user": user_id, "top": int(top)})

with widgets.steady_box(METRICS_PX):
    widgets.metric_row(
        [
            ("Movies rated", f"{len(result.rated):,}", "In the model's data (its preset's movies)"),
            ("RMSE on ratings it trained on", f"{result.rmse:.3f} ★", EU_ERROR_HELP),
            ("MAE on ratings it trained on", f"{result.mae:.3f} ★", EU_ERROR_HELP),
        ]
    )

left, right = st.columns(2, gap="large")
left, right = (widgets.steady_box(CHART_BOX_PX, column) for column in (left, right))
widgets.show_chart(left, charts.genre_averages_chart(result.genre_averages), width="stretch")
widgets.show_chart(right, charts.predicted_vs_actual_chart(result.rated), width="content")

st.subheader("The movies they rated, highest prediction first")
explore.movie_table(result.rated, "eu_rated_table", order=RATED_COLUMNS)
user_settings = [
    ("view", f"Existing user {user_id}"),
    export.model_setting(model.manifest),
    ("user", str(user_id)),
]
widgets.download_csv(
    result.rated,
    export.user_file_name(user_id, "rated"),
    "eu_rated_csv",
    settings=[*user_settings, ("rows", "the movies they rated, highest prediction first")],
    rank=True,
)
st.subheader(f"Top {int(top)} among the movies they have not rated")
# Wrapped rows and a medium title, as on New user: the reasons show whole.
explore.movie_table(
    result.unseen, "eu_top_table", order=TOP_COLUMNS, title_width="medium", wrap=True
)
widgets.download_csv(
    result.unseen[TOP_COLUMNS],
    export.user_file_name(user_id, f"top{int(top)}"),
    "eu_top_csv",
    settings=[*user_settings, ("rows", f"top {int(top)} among the movies they have not rated")],
    rank=True,
)

st.subheader(f"Side by side: each model's top {int(top)} and the most popular")
existing_user.compare_section(model, user_id, int(top))
