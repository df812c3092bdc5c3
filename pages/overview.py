"""Overview: the data set in numbers, then tabs: what each page is for, the most-rated
movies, the genres, the ratings, and the first training rows (only the open tab is
drawn)."""

import streamlit as st

from recsys.dashboard import charts
from recsys.dashboard.model_words import kind_words
from recsys.dashboard.overview import TARGET_STARS, training_preview
from recsys.dashboard.ui import explore, frame, widgets
from recsys.dashboard.ui.cache import dataset_overview, model_overview
from recsys.dashboard.ui.overview_page import open_tab, start_here, warn_if_stale
from recsys.dataset.movielens import dataset_present
from recsys.errors import known_errors
from recsys.settings import resolve_data_path

model = frame.require_model()
st.title("Overview")

data_path = resolve_data_path(None)
sources = {"model": "The model's training subset"}
whole_catalogue = model.scoring.whole_catalogue  # it trains on every movie of the dataset
if dataset_present(data_path):
    sources = {"dataset": "The whole dataset", **({} if whole_catalogue else sources)}
widgets.keep_choice("ov_source", sources, next(iter(sources)))
if len(sources) > 1:
    source = st.segmented_control(
        "Show",
        list(sources),
        format_func=sources.get,
        key="ov_source",
        required=True,
        persist_state="session",
    )
else:
    source = next(iter(sources))
    name = kind_words(model.model_kind).name
    if whole_catalogue and source == "dataset":
        st.caption(f"The whole dataset, which is also what {name} trains on.")
try:
    overview = dataset_overview(data_path) if source == "dataset" else model_overview(model)
except known_errors() as err:
    widgets.show_error(err, "Showing the model's training subset instead.")
    overview = model_overview(model)
warn_if_stale(model, overview)

numbers = overview.numbers
years = numbers["year_range"]
widgets.metric_row(
    [
        ("Ratings", f"{numbers['ratings']:,}", None),
        ("Users", f"{numbers['users']:,}", None),
        ("Movies", f"{numbers['movies']:,}", f"{numbers['rated_movies']:,} of them rated"),
        ("Mean rating", f"{numbers['mean_rating']:.2f} ★", None),
        ("Released", f"{years[0]}–{years[1]}" if years else "–", None),
        ("Density", f"{numbers['density']:.2%}", "Ratings ÷ (users × movies)"),
    ]
)

tab, shown = open_tab()
with shown:
    if tab == "start":
        start_here()
    elif tab == "most-rated":
        st.subheader("The 10 most-rated movies")
        explore.movie_table(
            overview.top_rated,
            "ov_top",
            show_id=True,
            height=widgets.table_height(len(overview.top_rated)),
        )
        widgets.download_csv(overview.top_rated, "most_rated_movies.csv", "overview_top_csv")
    elif tab == "per-genre":
        left, right = st.columns(2, gap="large")
        widgets.show_table(
            left,
            overview.by_genre,
            hide_index=True,
            height=widgets.table_height(len(overview.by_genre)),
            column_config={"ave rating/genre": st.column_config.NumberColumn(format="%.2f")},
        )
        widgets.show_chart(
            right,
            charts.genre_bar_chart(overview.by_genre, "ratings per genre", "Ratings per genre"),
            width="stretch",
        )
        widgets.show_chart(
            right,
            charts.genre_bar_chart(
                overview.by_genre,
                "ave rating/genre",
                "Mean rating per genre",
                ".2f",
                from_zero=False,
            ),
            width="stretch",
        )
    elif tab == "ratings":
        widgets.show_chart(
            st, charts.rating_distribution_chart(overview.rating_counts), width="stretch"
        )
    else:
        st.caption(
            "The first training rows: a user vector and a movie vector per rating, before "
            "scaling. Columns in [brackets] are shown but not fed to the network; a genre "
            "column of the user vector is the user's average rating of that genre "
            "(0 = none rated)."
        )
        user_rows, item_rows = training_preview(model.ratings, model.users, model.items)
        one_decimal = st.column_config.NumberColumn(format="%.1f")
        st.markdown("**User vectors**")
        widgets.show_table(
            st,
            user_rows,
            hide_index=True,
            column_config=dict.fromkeys(user_rows.columns[2:], one_decimal),
        )
        st.markdown("**The rating to predict**, and the movie vectors")
        target_first = [item_rows.columns[0], TARGET_STARS, *item_rows.columns[1:-1]]
        widgets.show_table(
            st,
            item_rows,
            hide_index=True,
            column_order=target_first,
            column_config={"ave rating": one_decimal},
        )
