"""`python -m recsys info --json`: one JSON object with the dataset's counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from recsys.columns import GENRE_LIST, MOVIE_ID
from recsys.settings import PROJECT_ROOT


def _info(data: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "recsys", "info", "--json", "--data", str(data)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def test_info_on_the_real_data(real_data):
    info = _info(real_data)
    assert (info["ratings"], info["users"], info["movies"]) == (100_836, 610, 9_742)
    assert info["rating_range"] == [0.5, 5.0]
    assert info["year_range"] == [1902, 2018]
    assert list(info["ratings_per_genre"]) == list(GENRE_LIST)
    assert info["ratings_per_genre"]["Drama"] == 41_928
    assert info["ratings_per_genre"]["Documentary"] == 1_219


def test_info_on_synthetic_data_matches_what_was_written(synthetic_info):
    info = _info(synthetic_info.folder)
    assert (info["ratings"], info["users"], info["movies"]) == (
        synthetic_info.n_ratings,
        synthetic_info.n_users,
        synthetic_info.n_movies,
    )
    assert info["warnings"] == []
    # Each rating counts once for every genre of its movie.
    ratings = pd.read_csv(synthetic_info.folder / "ratings.csv")
    movies = pd.read_csv(synthetic_info.folder / "movies.csv").set_index(MOVIE_ID)
    genres_per_rating = movies.loc[ratings[MOVIE_ID], "genres"].str.count(r"\|") + 1
    assert sum(info["ratings_per_genre"].values()) == genres_per_rating.sum()
