"""The smaller snags of a walkthrough (AppTest and plain Python): a link's filters said
beside the count, a movie named twice in a link, the Overview's source switch only where
it changes something, "the movie nearest", the picked movie's neighbours as a download,
and the lab's presets said to be loose."""

from __future__ import annotations

import shutil

import pandas as pd

from recsys.columns import MOVIE_ID, TITLE
from recsys.dashboard.urls import NewUserFilters, UrlReader, filters_text
from tests.dashboard.apptest import open_app, texts, unescape


def test_the_filters_that_are_set_are_said_in_words():
    bounds = (1990, 2020)
    none = NewUserFilters(10, (), (), bounds, 0)
    assert filters_text(none, bounds) is None
    some = NewUserFilters(10, ("Drama",), ("Horror", "War"), (2000, 2020), 50)
    assert filters_text(some, bounds) == (
        "Filters: only Drama; no Horror, no War; released 2000–2020; at least 50 ratings."
    )


def test_a_movie_named_twice_in_a_link_says_which_was_kept():
    reader = UrlReader({"movies": "1:5,1:2,2:4"})
    assert reader.picks("movies", {1, 2}) == {1: 5.0, 2: 4.0}
    assert "a movie named twice in movies: 1:2 (kept 1:5)" in reader.notes


def test_a_shared_links_filters_show_beside_the_count(hostile_app):
    at = hostile_app("new_user", {"exclude": "Horror", "min_ratings": "5"})
    assert "Filters: no Horror; at least 5 ratings." in unescape(texts(at))
    assert "Filters:" not in texts(hostile_app("new_user"))


def test_the_overview_offers_the_training_subset_only_where_it_differs(
    monkeypatch, hostile, hybrid_artifacts, hostile_app
):
    data, _, _ = hostile
    at = open_app(monkeypatch, hybrid_artifacts, data, "overview")
    assert all(b.key != "ov_source" for b in at.get("button_group"))
    assert "also what the hybrid model trains on" in texts(at)
    lab = hostile_app("overview")
    assert any(b.key == "ov_source" for b in lab.get("button_group"))


def test_one_neighbour_is_the_movie_nearest_and_the_neighbours_download(hostile_app):
    at = hostile_app("similar_movies", {"k": "1"})
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("The movie most like") for h in heads), heads
    assert not any("The 1 movies" in h for h in heads)
    keys = [b.proto.id for b in at.get("download_button")]
    assert any("sm_csv" in key for key in keys), keys


def test_the_lab_says_its_presets_are_loose(hostile_app, monkeypatch, hostile, hybrid_artifacts):
    assert "follows genre presets loosely" in texts(hostile_app("new_user"))
    data, _, _ = hostile
    hybrid = open_app(monkeypatch, hybrid_artifacts, data, "new_user")
    assert "follows genre presets loosely" not in texts(hybrid)


def test_an_address_naming_no_page_is_found_out():
    from recsys.dashboard.urls import unknown_page

    known = ["home", "new_user", "overview"]
    assert unknown_page("http://localhost:8501/no_such_page?x=1", "", known) == "no_such_page"
    assert unknown_page("http://localhost:8501/", "", known) is None
    assert unknown_page("http://localhost:8501/New_User", "", known) is None
    assert unknown_page("http://host/app/", "app", known) is None  # the base path itself
    assert unknown_page("http://host/app/nope", "/app/", known) == "nope"


def test_own_favourites_found_is_explained_in_one_line(hostile_app):
    at = hostile_app("existing_user")
    found = [m for m in at.metric if m.label == "Own favourites found"]
    liked = found[0].value.split(" of ")[1]
    assert f"of the {liked} movies this user rated 4★ or more, how many each list" in texts(at)


def test_how_many_says_its_range_on_both_user_pages(hostile_app):
    # A typed 0 or 500 is refused by the browser with only a red border: the range must
    # be readable before the user types.
    for page, key in (("new_user", "nu_top"), ("existing_user", "eu_top")):
        box = hostile_app(page).number_input(key=key)
        assert f"({int(box.min)} to {int(box.max)})" in box.label, box.label
        assert (int(box.min), int(box.max)) == (1, 100)


def test_most_popular_ranks_the_whole_dataset_whichever_model_is_served(
    hostile_app, monkeypatch, hostile, hybrid_artifacts, tmp_path
):
    data, artifacts, _ = hostile
    user = hostile_app("existing_user").selectbox(key="eu_user").value
    # The dataset gains a movie, rated by everyone but this user, that neither trained
    # model serves: the most popular of the dataset, whatever the models learnt.
    grown = tmp_path / "grown"
    shutil.copytree(data, grown)
    ratings = pd.read_csv(grown / "ratings.csv")
    others = ratings.loc[ratings["userId"] != user, "userId"].unique()
    hit = int(ratings[MOVIE_ID].max()) + 1
    new = pd.DataFrame({"userId": others, MOVIE_ID: hit, "rating": 4.0, "timestamp": 1})
    pd.concat([ratings, new[ratings.columns]]).to_csv(grown / "ratings.csv", index=False)
    with open(grown / "movies.csv", "a") as movies:
        movies.write(f"{hit},A Hit Nobody Trained On (2020),Drama\n")
    for served in (artifacts, hybrid_artifacts):
        at = open_app(monkeypatch, served, grown, "existing_user", {"user": str(user)})
        popular = [f.value for f in at.dataframe if list(f.value.columns) == [TITLE]][-1]
        assert popular[TITLE].iloc[0] == "A Hit Nobody Trained On (2020)"
        assert "ranks all the dataset's movies by how many ratings" in texts(at)


def test_picks_in_a_link_read_titles_with_commas_and_colons():
    from recsys.errors import UsageError

    titles = {
        "good, the bad and the ugly, the (1966)": 1201,
        "star wars: episode iv - a new hope (1977)": 260,
    }

    def find(title: str) -> int:
        if title.lower() not in titles:
            raise UsageError(f"no movie titled {title!r}")
        return titles[title.lower()]

    raw = (
        "Good, the Bad and the Ugly, The (1966):5,"
        "Star Wars: Episode IV - A New Hope (1977):4.5, 1:3,Nope:2"
    )
    reader = UrlReader({"movies": raw})
    assert reader.picks("movies", {1, 260, 1201}, find) == {1201: 5.0, 260: 4.5, 1: 3.0}
    assert reader.notes == ["ignored in movies: Nope:2 (no movie titled 'Nope')"]


def test_a_link_picks_movies_by_title_as_well_as_by_id(hostile_app, hostile):
    data, _, _ = hostile
    movies = pd.read_csv(data / "movies.csv")
    plain = movies[movies[TITLE].str.fullmatch(r"Synthetic Movie \d+ \(\d{4}\)")].iloc[:2]
    (first, first_title), (second, _) = zip(plain[MOVIE_ID], plain[TITLE], strict=True)
    link = f"{first_title}:5,{second}:3.5,No Such Film (1900):4"
    at = hostile_app("new_user", {"movies": link})
    assert at.session_state["nu_picks"] == {first: 5.0, second: 3.5}
    said = unescape(texts(at))
    assert "ignored in movies: No Such Film (1900):4 (no movie titled 'No Such Film" in said
    assert at.query_params["movies"] == f"{first}:5,{second}:3.5"
