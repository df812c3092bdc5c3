"""Explore: search and filter the catalogue; a movie's ratings, tags, neighbours and fans."""

import streamlit as st

from recsys.columns import AVE_RATING, DISTANCE, GENRES, MOVIE_ID, NUM_RATINGS, TITLE, YEAR
from recsys.dashboard import charts
from recsys.dashboard.explore import browse, least_ratings
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui import explore, frame, widgets
from recsys.dashboard.ui.cache import explore_catalogue, movie_labels, movie_ratings
from recsys.errors import known_errors

BROWSE_SHOWN = 500  # rows of the browse table (the count says how many match)

model = frame.require_model()
# The data's every movie, whichever model is served (the lab's keeps fewer).
catalogue = explore_catalogue(model)
items = catalogue.items
explore.init_state(model, catalogue)
st.title("Explore")
st.caption(
    f"Search and filter {'the dataset' if catalogue.whole_dataset else 'the model'}'s "
    "movies; select a row to see its ratings, tags, nearest neighbours and the users who "
    "rated it highest. A row selected in any movie table of the app opens here."
)

query = explore.browse_controls(items)
found = browse(items, query)
floor = least_ratings(query)
# The list and the picked movie's summary side by side: a row selected in the list
# shows its movie at once, in view, beside it (at 1280×720 too).
list_col, details_col = st.columns([3, 2], gap="medium")
with list_col:
    st.caption(
        f"{len(found):,} of {len(items):,} movies match"
        + (f"; the first {BROWSE_SHOWN:,} are listed" if len(found) > BROWSE_SHOWN else "")
        + (
            f". Sorted by mean rating, only movies with at least {floor} ratings are listed "
            "(a mean of one or two ratings says little); set a minimum to change it"
            if floor != query.min_ratings
            else ""
        )
    )
    shown = found.head(BROWSE_SHOWN)
    explore.movie_table(
        shown,
        "ex_browse",
        switch=False,
        order=[TITLE, YEAR, GENRES, AVE_RATING, NUM_RATINGS],
        height=widgets.table_height(min(len(shown), 8)),
    )
    labels = catalogue.labels
    movie_id = widgets.picker(st, "Movie (type to search by title)", labels, key=explore.EX_MOVIE)
widgets.write_url(explore.EXPLORE, explore.browse_link(movie_id, query))
row = items.loc[items[MOVIE_ID] == movie_id].iloc[0]
ratings, whole_dataset = movie_ratings(model)

with details_col:
    explore.point_to_details(str(row[TITLE]))
    st.header(md_escape(str(row[TITLE])), anchor=explore.DETAILS_ANCHOR)
    counted = "the dataset" if catalogue.whole_dataset else "the model's training data"
    mean_text = "–" if row[AVE_RATING] != row[AVE_RATING] else f"{row[AVE_RATING]:.2f} ★"
    widgets.metric_row(
        [
            ("Released", "–" if row[YEAR] != row[YEAR] else f"{int(row[YEAR])}", None),
            ("Mean rating", mean_text, f"Over its ratings in {counted}"),
            ("Ratings", f"{int(row[NUM_RATINGS]):,}", f"In {counted}"),
        ]
    )
    st.caption(f"Genres: {md_escape(str(row[GENRES]).replace('|', ', '))}")
if not whole_dataset:
    st.info(
        "The dataset is not on this machine: these are the model's own training ratings, "
        "without dates or tags.",
        icon=":material/info:",
    )
left, right = st.columns(2, gap="large")
widgets.show_chart(
    left,
    charts.rating_distribution_chart(ratings.histogram(movie_id), "Its ratings"),
    width="stretch",
)
by_year = ratings.over_time(movie_id)
if len(by_year):
    widgets.show_chart(right, charts.ratings_over_time_chart(by_year), width="stretch")

tags_col, fans_col, near_col = st.columns([2, 3, 4], gap="large")
with tags_col:
    st.subheader("Tags")
    tags = ratings.top_tags(movie_id)
    if tags.empty:
        st.caption("No tags for this movie.")
    else:
        widgets.show_table(
            st, tags, hide_index=True, height=widgets.table_height(min(len(tags), 10))
        )
with fans_col:
    st.subheader("Who rated it highest")
    fans = ratings.top_raters(movie_id)
    widgets.show_table(
        st,
        fans,
        hide_index=True,
        column_config={"userId": st.column_config.NumberColumn("user", format="%d")},
    )
with near_col:
    st.subheader("Nearest in the model's movie space")
    if movie_id not in movie_labels(model):  # the served model's own movies
        st.info(explore.not_served_text(model.model_kind), icon=":material/info:")
    else:
        try:
            neighbours = model.similar(movie_id, 10)
        except known_errors() as err:
            widgets.show_error(err, "Pick another movie.")
        else:
            explore.movie_table(
                neighbours,
                f"ex_near_{movie_id}",
                switch=False,
                order=[TITLE, DISTANCE, YEAR],
                title_width="medium",
            )
