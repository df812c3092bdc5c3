"""The loader: real data, folders and zips, every bad input with its exact message."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATING, TIMESTAMP, TITLE, USER_ID, YEAR
from recsys.dataset.movielens import (
    genre_flags,
    load_movielens,
    parse_years,
)
from recsys.dataset.summary import summary
from recsys.errors import DataError

R_HEAD = "userId,movieId,rating,timestamp\n"
M_HEAD = "movieId,title,genres\n"
MOVIES = M_HEAD + "1,Toy Story (1995),Adventure|Animation\n2,Jumanji (1995),Adventure\n"
GOOD_ROW = "1,1,4.0,964982703\n"


def _flags_of(*genres: str) -> list[float]:
    return [1.0 if g in genres else 0.0 for g in GENRE_LIST]


def _zip_folder(folder: Path, zip_path: Path, top: str | None) -> Path:
    """Zip the files of ``folder``, under ``top/`` when given."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"{top}/{file.name}" if top else file.name)
    return zip_path


def _error(path: str | Path, load=load_movielens, **kwargs) -> DataError:
    with pytest.raises(DataError) as excinfo:
        load(path, **kwargs)
    return excinfo.value


# ------------------------------------------------------------------ the real dataset


def test_real_data_counts_and_compact_dtypes(real_data):
    dataset = load_movielens(real_data)
    ratings, movies = dataset.ratings, dataset.movies
    assert len(ratings) == 100_836
    assert ratings[USER_ID].nunique() == 610
    assert len(movies) == 9_742
    assert dict(ratings.dtypes.astype(str)) == {
        USER_ID: "int32",
        MOVIE_ID: "int32",
        RATING: "float32",
        TIMESTAMP: "int64",
    }
    assert movies[MOVIE_ID].dtype == np.int32
    assert movies[YEAR].dtype == np.float32


def test_real_data_years_and_genres(real_data):
    movies = load_movielens(real_data).movies.set_index(MOVIE_ID)
    toy_story = movies.loc[1]
    assert toy_story[TITLE] == "Toy Story (1995)"
    assert toy_story[YEAR] == 1995
    flags = genre_flags(movies[GENRES])[movies.index.get_loc(1)]
    assert flags.tolist() == _flags_of("Adventure", "Animation", "Children", "Comedy", "Fantasy")


def test_real_data_loads_the_same_from_a_zip(real_data, tmp_path):
    if real_data.suffix == ".zip":
        pytest.skip("RECSYS_DATA is a zip already")
    from_folder = load_movielens(real_data)
    from_zip = load_movielens(_zip_folder(real_data, tmp_path / "ml.zip", "ml-latest-small"))
    pd.testing.assert_frame_equal(from_zip.ratings, from_folder.ratings)
    pd.testing.assert_frame_equal(from_zip.movies, from_folder.movies)
    assert from_zip.fingerprint == from_folder.fingerprint


def test_real_data_loads_well_under_a_second(real_data):
    import time

    load_movielens(real_data)  # warm the page cache and pandas' imports
    started = time.perf_counter()
    load_movielens(real_data)
    assert time.perf_counter() - started < 1.0


# ------------------------------------------------------------------ small folders and zips


def test_hand_written_folder_values(make_dataset):
    dataset = load_movielens(make_dataset())
    assert dataset.ratings[[USER_ID, MOVIE_ID]].to_numpy().tolist() == [[1, 1], [1, 2], [2, 1]]
    assert dataset.ratings[RATING].tolist() == [4.0, 3.5, 5.0]
    assert dataset.movies[TITLE].tolist() == ["Toy Story (1995)", "American President, The (1995)"]
    assert dataset.warnings == ()


@pytest.mark.parametrize("top", ["ml-latest-small", None], ids=["top-folder", "flat"])
def test_zip_loads_like_the_folder(make_dataset, tmp_path, top):
    folder = make_dataset()
    (folder / "README.txt").write_text("licence\n")
    from_zip = load_movielens(_zip_folder(folder, tmp_path / "ml.zip", top))
    from_folder = load_movielens(folder)
    pd.testing.assert_frame_equal(from_zip.ratings, from_folder.ratings)
    pd.testing.assert_frame_equal(from_zip.movies, from_folder.movies)
    assert from_zip.source == str(tmp_path / "ml.zip")


@pytest.mark.parametrize(
    "layout",
    ["crlf", "cr-only", "mixed-line-ends", "no-final-newline", "blank-lines", "extra-column"],
)
def test_odd_but_valid_layouts_load_the_same_ratings(make_dataset, layout):
    plain = load_movielens(make_dataset(name="plain")).ratings
    text = R_HEAD + "1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,5.0,964982224\n"
    odd = {
        "crlf": text.replace("\n", "\r\n"),
        "cr-only": text.replace("\n", "\r"),
        "mixed-line-ends": text.replace("\n", "\r", 2).replace("\n", "\r\n", 1),
        "no-final-newline": text.rstrip("\n"),
        "blank-lines": text.replace("\n", "\n\n"),
        "extra-column": "userId,movieId,rating,timestamp,tag\n"
        + "1,1,4.0,964982703,a\n1,2,3.5,964981247,b\n2,1,5.0,964982224,c\n",
    }[layout]
    pd.testing.assert_frame_equal(load_movielens(make_dataset(ratings=odd)).ratings, plain)


def test_parse_years():
    titles = pd.Series(["Toy Story (1995)", "Babylon 5 (1994-1998)", "Cosmos", "Heat (1995) "])
    years = parse_years(titles)
    assert years.dtype == np.float32
    assert years.iloc[:2].tolist() == [1995, 1994]
    assert np.isnan(years.iloc[2])
    assert years.iloc[3] == 1995


def test_summary_counts(make_dataset):
    info = summary(load_movielens(make_dataset()))
    assert (info["ratings"], info["users"], info["movies"]) == (3, 2, 2)
    assert info["rating_range"] == [3.5, 5.0]
    assert info["year_range"] == [1995, 1995]
    assert info["ratings_per_genre"]["Adventure"] == 2
    assert info["ratings_per_genre"]["Drama"] == 1
    assert info["ratings_per_genre"]["Horror"] == 0


# ------------------------------------------------------------------ bad input, exact messages

# (id, ratings.csv, movies.csv, file named, line, reason)
# fmt: off
BAD_INPUTS = [
    ("missing-column", "userId,movieId,timestamp\n1,1,5\n", MOVIES, "ratings.csv", 1,
     "missing column(s) rating (header is 'userId,movieId,timestamp')"),
    ("non-numeric-rating", R_HEAD + GOOD_ROW + "1,2,abc,5\n", MOVIES, "ratings.csv", 3,
     "rating 'abc' is not a number"),
    ("empty-rating", R_HEAD + GOOD_ROW + "1,2,,5\n", MOVIES, "ratings.csv", 3,
     "rating is missing or NaN"),
    ("nan-rating", R_HEAD + GOOD_ROW + "1,2,NaN,5\n", MOVIES, "ratings.csv", 3,
     "rating is missing or NaN"),
    ("rating-0", R_HEAD + "1,1,0,5\n", MOVIES, "ratings.csv", 2,
     "rating 0 is out of range (0.5 to 5 in half steps)"),
    ("rating-5.5", R_HEAD + GOOD_ROW + "1,2,5.5,5\n", MOVIES, "ratings.csv", 3,
     "rating 5.5 is out of range (0.5 to 5 in half steps)"),
    ("rating-3.25", R_HEAD + GOOD_ROW * 2 + "1,2,3.25,5\n", MOVIES, "ratings.csv", 4,
     "rating 3.25 is out of range (0.5 to 5 in half steps)"),
    ("rating-near-half", R_HEAD + "1,1,4.5000001,5\n", MOVIES, "ratings.csv", 2,
     "rating 4.5000001 is out of range (0.5 to 5 in half steps)"),
    ("unknown-movie", R_HEAD + GOOD_ROW + "1,3,4.0,5\n", MOVIES, "ratings.csv", 3,
     "movieId 3 is not in movies.csv"),
    ("ratings-header-only", R_HEAD, MOVIES, "ratings.csv", None,
     "no ratings (the file holds only a header)"),
    ("movies-header-only", R_HEAD + GOOD_ROW, M_HEAD, "movies.csv", None,
     "no movies (the file holds only a header)"),
    ("zero-byte", b"", MOVIES, "ratings.csv", None, "empty file (expected a header and rows)"),
    ("binary-garbage", bytes(range(256)) * 16, MOVIES, "ratings.csv", None,
     "binary data, not a CSV file"),
    ("truncated-last-line", R_HEAD + GOOD_ROW + "610,1,4", MOVIES, "ratings.csv", 3,
     "missing timestamp (truncated line?)"),
    ("cut-after-movie", R_HEAD + GOOD_ROW + "610,1\n", MOVIES, "ratings.csv", 3,
     "missing rating (truncated line?)"),
    ("missing-user", R_HEAD + GOOD_ROW + ",1,4.0,5\n", MOVIES, "ratings.csv", 3,
     "missing userId"),
    ("extra-field", R_HEAD + GOOD_ROW + "1,2,4.0,5,6\n", MOVIES, "ratings.csv", 3,
     "expected 4 fields, saw 5"),
    ("extra-field-first-row", R_HEAD + "1,2,4.0,5,6\n" + GOOD_ROW, MOVIES, "ratings.csv", 2,
     "expected 4 fields, saw 5"),
    ("fractional-user", R_HEAD + GOOD_ROW + "1.5,1,4.0,5\n", MOVIES, "ratings.csv", 3,
     "userId '1.5' is not a whole number"),
    ("user-past-int32", R_HEAD + GOOD_ROW + "3000000000,1,4.0,5\n", MOVIES, "ratings.csv", 3,
     "userId '3000000000' is out of range"),
    ("infinite-user", R_HEAD + GOOD_ROW + "inf,1,4.0,5\n", MOVIES, "ratings.csv", 3,
     "userId 'inf' is not a whole number"),
    ("infinite-rating", R_HEAD + GOOD_ROW + "1,2,inf,5\n", MOVIES, "ratings.csv", 3,
     "rating inf is out of range (0.5 to 5 in half steps)"),
    ("timestamp-past-int64", R_HEAD + GOOD_ROW + "1,2,4.0,1e30\n", MOVIES, "ratings.csv", 3,
     "timestamp '1e30' is out of range"),
    ("first-bad-line-wins", R_HEAD + GOOD_ROW + "1,1,4.0,x\nx,1,4.0,5\n", MOVIES, "ratings.csv",
     3, "timestamp 'x' is not a number"),
    ("blank-lines-counted", R_HEAD + GOOD_ROW + "\n\n1,3,4.0,5\n", MOVIES, "ratings.csv", 5,
     "movieId 3 is not in movies.csv"),
    ("stray-byte-in-ratings", (R_HEAD + GOOD_ROW + "1,2,3,\xe9\n").encode("latin-1"), MOVIES,
     "ratings.csv", 3, "timestamp 'é' is not a number"),
    ("movie-id-not-a-number", R_HEAD + GOOD_ROW, MOVIES + "x,Heat (1995),Action\n", "movies.csv",
     4, "movieId 'x' is not a number"),
    ("movie-id-missing", R_HEAD + GOOD_ROW, MOVIES + ",Heat (1995),Action\n", "movies.csv", 4,
     "missing movieId"),
    ("movies-extra-field", R_HEAD + GOOD_ROW, MOVIES + "3,Heat (1995),Action,x\n", "movies.csv",
     4, "expected 3 fields, saw 4"),
    ("movies-missing-column", R_HEAD + GOOD_ROW, "movieId,title\n1,Toy Story (1995)\n",
     "movies.csv", 1, "missing column(s) genres (header is 'movieId,title')"),
    ("repeated-column", "userId,userId,movieId,rating,timestamp\n1,1,1,4,5\n", MOVIES,
     "ratings.csv", 1, "column(s) userId repeated"),
]
# fmt: on


# "error": a warning that leaks out (pandas, numpy) would print a second line in the CLI.
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("ratings", "movies", "file_name", "line", "reason"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_names_file_line_and_reason(
    make_dataset, ratings, movies, file_name, line, reason
):
    folder = make_dataset(ratings, movies)
    err = _error(folder)
    assert (err.path, err.line, err.reason) == (str(folder / file_name), line, reason)
    where = f"{folder / file_name}:{line}" if line else str(folder / file_name)
    assert str(err) == f"{where}: {reason}"


@pytest.mark.parametrize("absent", ["ratings.csv", "movies.csv"])
def test_missing_file(make_dataset, absent):
    folder = make_dataset(**{absent.removesuffix(".csv"): None})
    assert str(_error(folder)) == f"{folder / absent}: missing file"


def test_missing_folder(tmp_path):
    err = _error(tmp_path / "nowhere")
    assert err.path == str(tmp_path / "nowhere")
    assert err.reason.startswith("no dataset here")


def test_zip_entry_escaping_the_folder_is_refused(make_dataset, tmp_path):
    folder = make_dataset()
    zip_path = _zip_folder(folder, tmp_path / "evil.zip", "ml")
    with zipfile.ZipFile(zip_path, "a") as zf:
        zf.writestr("../evil.txt", "gotcha")
    assert str(_error(zip_path)) == (
        f"{zip_path}: entry '../evil.txt' escapes the target folder; refusing the zip"
    )


def test_zip_bomb_is_refused(make_dataset, tmp_path):
    zip_path = _zip_folder(make_dataset(), tmp_path / "bomb.zip", "ml")
    total = sum(info.file_size for info in zipfile.ZipFile(zip_path).infolist())
    err = _error(zip_path, max_unpacked_bytes=total - 1)
    assert str(err) == (
        f"{zip_path}: unpacks to {total:,} bytes, over the {total - 1:,}-byte cap (zip bomb?)"
    )


def test_zip_without_ratings(make_dataset, tmp_path):
    zip_path = _zip_folder(make_dataset(ratings=None), tmp_path / "half.zip", "ml")
    assert str(_error(zip_path)) == f"{zip_path}: missing file ratings.csv in the zip"


def test_file_named_zip_that_is_not_one(tmp_path):
    zip_path = tmp_path / "fake.zip"
    zip_path.write_bytes(b"userId,movieId\n")
    err = _error(zip_path)
    assert err.path == str(zip_path)
    assert err.reason.startswith("not a readable zip file")


def test_damaged_zip_entry(make_dataset, tmp_path):
    zip_path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ml/movies.csv", MOVIES)
        zf.writestr("ml/ratings.csv", R_HEAD + GOOD_ROW)
    raw = bytearray(zip_path.read_bytes())
    at = raw.index(GOOD_ROW.encode())
    raw[at] = ord("2")  # the stored CRC no longer matches the entry
    zip_path.write_bytes(bytes(raw))
    err = _error(zip_path)
    assert err.path == f"{zip_path}!ml/ratings.csv"
    assert err.reason.startswith("damaged zip entry")


# ------------------------------------------------------------------ odd data: loaded, warned


def test_latin1_title_is_read_with_a_warning(make_dataset):
    movies = (M_HEAD + "1,Am\xe9lie (2001),Comedy|Romance\n").encode("latin-1")
    folder = make_dataset(R_HEAD + GOOD_ROW, movies)
    dataset = load_movielens(folder)
    assert dataset.movies[TITLE].tolist() == ["Amélie (2001)"]
    assert dataset.warnings == (f"{folder / 'movies.csv'}: not UTF-8; read as Latin-1",)


def test_title_without_a_year(make_dataset):
    folder = make_dataset(R_HEAD + GOOD_ROW, M_HEAD + "1,Cosmos,Documentary\n")
    dataset = load_movielens(folder)
    assert np.isnan(dataset.movies[YEAR].iloc[0])
    assert dataset.warnings == (f"{folder / 'movies.csv'}: 1 titles without a year",)
    assert summary(dataset)["year_range"] is None


def test_no_genres_listed(make_dataset):
    movies = MOVIES + "3,Pirates (2009),(no genres listed)\n"
    folder = make_dataset(R_HEAD + GOOD_ROW + "2,3,2.0,5\n", movies)
    dataset = load_movielens(folder)
    assert genre_flags(dataset.movies[GENRES])[2].tolist() == [0.0] * len(GENRE_LIST)
    assert dataset.warnings == (f"{folder / 'movies.csv'}: 1 movies carry none of the 14 genres",)


def test_duplicate_pair_keeps_the_latest_rating(make_dataset):
    ratings = R_HEAD + "1,1,4.0,10\n2,2,1.0,11\n1,1,2.0,30\n1,1,3.0,20\n"
    folder = make_dataset(ratings, MOVIES)
    dataset = load_movielens(folder)
    assert dataset.ratings[[USER_ID, MOVIE_ID, RATING, TIMESTAMP]].to_numpy().tolist() == [
        [2, 2, 1.0, 11],
        [1, 1, 2.0, 30],
    ]
    assert dataset.warnings == (
        f"{folder / 'ratings.csv'}: 2 duplicate (userId, movieId) ratings; kept the latest",
    )


def test_duplicate_movie_row_keeps_the_first(make_dataset):
    movies = MOVIES + "1,Toy Story again (1996),Drama\n"
    folder = make_dataset(R_HEAD + GOOD_ROW, movies)
    dataset = load_movielens(folder)
    assert dataset.movies[TITLE].tolist() == ["Toy Story (1995)", "Jumanji (1995)"]
    assert dataset.warnings == (
        f"{folder / 'movies.csv'}: 1 duplicate movieId rows; kept the first",
    )
