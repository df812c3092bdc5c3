"""New user: rate genres with sliders, get the movies the model predicts you'd rate highest."""

import streamlit as st

from recsys.columns import AVE_RATING, GENRES, NUM_RATINGS, PREDICTED, TITLE, YEAR
from recsys.dashboard import ui
from recsys.dashboard.overview import year_bounds
from recsys.errors import known_errors

TABLE_COLUMNS = [TITLE, PREDICTED, YEAR, GENRES, AVE_RATING, NUM_RATINGS]

model = ui.require_model()
ui.init_new_user_state(model)
st.title("New user")
st.caption(
    "Rate the genres you know, 0.5 to 5 stars (0 = not rated). As in the lab, these ratings "
    "make your user vector, and the model ranks every movie for it. The link in the address "
    "bar keeps this view: share it or bookmark it."
)
ui.preset_buttons()
genre_ratings = ui.genre_sliders()
filters = ui.new_user_filters(model)
try:
    top = model.for_new_user(
        genre_ratings,
        filters.top,
        include_genres=filters.include,
        exclude_genres=filters.exclude,
        year_range=filters.years,
        min_ratings=filters.min_ratings,
    )
except known_errors() as err:
    ui.show_error(err)
    st.stop()
ui.write_url(ui.NEW_USER, ui.new_user_url(genre_ratings, filters, year_bounds(model.items)))

if not any(genre_ratings.values()):
    st.info("No genre rated yet: these are the picks for someone who has rated nothing.")
if top.empty:
    st.info("No movie passes these filters; widen them.", icon=":material/filter_alt_off:")
else:
    st.markdown(
        f"Top pick: **{ui.md_escape(top[TITLE].iat[0])}**, {top[PREDICTED].iat[0]:.2f} ★ predicted"
    )
    ui.show_movies(top, order=TABLE_COLUMNS)
    st.download_button(
        "Download CSV",
        data=ui.csv_bytes(top),
        file_name="recommendations.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
