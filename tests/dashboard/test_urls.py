"""Reading a shared link (recsys.dashboard.urls): junk is ignored, values are clamped,
each with a note; and the link a view writes reads back as the same view."""

from __future__ import annotations

import pytest

from recsys.columns import GENRE_LIST
from recsys.dashboard.urls import (
    MAX_NEIGHBOURS,
    MAX_TOP,
    NewUserFilters,
    UrlReader,
    new_user_url,
    pick_params,
    read_movie,
    read_new_user,
    read_user,
)
from recsys.errors import DataError

BOUNDS = (1902, 2018)

# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize("raw", ["inf", "-inf", "Infinity", "nan", "NaN", "abc", "", "1,5", "0x10"])
def test_junk_numbers_give_the_default_and_a_note(raw):
    reader = UrlReader({"Action": raw})
    assert reader.number("Action", 0.0, 5.0, 0.0, 0.5) == 0.0
    assert reader.notes == [f"ignored Action={raw!r}: not a number"]


@pytest.mark.parametrize(
    ("raw", "used", "note"),
    [
        ("99", 5.0, "Action=99 is outside 0 to 5; using 5"),
        ("1e308", 5.0, "Action=1e308 is outside 0 to 5; using 5"),
        ("-2", 0.0, "Action=-2 is outside 0 to 5; using 0"),
        ("3.3", 3.5, "Action=3.3 is between steps; using 3.5"),
        (" 4.5 ", 4.5, None),
        ("5", 5.0, None),
    ],
)
def test_numbers_are_clamped_to_the_range_and_the_step(raw, used, note):
    reader = UrlReader({"Action": raw})
    assert reader.number("Action", 0.0, 5.0, 0.0, 0.5) == used
    assert reader.notes == ([note] if note else [])


def test_an_absent_number_is_the_default_without_a_note():
    reader = UrlReader({})
    assert reader.number("Action", 0.0, 5.0, 2.5) == 2.5
    assert reader.integer("top", 1, MAX_TOP, 10) == 10
    assert reader.notes == [] and reader.message() is None


@pytest.mark.parametrize(
    ("raw", "used"), [("-4", 1), ("1e12", MAX_TOP), ("7.4", 7), ("7.6", 8), ("1000", MAX_TOP)]
)
def test_integers_are_whole_and_inside(raw, used):
    value = UrlReader({"top": raw}).integer("top", 1, MAX_TOP, 10)
    assert value == used and isinstance(value, int)


def test_a_long_value_is_cut_in_the_note():
    reader = UrlReader({"top": "x" * 500})
    reader.integer("top", 1, MAX_TOP, 10)
    assert reader.notes == [f"ignored top={'x' * 39 + '…'!r}: not a number"]


# ------------------------------------------------------------------ genres and years


def test_genres_are_case_blind_unique_and_unknown_ones_noted():
    reader = UrlReader({"include": " comedy,Nope,DRAMA,,Comedy,<b>x</b> "})
    assert reader.genres("include") == ["Comedy", "Drama"]
    assert reader.notes == ["ignored unknown genre(s) in include: Nope, <b>x</b>"]


@pytest.mark.parametrize(
    ("raw", "used", "noted"),
    [
        ("2001-2010", (2001, 2010), False),
        ("2010 – 2001", (2001, 2010), False),  # either order, an en dash
        ("1990:1995", (1990, 1995), False),
        ("1800-1950", (1902, 1950), True),
        ("-5-3000", (1902, 2018), True),
        ("zzz", BOUNDS, True),
        ("2001", BOUNDS, True),
        ("1234567-2000", BOUNDS, True),  # more than 6 digits is junk
    ],
)
def test_year_ranges(raw, used, noted):
    reader = UrlReader({"years": raw})
    assert reader.year_range("years", BOUNDS) == used
    assert bool(reader.notes) == noted


# ------------------------------------------------------------------ the query string


def test_pick_params_is_case_blind_and_keeps_the_wanted_spelling():
    query = {"ACTION": "5", "top": "3", "other": "x"}
    assert pick_params(query, ("Action", "top")) == {"Action": "5", "top": "3"}


def test_a_key_repeated_in_other_cases_keeps_the_last():
    query = {"action": "1", "Action": "4"}
    assert pick_params(query, ("Action",)) == {"Action": "4"}


def test_the_message_escapes_what_the_link_held():
    reader = UrlReader({"include": "[x](javascript:alert(1))"})
    reader.genres("include")
    message = reader.message()
    assert message.startswith("Some settings in the link were adjusted: ")
    assert "](" not in message.replace("\\]\\(", "")


# ------------------------------------------------------------------ pages


def test_a_new_user_link_states_the_whole_view():
    link = read_new_user(
        UrlReader({"Comedy": "4.5", "top": "7", "exclude": "Drama,Horror"}), BOUNDS, 300
    )
    assert link.genre_ratings == {g: 4.5 if g == "Comedy" else 0.0 for g in GENRE_LIST}
    assert link.filters == NewUserFilters(7, (), ("Drama", "Horror"), BOUNDS, 0)


def test_a_view_written_as_a_link_reads_back_the_same():
    ratings = {g: 0.0 for g in GENRE_LIST} | {"Adventure": 5.0, "Fantasy": 3.5}
    filters = NewUserFilters(12, ("Comedy",), ("Horror",), (1990, 2000), 25)
    params = new_user_url(ratings, filters, BOUNDS)
    reader = UrlReader(params)
    assert read_new_user(reader, BOUNDS, 300) == (ratings, filters, {})
    assert reader.notes == []


def test_a_default_view_writes_only_the_rated_genres_and_top():
    filters = NewUserFilters(10, (), (), BOUNDS, 0)
    assert new_user_url({"Adventure": 5.0, "Drama": 0.0}, filters, BOUNDS) == {
        "Adventure": "5",
        "top": "10",
    }


@pytest.mark.parametrize(
    ("params", "expected", "note"),
    [
        ({"user": "3", "top": "20"}, (3, 20), None),
        ({"user": " 3 "}, (3, 10), None),
        ({"user": "999999"}, (2, 10), "user '999999' is not in this model's data; showing user 2"),
        ({"user": "-1"}, (2, 10), "user '-1' is not in this model's data; showing user 2"),
        ({"user": "3.0"}, (2, 10), "user '3.0' is not in this model's data; showing user 2"),
        ({"top": "NaN"}, (2, 10), "ignored top='NaN': not a number"),
    ],
)
def test_a_user_link(params, expected, note):
    reader = UrlReader(params)
    assert read_user(reader, {2, 3}, 2) == expected
    assert reader.notes == ([note] if note else [])


def _find_movie(text: str) -> int:
    if text in ("1", "Toy Story"):
        return 1
    raise DataError("movies", f"no movie titled {text!r}")


@pytest.mark.parametrize(
    ("params", "expected", "noted", "refused"),
    [
        ({"movie": "Toy Story", "k": "5"}, (1, 5), False, False),
        ({"movie": "nope"}, (7, 10), False, True),
        ({"k": "500"}, (7, MAX_NEIGHBOURS), True, False),
        ({"k": "-inf"}, (7, 10), True, False),
    ],
)
def test_a_movie_link(params, expected, noted, refused):
    reader = UrlReader(params)
    assert read_movie(reader, _find_movie, 7, "Seven (1995)") == expected
    assert bool(reader.notes) == noted
    assert bool(reader.errors) == refused
    if refused:
        assert reader.errors[0].endswith("; showing Seven (1995)")


def test_picks_in_a_link_keep_known_movies_with_half_stars():
    from recsys.dashboard.urls import MAX_PICKS

    reader = UrlReader({"movies": "1:5, 2:0.5,3:4.25,4:6,999:5,x:3,5:,1e3:4,6:3"})
    picks = reader.picks("movies", known={1, 2, 3, 4, 5, 6})
    assert picks == {1: 5.0, 2: 0.5, 6: 3.0}
    assert len(reader.notes) == 1 and "ignored in movies" in reader.notes[0]
    many = ",".join(f"{m}:4" for m in range(1, 40))
    assert len(UrlReader({"movies": many}).picks("movies", range(100))) == MAX_PICKS
    assert UrlReader({}).picks("movies", {1}) == {}


def test_a_link_with_picks_reads_back_as_the_same_picks():
    filters = NewUserFilters(10, (), (), (1990, 2000), 0)
    params = new_user_url({"Drama": 4.0}, filters, (1990, 2000), {318: 5.0, 4886: 3.5})
    assert params["movies"] == "318:5,4886:3.5"
    link = read_new_user(UrlReader(params), (1990, 2000), 100, {318, 4886})
    assert link.picks == {318: 5.0, 4886: 3.5}


def test_a_links_model_must_be_trained_and_presenter_mode_reads_on_or_off():
    from recsys.dashboard.urls import frame_params, read_model, read_present

    assert read_model(" LAB ", ["hybrid", "lab"]) == ("lab", None)
    assert read_model(None, ["hybrid"]) == (None, None)
    kind, note = read_model("lab", ["hybrid"])
    assert kind is None and "the trained models are hybrid" in note
    assert [read_present(v) for v in ("1", "on", "0", "maybe", None)] == [
        True,
        True,
        False,
        None,
        None,
    ]
    assert frame_params("lab", True) == {"model": "lab", "present": "1"}
    assert frame_params("hybrid", False) == {"model": "hybrid"}


def test_picks_a_model_lacks_are_named_once_each():
    from recsys.dashboard.urls import lacking_text

    one = lacking_text(["Toy Story (1995)"], "lab")
    assert one == (
        "Toy Story (1995) is not among the lab network's movies; kept for when you switch back."
    )
    assert lacking_text(["A", "B"], "hybrid").startswith("A; B are not among the hybrid")
