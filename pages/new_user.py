"""New user: rate genres with sliders and add movies you liked; get the model's top movies."""

import streamlit as st

from recsys.columns import AVE_RATING, GENRES, NUM_RATINGS, PREDICTED, TITLE, WHY, YEAR
from recsys.dashboard import export
from recsys.dashboard.model_words import kind_words
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui import explore, frame, new_user, widgets
from recsys.dashboard.urls import filters_text, new_user_url, shown_text
from recsys.errors import known_errors

# The reason beside the title: both in view at 1280 px without scrolling sideways.
TABLE_COLUMNS = [TITLE, WHY, PREDICTED, YEAR, GENRES, AVE_RATING, NUM_RATINGS]

model = frame.require_model()
new_user.init_state(model)
st.title("New user")
st.caption(
    "Add movies you liked, and rate the genres you know under the list (0.5 to 5 stars; "
    'leave the others at "not rated"). They make your user vector, and the model ranks '
    "every movie for it. The link in the address bar keeps this view: share it or "
    "bookmark it."
)
# The title search and the filters in one row, the results under them at the page's
# whole width (a title and its reason each wrap whole in their column, at 1280×720 in
# presenter mode too), then the genres: search and results in the first screen.
search_col, stars_col, top_col, filters_col = st.columns([4, 2, 2, 2], vertical_alignment="bottom")
picks = new_user.picked_movies(model, search_col, stars_col)
filters = new_user.filters(model, top_col, filters_col)
results = st.container()
st.subheader("Rate genres")
new_user.preset_buttons()
genre_ratings = new_user.genre_sliders()
with results:
    try:
        user = model.new_user(genre_ratings, picks)  # checked once, for the whole request
        top = model.for_new_user(
            user,
            top=filters.top,
            include_genres=filters.include,
            exclude_genres=filters.exclude,
            year_range=filters.years,
            min_ratings=filters.min_ratings,
            explain=True,
        )
    except known_errors() as err:
        widgets.show_error(err)
        st.stop()
    bounds = model.catalogue.year_bounds
    link = new_user_url(genre_ratings, filters, bounds, new_user.kept_picks())
    widgets.write_url(new_user.NEW_USER, link)

    if not any(genre_ratings.values()) and not picks:
        st.info("Nothing rated yet: these are the picks for someone who has rated nothing.")
    if top.empty:
        st.info("No movie passes these filters; widen them.", icon=":material/filter_alt_off:")
    else:
        st.markdown(
            f"Top pick: **{md_escape(top[TITLE].iat[0])}**, {top[PREDICTED].iat[0]:.2f} ★ predicted"
        )
        words = kind_words(model.model_kind)
        if words.genres_only_note and not picks:
            st.caption(words.genres_only_note)
        if not model.scoring.ranks_by_stars:
            st.caption(
                f"Ranked by how likely you are to watch and enjoy each movie ({words.name}'s "
                "ranking); the stars are its predicted rating, so they need not fall in order."
            )
        explore.movie_table(top, "nu_table", order=TABLE_COLUMNS, title_width="medium", wrap=True)
        filters_set = filters_text(filters, bounds)
        st.caption(
            shown_text(len(top), filters.top)
            + (f" {md_escape(filters_set)}" if filters_set else "")
        )
        titles = dict(zip(model.catalogue.titles(user.rows), user.stars.tolist(), strict=True))
        settings = export.new_user_settings(
            export.model_setting(model.manifest)[1], genre_ratings, filters, bounds, titles
        )
        widgets.download_csv(
            top[TABLE_COLUMNS],
            export.new_user_file_name(genre_ratings, filters, bounds, list(picks)),
            "nu_csv",
            settings=settings,
            rank=True,
        )
