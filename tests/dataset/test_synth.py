"""The synthetic generator: exact counts, valid MovieLens files, visible planted tastes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATING, TIMESTAMP, TITLE, USER_ID
from recsys.dataset.movielens import genre_flags, load_movielens
from recsys.dataset.synth import main as synth_main
from recsys.dataset.synth import write_synthetic
from recsys.errors import UsageError
from recsys.settings import PROJECT_ROOT


def _raw_ratings(folder) -> pd.DataFrame:
    """ratings.csv as written, without the loader's clean-up."""
    return pd.read_csv(folder / "ratings.csv")


def test_loads_with_the_asked_counts(tmp_path):
    write_synthetic(tmp_path, n_users=120, n_movies=90, n_ratings=3_000, rng=11)
    dataset = load_movielens(tmp_path)
    assert len(dataset.ratings) == 3_000
    assert dataset.ratings[USER_ID].nunique() == 120
    assert len(dataset.movies) == 90
    assert dataset.warnings == ()


def test_chunked_writing_keeps_counts_and_pairs(tmp_path, monkeypatch):
    # Tiny chunks take the path that ml-25m sizes take.
    monkeypatch.setattr("recsys.dataset.synth._CHUNK_RATINGS", 500)
    write_synthetic(tmp_path, n_users=60, n_movies=200, n_ratings=4_000, rng=5)
    ratings = _raw_ratings(tmp_path)
    assert len(ratings) == 4_000
    assert sorted(ratings[USER_ID].unique()) == list(range(1, 61))
    assert not ratings.duplicated([USER_ID, MOVIE_ID]).any()


def test_no_pair_is_rated_twice(synthetic_data):
    assert not _raw_ratings(synthetic_data).duplicated([USER_ID, MOVIE_ID]).any()


def test_ratings_are_half_stars_in_range(synthetic_data):
    stars = set(_raw_ratings(synthetic_data)[RATING].unique())
    assert stars <= {k / 2 for k in range(1, 11)}
    assert {0.5, 5.0} <= stars  # the noise reaches both ends


def test_each_users_timestamps_increase(synthetic_data):
    ratings = _raw_ratings(synthetic_data)
    assert (ratings[USER_ID].diff().dropna() >= 0).all()  # grouped by user
    steps = ratings.groupby(USER_ID)[TIMESTAMP].diff().dropna()
    assert (steps > 0).all()


def test_movies_have_titles_years_and_one_to_three_genres(synthetic_data):
    movies = pd.read_csv(synthetic_data / "movies.csv", keep_default_na=False)
    parts = movies[TITLE].str.extract(r"^Synthetic Movie (\d+) \((\d{4})\)$").astype(int)
    assert (parts[0] == movies[MOVIE_ID]).all()
    assert parts[1].between(1980, 2020).all()
    genres = movies[GENRES].str.split("|")
    assert genres.map(len).between(1, 3).all()
    assert genres.map(lambda gs: len(set(gs)) == len(gs) and set(gs) <= set(GENRE_LIST)).all()


def test_popularity_is_skewed(tmp_path):
    # As sparse as MovieLens (2.5% of pairs rated), where popularity has room to show.
    write_synthetic(tmp_path, n_users=200, n_movies=2_000, n_ratings=10_000, rng=1)
    per_movie = _raw_ratings(tmp_path)[MOVIE_ID].value_counts()
    top_tenth = per_movie.iloc[:200].sum() / per_movie.sum()
    assert top_tenth > 0.4  # a flat draw would give about 0.1; ml-latest-small has 0.6


def test_planted_tastes_show_in_the_ratings(synthetic_info):
    dataset = load_movielens(synthetic_info.folder)
    ratings = dataset.ratings
    flags = genre_flags(dataset.movies.set_index(MOVIE_ID).loc[ratings[MOVIE_ID], GENRES])
    users = ratings[USER_ID].to_numpy() - 1
    rows = np.arange(len(ratings))
    loved = flags[rows, synthetic_info.loved[users]] == 1
    hated = flags[rows, synthetic_info.hated[users]] == 1
    table = pd.DataFrame(
        {"user": users, "stars": ratings[RATING].to_numpy(), "loved": loved, "hated": hated}
    )
    loved_mean = table[table.loved].groupby("user").stars.mean()
    other_mean = table[~table.loved & ~table.hated].groupby("user").stars.mean()
    hated_mean = table[table.hated].groupby("user").stars.mean()
    assert (loved_mean > other_mean.reindex(loved_mean.index)).mean() > 0.95
    assert (hated_mean < other_mean.reindex(hated_mean.index)).mean() > 0.95
    assert loved_mean.mean() - other_mean.mean() > 1.0


def test_loved_genre_names_the_planted_genre(synthetic_info):
    assert synthetic_info.loved_genre(1) == GENRE_LIST[synthetic_info.loved[0]]
    assert synthetic_info.tastes.shape == (synthetic_info.n_users, len(GENRE_LIST))
    assert (synthetic_info.loved != synthetic_info.hated).all()


def test_readme_says_it_is_synthetic(synthetic_data):
    assert "NOT real ratings" in (synthetic_data / "README.txt").read_text()


def test_same_seed_writes_the_same_bytes(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_synthetic(tmp_path / name, n_users=40, n_movies=50, n_ratings=800, rng=seed)

    def read(name: str, file_name: str) -> bytes:
        return (tmp_path / name / file_name).read_bytes()

    for file_name in ("ratings.csv", "movies.csv", "README.txt"):
        assert read("a", file_name) == read("b", file_name)
    assert read("a", "ratings.csv") != read("c", "ratings.csv")


def test_generator_and_seed_give_the_same_data(tmp_path):
    write_synthetic(tmp_path / "seed", n_users=10, n_movies=20, n_ratings=60, rng=9)
    write_synthetic(
        tmp_path / "gen", n_users=10, n_movies=20, n_ratings=60, rng=np.random.default_rng(9)
    )
    seed_bytes = (tmp_path / "seed" / "ratings.csv").read_bytes()
    assert seed_bytes == (tmp_path / "gen" / "ratings.csv").read_bytes()


@pytest.mark.parametrize(
    ("n_users", "n_movies", "n_ratings"),
    [(10, 20, 9), (10, 20, 101), (0, 20, 10), (10, 0, 10)],
    ids=["fewer-ratings-than-users", "over-half-the-grid", "no-users", "no-movies"],
)
def test_impossible_sizes_are_refused(tmp_path, n_users, n_movies, n_ratings):
    with pytest.raises(UsageError):
        write_synthetic(tmp_path, n_users, n_movies, n_ratings, rng=0)
    assert not (tmp_path / "ratings.csv").exists()


def test_command_line_writes_a_loadable_folder(tmp_path):
    out = tmp_path / "cli"
    sizes = ["--users", "20", "--movies", "30", "--ratings", "200", "--seed", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "recsys.dataset.synth", str(out), *sizes, "--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["path"], report["ratings"]) == (str(out), 200)
    assert len(load_movielens(out).ratings) == 200


def test_command_line_refuses_impossible_sizes_in_one_line(tmp_path, capsys):
    argv = [str(tmp_path), "--users", "20", "--movies", "30", "--ratings", "5"]
    assert synth_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: 5 ratings do not fit")
    assert captured.err.count("\n") == 1
