"""Load and validate a MovieLens-format dataset (a folder or a .zip).

Every problem is a :class:`DataError` that names the file, the line where there is
one (1-based, the header is line 1), and the reason. Merely odd data is handled and
reported in ``MovieLens.warnings``:

- a title without a year keeps ``year`` as NaN (features fill it, see features.py);
- "(no genres listed)" gives a movie no genre flags;
- a duplicate (userId, movieId) pair keeps the latest rating by timestamp;
- a duplicate movieId in movies.csv keeps its first row;
- a movies.csv that is not UTF-8 is read as Latin-1.

Blank lines are skipped, as pandas does; line numbers in messages still count them.
Where the files come from is ``sources``; how a bad row is found and named is ``rows``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.columns import (
    GENRE_LIST,
    GENRES,
    MOVIE_ID,
    MOVIES_COLUMNS,
    RATING,
    RATINGS_COLUMNS,
    TIMESTAMP,
    TITLE,
    USER_ID,
    YEAR,
)
from recsys.dataset.rows import (
    CHUNK_ROWS,
    check_head,
    csv_layout,
    line_of_row,
    locate_bad_movie_ids,
    locate_bad_ratings,
    parser_error,
    strict_width,
    width_error,
)
from recsys.dataset.sources import (
    MOVIES_FILE,
    RATINGS_FILE,
    TAGS_FILE,
    Source,
    check_zip_members,
    open_sources,
    scan_sources,
)
from recsys.dataset.tags import empty_tags, read_tags
from recsys.errors import DataError
from recsys.settings import max_unpacked_bytes as default_max_unpacked_bytes
from recsys.settings import resolve_data_path

# Re-exported: the file names and the zip check were first defined here.
__all__ = [
    "MOVIES_FILE",
    "RATINGS_FILE",
    "MovieLens",
    "check_zip_members",
    "dataset_present",
    "genre_flags",
    "load_movielens",
    "parse_years",
]

_YEAR_RE = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$")
# Ratings are parsed as float64 so that a value such as 4.5000001 is refused, not
# rounded to 4.5 by float32; they are stored as float32.
_RATINGS_READ_DTYPES = {USER_ID: "int32", MOVIE_ID: "int32", RATING: "float64", TIMESTAMP: "int64"}
_RATINGS_DTYPES = {USER_ID: np.int32, MOVIE_ID: np.int32, RATING: np.float32, TIMESTAMP: np.int64}
_MOVIES_READ_DTYPES = {MOVIE_ID: "int32", TITLE: str, GENRES: str}


@dataclass(frozen=True)
class MovieLens:
    """A validated dataset.

    ratings: userId int32, movieId int32, rating float32 (stars, 0.5-5), timestamp int64
    (seconds since 1970), in file order.
    movies: movieId int32, title str, genres str ("A|B"), year float32 (NaN if unknown).
    tags: userId, movieId, tag (str), from tags.csv; no rows when the dataset has none.
    fingerprint: sha256 of the files' bytes, tags.csv included (``scan_sources``).
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    source: str
    fingerprint: str
    warnings: tuple[str, ...] = field(default=())
    tags: pd.DataFrame = field(default_factory=empty_tags)


def dataset_present(path: Path) -> bool:
    """True where ``path`` looks like a dataset (a zip, or a folder with ratings.csv)."""
    if path.is_file():
        return path.suffix.lower() == ".zip"
    return (path / RATINGS_FILE).is_file()


# --------------------------------------------------------------------------- ratings


def _read_ratings(source: Source, max_rows: int) -> pd.DataFrame:
    """Parse ratings.csv in chunks into arrays of ``max_rows`` (at least the row count).

    Filling arrays sized up front keeps the peak memory near the data itself: collecting
    chunks and concatenating them would hold it twice.
    """
    head = check_head(source, RATINGS_COLUMNS)
    columns = {name: np.empty(max_rows, dtype) for name, dtype in _RATINGS_DTYPES.items()}
    offset = 0
    try:
        with source.open() as stream, strict_width():
            reader = pd.read_csv(
                stream,
                **csv_layout(head, RATINGS_COLUMNS),
                dtype=_RATINGS_READ_DTYPES,
                chunksize=CHUNK_ROWS,
            )
            for chunk in reader:
                _check_rating_values(source, chunk, offset)
                end = offset + len(chunk)
                if end > max_rows:
                    raise DataError(source.label, "changed while it was read; load it again")
                for name, values in columns.items():
                    values[offset:end] = chunk[name].to_numpy()
                offset = end
    except DataError:
        raise
    except pd.errors.ParserWarning:
        raise width_error(source, head) from None
    except pd.errors.ParserError as err:
        raise parser_error(source, err) from None
    except (ValueError, OverflowError) as err:
        # Includes UnicodeDecodeError: ratings hold only numbers, so a stray byte is a
        # value that is not a number, found (with its line) by the slow path.
        raise locate_bad_ratings(source, head, err) from None
    if offset == 0:
        raise DataError(source.label, "no ratings (the file holds only a header)")
    # Blank lines leave a tail unused: copy only then, as slicing would keep it alive.
    if offset < max_rows:
        columns = {name: values[:offset].copy() for name, values in columns.items()}
    return pd.DataFrame(columns, copy=False)


def _check_rating_values(source: Source, chunk: pd.DataFrame, offset: int) -> None:
    """Refuse NaN and anything but half stars in 0.5..5; ``offset`` is the chunk's first row."""
    stars = chunk[RATING].to_numpy()
    on_scale = (stars >= 0.5) & (stars <= 5.0) & (stars * 2 == np.round(stars * 2))
    if on_scale.all():
        return
    i = int(np.flatnonzero(~on_scale)[0])
    if np.isnan(stars[i]):
        reason = "rating is missing or NaN"
    else:
        value = np.format_float_positional(stars[i], trim="-")
        reason = f"rating {value} is out of range (0.5 to 5 in half steps)"
    raise DataError(source.label, reason, line=line_of_row(source, offset + i))


# --------------------------------------------------------------------------- movies


def _read_movies(source: Source, warnings_out: list[str]) -> pd.DataFrame:
    head = check_head(source, MOVIES_COLUMNS)
    encodings = list(dict.fromkeys((head.encoding, "latin-1")))
    for encoding in encodings:
        layout = csv_layout(head._replace(encoding=encoding), MOVIES_COLUMNS)
        try:
            with source.open() as stream, strict_width():
                movies = pd.read_csv(
                    stream, **layout, dtype=_MOVIES_READ_DTYPES, keep_default_na=False
                )
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserWarning:
            raise width_error(source, head) from None
        except pd.errors.ParserError as err:
            raise parser_error(source, err) from None
        except (ValueError, OverflowError) as err:
            raise locate_bad_movie_ids(source, layout, err) from None
    if encoding != "utf-8":
        warnings_out.append(f"{source.label}: not UTF-8; read as Latin-1")
    if movies.empty:
        raise DataError(source.label, "no movies (the file holds only a header)")
    movies = movies[list(MOVIES_COLUMNS)]
    duplicated = movies[MOVIE_ID].duplicated()
    if duplicated.any():
        warnings_out.append(
            f"{source.label}: {int(duplicated.sum())} duplicate movieId rows; kept the first"
        )
        movies = movies[~duplicated]
    movies = movies.reset_index(drop=True)
    movies[TITLE] = movies[TITLE].str.strip()
    movies[YEAR] = parse_years(movies[TITLE])
    no_year = int(movies[YEAR].isna().sum())
    if no_year:
        warnings_out.append(f"{source.label}: {no_year} titles without a year")
    return movies


# --------------------------------------------------------------------------- helpers


def parse_years(titles: pd.Series) -> pd.Series:
    """Release year from a title such as "Shrek (2001)"; NaN where none (float32)."""
    return titles.str.extract(_YEAR_RE, expand=False).astype("float32")


def genre_flags(genres: pd.Series) -> np.ndarray:
    """[n_movies, 14] float32 one-hot flags of the lab's genres, from "A|B" strings."""
    dummies = genres.str.get_dummies(sep="|")
    return dummies.reindex(columns=list(GENRE_LIST), fill_value=0).to_numpy(np.float32)


def _pair_keys(ratings: pd.DataFrame) -> np.ndarray:
    """[n_ratings] int64, one per (userId, movieId) pair, built in place to spare memory."""
    keys = ratings[USER_ID].to_numpy().astype(np.int64)
    keys <<= 32
    keys |= ratings[MOVIE_ID].to_numpy().view(np.uint32)
    return keys


def _keep_latest(ratings: pd.DataFrame, label: str, warnings_out: list[str]) -> pd.DataFrame:
    """Drop repeated (userId, movieId) pairs, keeping the latest rating, in file order."""
    # Sorted keys find repeats without a hash table, which would take more memory
    # than the ratings themselves.
    keys = _pair_keys(ratings)
    keys.sort()
    n_repeated = int(np.count_nonzero(keys[1:] == keys[:-1]))
    if not n_repeated:
        return ratings
    by_time = ratings[TIMESTAMP].sort_values(kind="stable").index
    keep = ~pd.Series(_pair_keys(ratings)).reindex(by_time).duplicated(keep="last")
    kept_rows = np.sort(by_time[keep.to_numpy()].to_numpy())
    warnings_out.append(
        f"{label}: {n_repeated} duplicate (userId, movieId) ratings; kept the latest"
    )
    return ratings.iloc[kept_rows].reset_index(drop=True)


def load_movielens(
    path: str | os.PathLike | None = None, *, max_unpacked_bytes: int | None = None
) -> MovieLens:
    """Load and validate ratings.csv and movies.csv from a folder or a .zip.

    ``max_unpacked_bytes`` caps what a zip may unpack to, in bytes.
    Raises DataError for anything that is not a usable MovieLens dataset.
    """
    path = resolve_data_path(path)
    if max_unpacked_bytes is None:
        max_unpacked_bytes = default_max_unpacked_bytes()
    sources = open_sources(path, max_unpacked_bytes)
    warnings_out: list[str] = []
    movies_source, ratings_source = sources[MOVIES_FILE], sources[RATINGS_FILE]
    movies = _read_movies(movies_source, warnings_out)
    scan = scan_sources(sources)
    ratings = _read_ratings(ratings_source, scan.max_rating_rows)

    known = ratings[MOVIE_ID].isin(movies[MOVIE_ID]).to_numpy()
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(
            ratings_source.label,
            f"movieId {int(ratings[MOVIE_ID].iat[i])} is not in {MOVIES_FILE}",
            line=line_of_row(ratings_source, i),
        )
    ratings = _keep_latest(ratings, ratings_source.label, warnings_out)
    no_genres = int((~movies[GENRES].str.contains("|".join(map(re.escape, GENRE_LIST)))).sum())
    if no_genres:
        warnings_out.append(
            f"{movies_source.label}: {no_genres} movies carry none of the 14 genres"
        )
    return MovieLens(
        ratings=ratings,
        movies=movies,
        source=str(path),
        fingerprint=scan.fingerprint,
        warnings=tuple(warnings_out),
        tags=read_tags(sources.get(TAGS_FILE)),
    )
