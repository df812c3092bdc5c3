"""Similar movies: what a movie's fans also love, and its nearest neighbours in the
model's movie space."""

import streamlit as st

from recsys.columns import DISTANCE, FOUND_BY, FOUND_BY_FANS, GENRES, MOVIE_ID, TITLE, YEAR
from recsys.dashboard import charts, export
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui import explore, frame, similar, widgets
from recsys.dashboard.ui.cache import embedding_map, movie_labels, nearest_table
from recsys.dashboard.urls import MAX_NEIGHBOURS
from recsys.errors import known_errors

model = frame.require_model()
similar.init_state(model)
st.title("Similar movies")

labels = movie_labels(model)
pick, count = st.columns([3, 1])
movie_id = widgets.picker(pick, "Movie (type to search by title)", labels, key=similar.SM_MOVIE)
k = count.slider("Neighbours", 1, MAX_NEIGHBOURS, key=similar.SM_K, persist_state="session")
try:
    neighbours = model.similar(movie_id, k)
except known_errors() as err:
    widgets.show_error(err, "Pick another movie.")
    st.stop()
widgets.write_url(similar.SIMILAR, {"movie": movie_id, "k": k})

nearest_words = "The movie" if k == 1 else f"The {k} movies"
st.subheader(f"{nearest_words} most like {md_escape(labels[movie_id])}")
by_fans = int((neighbours[FOUND_BY] == FOUND_BY_FANS).sum())
if by_fans:
    fans_words = "All" if by_fans == len(neighbours) else f"The first {by_fans}"
    rest_words = "" if by_fans == len(neighbours) else " The rest are the nearest in it."
    st.caption(
        f"{fans_words} are what its fans also love most: people who liked it liked these, "
        "the most liked and those sharing most of its genres first. The distance is each "
        "one's distance in the model's movie space." + rest_words
    )
else:
    st.caption("Nearest first, by distance in the model's movie space.")
# The title holds the year: without a year column the genres fit beside it at 1280 px.
left, right = st.columns([3, 2], gap="medium")
with left:
    explore.movie_table(
        neighbours, "sm_table", order=[TITLE, DISTANCE, GENRES], title_width="medium"
    )
    widgets.download_csv(
        neighbours[[TITLE, YEAR, FOUND_BY, DISTANCE, GENRES]],
        f"similar-to-{movie_id}-k{k}.csv",
        "sm_csv",
        settings=[
            ("view", "Similar movies"),
            export.model_setting(model.manifest),
            ("movie", labels[movie_id]),
            ("rows", f"its {k} most similar movies: what its fans love first, then the nearest"),
        ],
        rank=True,
    )
with right:
    widgets.show_chart(
        st,
        charts.embedding_chart(embedding_map(model), movie_id, neighbours[MOVIE_ID]),
        width="stretch",
    )
    st.caption(
        "Every movie's embedding, projected on its first two principal components (PCA) "
        "and coloured by its most telling genre (the rarest it lists; the nine commonest "
        "are named, the rest are grey). The diamond is the picked movie; rings mark its "
        "neighbours. Shift + scroll zooms, drag pans, a double click resets; hover for "
        "titles."
    )

st.subheader("Each movie's nearest neighbour (the lab's table)")
nearest = nearest_table(model)
st.caption(f"The first {similar.NEAREST_SHOWN} of {len(nearest):,} movies.")
widgets.show_table(
    st,
    nearest.head(similar.NEAREST_SHOWN),
    hide_index=True,
    column_config={
        "movie1": st.column_config.TextColumn(width="medium"),
        "movie2": st.column_config.TextColumn(width="medium"),
        "distance": st.column_config.NumberColumn(format="%.4f", width="small"),
    },
)
widgets.download_csv(
    nearest,
    "nearest_neighbours.csv",
    "sm_nearest_csv",
    f"Download all {len(nearest):,} rows (CSV)",
    settings=[
        ("view", "Similar movies"),
        export.model_setting(model.manifest),
        ("rows", "each movie and its nearest neighbour (the lab's table)"),
    ],
)
