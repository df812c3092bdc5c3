"""Downloaded CSVs: no float noise, a rank column, the view's settings, a telling name."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from recsys.columns import DISTANCE, MOVIE_ID, PREDICTED, TITLE, YEAR
from recsys.dashboard.export import (
    csv_bytes,
    model_setting,
    new_user_file_name,
    new_user_settings,
    user_file_name,
)
from recsys.dashboard.urls import NewUserFilters

BOUNDS = (1990, 2018)
NO_FILTERS = NewUserFilters(10, (), (), BOUNDS, 0)


def _read(data: bytes) -> tuple[list[str], pd.DataFrame]:
    """The ``#`` lines and the table after them."""
    lines = data.decode().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    return comments, pd.read_csv(io.BytesIO(data), skiprows=len(comments))


def test_numbers_are_rounded_without_float_noise():
    table = pd.DataFrame(
        {
            TITLE: ["A (2001)", "B"],
            PREDICTED: np.array([3.5799999237060547, 4.0], dtype="float32"),
            YEAR: [2001.0, np.nan],
            DISTANCE: [0.123456789, 2.0],
            MOVIE_ID: np.array([7, 8], dtype="int32"),
        }
    )
    lines = csv_bytes(table).decode().splitlines()
    assert lines[1] == "A (2001),3.58,2001,0.1235,7"
    assert lines[2] == "B,4,,2,8"


def test_a_rank_column_and_the_settings_come_first():
    table = pd.DataFrame({TITLE: ["A", "B", "C"], PREDICTED: [4.5, 4.25, 4.0]})
    settings = [("view", "New user: recommendations"), ("model", "the lab's network")]
    comments, read = _read(csv_bytes(table, settings, rank=True))
    assert comments == ["# view: New user: recommendations", "# model: the lab's network"]
    assert list(read.columns) == ["rank", TITLE, PREDICTED]
    assert read["rank"].tolist() == [1, 2, 3]
    assert read[PREDICTED].tolist() == [4.5, 4.25, 4.0]


def test_settings_lines_are_defused_too():
    picks = {"=HYPERLINK(1), =2+3 (2001)": 5.0, "Shrek (2001)": 4.5}
    settings = new_user_settings("m", {"Adventure": 5.0}, NO_FILTERS, BOUNDS, picks)
    data = csv_bytes(pd.DataFrame({TITLE: ["x"]}), settings).decode()
    line = next(x for x in data.splitlines() if x.startswith("# movies you liked"))
    assert ", '=2+3" in line  # a formula start after a separator gets its quote
    for separator in (",", ";"):
        for cell in line.split(separator):
            assert not cell.strip().startswith(("=", "+", "-", "@")), cell
    # The existing defences still hold for the table's own cells.
    assert csv_bytes(pd.DataFrame({TITLE: ["=1+2"]})).decode().splitlines()[1] == "'=1+2"


def test_new_user_settings_record_the_view():
    filters = NewUserFilters(5, ("Comedy",), ("Drama",), (2000, 2010), 20)
    settings = dict(
        new_user_settings(
            "the hybrid",
            {"Adventure": 5.0, "Fantasy": 4.5, "Drama": 0.0},
            filters,
            BOUNDS,
            {"Shrek (2001)": 5.0},
        )
    )
    assert settings["model"] == "the hybrid"
    assert settings["genre ratings"] == "Adventure 5★, Fantasy 4.5★"
    assert settings["movies you liked"] == "Shrek (2001) 5★"
    assert settings["how many"] == "5"
    assert settings["only genres"] == "Comedy" and settings["leave out genres"] == "Drama"
    assert settings["released"] == "2000 to 2010"
    assert settings["at least this many ratings"] == "20"
    plain = dict(new_user_settings("m", {}, NO_FILTERS, BOUNDS))
    assert plain["genre ratings"] == "none rated" and "released" not in plain


def test_file_names_name_the_view():
    ratings = {"Adventure": 5.0, "Fantasy": 5.0, "Drama": 0.0}
    assert (
        new_user_file_name(ratings, NO_FILTERS, BOUNDS) == "new-user-adventure5-fantasy5-top10.csv"
    )
    many = {"Sci-Fi": 4.5, "Action": 5.0, "Comedy": 1.0, "Crime": 2.0, "Drama": 3.0}
    filtered = NewUserFilters(20, ("Comedy",), (), BOUNDS, 0)
    assert (
        new_user_file_name(many, filtered, BOUNDS, [1, 2])
        == "new-user-action5-scifi4.5-drama3-crime2-more-2-movies-filtered-top20.csv"
    )
    assert new_user_file_name({}, NO_FILTERS, BOUNDS) == "new-user-unrated-top10.csv"
    assert user_file_name(2, "top10") == "user-2-top10.csv"
    assert user_file_name(2, "rated") == "user-2-rated.csv"


def test_the_model_setting_names_the_model_and_when_it_was_made():
    manifest = {"created": "2026-11-30T10:00:05+00:00", "model": "hybrid", "config": {}}
    assert model_setting(manifest) == (
        "model",
        "the hybrid two-tower model, trained 2026-11-30 10:00 UTC",
    )
