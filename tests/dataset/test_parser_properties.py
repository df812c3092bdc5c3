"""Properties of the CSV loader: what it accepts round-trips, what it refuses is a DataError.

Every test is derandomized, so a failure replays on the next run.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATING, TIMESTAMP, TITLE, USER_ID
from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError

PROPERTY_SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

INT32 = np.iinfo(np.int32)
RATINGS_HEADER = ["userId", "movieId", "rating", "timestamp"]
MOVIES_HEADER = ["movieId", "title", "genres"]

# ------------------------------------------------------------------ strategies

titles = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(
    str.strip
)
genre_strings = st.one_of(
    st.just("(no genres listed)"),
    st.lists(st.sampled_from(GENRE_LIST), min_size=1, max_size=4, unique=True).map("|".join),
)


@st.composite
def datasets(draw) -> tuple[list[list], list[list]]:
    """(movie rows [id, title, genres], rating rows [user, movie, stars, timestamp])."""
    movie_ids = draw(
        st.lists(st.integers(INT32.min, INT32.max), min_size=1, max_size=6, unique=True)
    )
    movies = [[m, draw(titles), draw(genre_strings)] for m in movie_ids]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(INT32.min, INT32.max), st.sampled_from(movie_ids)),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    stars = st.integers(1, 10).map(lambda half: half / 2)
    ratings = [[u, m, draw(stars), draw(st.integers(0, 2**31 - 1))] for u, m in pairs]
    return movies, ratings


def _csv_text(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _write(folder: Path, ratings: bytes, movies: bytes, as_zip: bool = False) -> Path:
    """A dataset folder, or a zip with one top folder, holding the two files."""
    if as_zip:
        zip_path = folder / "ml.zip"
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("ml/ratings.csv", ratings)
            zf.writestr("ml/movies.csv", movies)
        return zip_path
    (folder / "ratings.csv").write_bytes(ratings)
    (folder / "movies.csv").write_bytes(movies)
    return folder


# ------------------------------------------------------------------ round trip


@PROPERTY_SETTINGS
@given(dataset=datasets(), as_zip=st.booleans())
def test_valid_frames_round_trip(dataset, as_zip):
    movies, ratings = dataset
    ratings_csv = _csv_text(RATINGS_HEADER, ratings).encode()
    movies_csv = _csv_text(MOVIES_HEADER, movies).encode()
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_movielens(_write(Path(tmp), ratings_csv, movies_csv, as_zip))
    expected_ratings = pd.DataFrame(ratings, columns=RATINGS_HEADER).astype(
        {USER_ID: "int32", MOVIE_ID: "int32", RATING: "float32", TIMESTAMP: "int64"}
    )
    pd.testing.assert_frame_equal(loaded.ratings, expected_ratings)
    assert loaded.movies[MOVIE_ID].tolist() == [m[0] for m in movies]
    assert loaded.movies[TITLE].tolist() == [m[1] for m in movies]
    assert loaded.movies[GENRES].tolist() == [m[2] for m in movies]


# ------------------------------------------------------------------ mutated input

# Separators, quotes, signs, digits, a NUL, a Latin-1 byte, and values the rules refuse.
MUTATION_BYTES = [bytes([c]) for c in b',\n\r".-e+ \t09x\x00\xe9'] + [b"", b"nan", b"3.25"]


@st.composite
def mutated(draw, text: bytes) -> bytes:
    """``text`` with a few edits: bytes inserted, replaced or cut, the end cut off, or
    odd-but-valid changes (a repeated line, a blank line, CRLF, spaces by a comma)."""
    data = bytearray(text)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(
            st.sampled_from(
                ["insert", "replace", "delete", "truncate", "repeat", "blank", "crlf", "pad"]
            )
        )
        if action == "insert":
            data[at:at] = draw(st.sampled_from(MUTATION_BYTES))
        elif action == "replace":
            data[at : at + 1] = draw(st.sampled_from(MUTATION_BYTES))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 5))]
        elif action == "truncate":
            del data[at:]
        elif action == "repeat":
            lines = bytes(data).split(b"\n")
            line = draw(st.sampled_from(lines[1:] or lines))
            data += line + b"\n"
        elif action == "blank":
            data[at:at] = b"\n"
        elif action == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        else:
            data = bytearray(bytes(data).replace(b",", b" , ", 1))
    return bytes(data)


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _whole(text: str, low: float, high: float) -> int | None:
    value = _number(text)
    if value is None or not math.isfinite(value) or value != int(value):
        return None
    return int(value) if low <= value <= high else None


def _reference_ratings(raw: bytes, movie_ids: set[int]) -> list[tuple] | None:
    """What the loader should return for ``raw`` ratings.csv, by the stated rules; None
    where the rules refuse it. Written with the csv module, independently of pandas."""
    rows = list(csv.reader(io.StringIO(raw.decode("latin-1"), newline="")))
    if not rows:
        return None
    header = [name.strip() for name in rows[0]]
    if any(header.count(c) != 1 for c in RATINGS_HEADER):
        return None
    at = {c: header.index(c) for c in RATINGS_HEADER}
    parsed = []
    for fields in rows[1:]:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        if len(header) == len(RATINGS_HEADER) and len(fields) != len(header):
            return None
        values = [fields[at[c]] if at[c] < len(fields) else "" for c in RATINGS_HEADER]
        user = _whole(values[0], INT32.min, INT32.max)
        movie = _whole(values[1], INT32.min, INT32.max)
        stars = _number(values[2])
        timestamp = _whole(values[3], -(2.0**63), 2.0**63 - 1)
        if None in (user, movie, stars, timestamp) or movie not in movie_ids:
            return None
        if not (0.5 <= stars <= 5 and stars * 2 == round(stars * 2)):
            return None
        parsed.append((user, movie, stars, timestamp))
    if not parsed:
        return None
    latest: dict[tuple[int, int], int] = {}
    for index in sorted(range(len(parsed)), key=lambda i: parsed[i][3]):
        latest[parsed[index][:2]] = index
    return [parsed[i] for i in sorted(latest.values())]


@PROPERTY_SETTINGS
@given(data=st.data(), dataset=datasets())
def test_mutated_ratings_round_trip_or_raise_data_error(data, dataset):
    movies, ratings = dataset
    movies_csv = _csv_text(MOVIES_HEADER, movies).encode()
    ratings_csv = data.draw(mutated(_csv_text(RATINGS_HEADER, ratings).encode()))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            loaded = load_movielens(_write(Path(tmp), ratings_csv, movies_csv))
        except DataError:
            return
    expected = _reference_ratings(ratings_csv, {m[0] for m in movies})
    assert expected is not None, "the loader accepted what the rules refuse"
    got = loaded.ratings[[USER_ID, MOVIE_ID, RATING, TIMESTAMP]]
    assert list(got.itertuples(index=False, name=None)) == expected


@PROPERTY_SETTINGS
@given(data=st.data(), dataset=datasets())
def test_mutated_movies_load_or_raise_data_error(data, dataset):
    movies, ratings = dataset
    ratings_csv = _csv_text(RATINGS_HEADER, ratings).encode()
    movies_csv = data.draw(mutated(_csv_text(MOVIES_HEADER, movies).encode()))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            loaded = load_movielens(_write(Path(tmp), ratings_csv, movies_csv))
        except DataError:
            return
    assert loaded.movies[MOVIE_ID].dtype == np.int32
    assert loaded.movies[MOVIE_ID].is_unique
    assert loaded.ratings[MOVIE_ID].isin(loaded.movies[MOVIE_ID]).all()


@PROPERTY_SETTINGS
@given(ratings_csv=st.binary(max_size=300), dataset=datasets())
def test_arbitrary_bytes_never_raise_anything_but_data_error(ratings_csv, dataset):
    movies, _ = dataset
    movies_csv = _csv_text(MOVIES_HEADER, movies).encode()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            loaded = load_movielens(_write(Path(tmp), ratings_csv, movies_csv))
        except DataError:
            return
    # Anything accepted still obeys the loader's contract.
    stars = loaded.ratings[RATING].to_numpy()
    assert ((stars >= 0.5) & (stars <= 5) & (stars * 2 == np.round(stars * 2))).all()
