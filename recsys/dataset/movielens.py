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
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

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
from recsys.errors import DataError
from recsys.settings import max_unpacked_bytes as default_max_unpacked_bytes
from recsys.settings import resolve_data_path

RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"

_CHUNK_ROWS = 2_000_000
_HEAD_BYTES = 65536
_YEAR_RE = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$")
_INT32 = np.iinfo(np.int32)
_INT64_LIMIT = 2.0**63
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
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    source: str
    fingerprint: str
    warnings: tuple[str, ...] = field(default=())


def dataset_present(path: Path) -> bool:
    """True where ``path`` looks like a dataset (a zip, or a folder with ratings.csv)."""
    if path.is_file():
        return path.suffix.lower() == ".zip"
    return (path / RATINGS_FILE).is_file()


# --------------------------------------------------------------------------- sources

Opener = Callable[[], BinaryIO]


class _Source(NamedTuple):
    """One CSV file: the label used in messages and an opener of a fresh binary stream."""

    label: str
    open: Opener


# A damaged or encrypted zip entry fails while it is read, deep inside pandas.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


class _CappedReader(io.RawIOBase):
    """Reads a zip entry; raises DataError past ``limit`` bytes or on a damaged entry."""

    def __init__(self, raw: BinaryIO, limit: int, label: str):
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            chunk = self._raw.read(len(buffer))
        except _ZIP_READ_ERRORS as err:
            raise DataError(self._label, f"damaged zip entry ({err})") from None
        self._left -= len(chunk)
        if self._left < 0:
            raise DataError(
                self._label,
                f"unpacks to more than {self._limit:,} bytes (zip bomb?); refusing to read it",
            )
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._raw.close()
        super().close()


def check_zip_members(zip_path: str | os.PathLike, zf: zipfile.ZipFile, max_bytes: int) -> None:
    """Refuse entries that escape the target folder, and declared sizes past the cap.

    ``zip_path`` names the zip in messages (a path or a URL). ``max_bytes`` caps the sum
    of the entries' declared unpacked sizes, in bytes.
    """
    total = 0
    for info in zf.infolist():
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
            raise DataError(zip_path, f"entry {name!r} escapes the target folder; refusing the zip")
        total += info.file_size
    if total > max_bytes:
        raise DataError(
            zip_path,
            f"unpacks to {total:,} bytes, over the {max_bytes:,}-byte cap (zip bomb?)",
        )


def _zip_member(zip_path: Path, zf: zipfile.ZipFile, file_name: str) -> str:
    """The shallowest entry called ``file_name`` (zips usually hold one top folder)."""
    names = [n for n in zf.namelist() if PurePosixPath(n).name == file_name]
    if not names:
        raise DataError(zip_path, f"missing file {file_name} in the zip")
    return min(names, key=lambda n: (n.count("/"), n))


def _zip_opener(zip_path: Path, member: str, max_bytes: int, label: str) -> Opener:
    def opener() -> BinaryIO:
        # Each stream opens the zip afresh and the entry keeps the file open until it
        # is closed, so no zip handle outlives the load.
        try:
            with zipfile.ZipFile(zip_path) as zf:
                raw = zf.open(member)
        except (*_ZIP_READ_ERRORS, OSError) as err:
            raise DataError(label, f"cannot open the zip entry ({err})") from None
        return io.BufferedReader(_CappedReader(raw, max_bytes, label))

    return opener


def _zip_sources(path: Path, max_bytes: int) -> dict[str, _Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_members(path, zf, max_bytes)
            members = {name: _zip_member(path, zf, name) for name in (RATINGS_FILE, MOVIES_FILE)}
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(path, f"not a readable zip file ({err})") from None
    sources = {}
    for file_name, member in members.items():
        label = f"{path}!{member}"
        sources[file_name] = _Source(label, _zip_opener(path, member, max_bytes, label))
    return sources


def _sources(path: Path, max_bytes: int) -> dict[str, _Source]:
    """Map ratings.csv and movies.csv to their sources."""
    if path.is_file() and path.suffix.lower() == ".zip":
        return _zip_sources(path, max_bytes)
    if not path.exists():
        raise DataError(path, "no dataset here; run `python -m recsys download` or pass --data")
    if not path.is_dir():
        raise DataError(path, "expected a MovieLens folder or a .zip")
    sources = {}
    for file_name in (RATINGS_FILE, MOVIES_FILE):
        file_path = path / file_name
        if not file_path.is_file():
            raise DataError(file_path, "missing file")
        sources[file_name] = _Source(str(file_path), lambda p=file_path: open(p, "rb"))
    return sources


# --------------------------------------------------------------------------- CSV layout


class _Head(NamedTuple):
    """What the first 64 KiB of a CSV file say: its text encoding and header names."""

    encoding: str
    columns: list[str]


def _check_head(source: _Source, required: tuple[str, ...]) -> _Head:
    """Check size, binary content and the header; return the encoding and the header."""
    with source.open() as stream:
        head = stream.read(_HEAD_BYTES)
    if not head.strip():
        raise DataError(source.label, "empty file (expected a header and rows)")
    if b"\x00" in head:
        raise DataError(source.label, "binary data, not a CSV file")
    try:
        text = head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the 64 KiB boundary is not an error.
        if len(head) == _HEAD_BYTES and err.start >= len(head) - 4:
            text = head[: err.start].decode("utf-8")
            encoding = "utf-8"
        else:
            text = head.decode("latin-1")
            encoding = "latin-1"
    # Only \r and \n end a CSV line (str.splitlines would also split on \x0c, \x85...).
    first_line = re.split(r"[\r\n]", text.lstrip("\ufeff"), maxsplit=1)[0]
    columns = [name.strip() for name in next(csv.reader([first_line]), [])]
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataError(
            source.label,
            f"missing column(s) {', '.join(missing)} (header is {first_line[:80]!r})",
            line=1,
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise DataError(source.label, f"column(s) {', '.join(repeated)} repeated", line=1)
    return _Head(encoding, columns)


def _csv_layout(head: _Head, required: tuple[str, ...]) -> dict:
    """read_csv arguments that take the header's names and check every row's width.

    pandas skips the width check when ``usecols`` is given, so it is given only where
    the header has columns beyond the required ones.
    """
    exact = len(head.columns) == len(required)
    return {
        "header": 0,
        "names": head.columns,
        "index_col": False,
        "usecols": None if exact else list(required),
        "encoding": head.encoding,
    }


@contextmanager
def _strict_width() -> Iterator[None]:
    """Turn pandas' warning about a too-wide first row into an exception.

    Also silence numpy's cast warning, which pandas lets out on "inf" or "1e30" in an
    integer column just before it fails: the DataError says it in one line instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
        yield


def _data_rows(source: _Source) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of each data row, blank lines skipped as pandas does."""
    with source.open() as stream:
        # Latin-1 decodes any bytes and keeps the commas, quotes and newlines in place.
        text = io.TextIOWrapper(stream, encoding="latin-1", newline="")
        reader = csv.reader(text)
        try:
            next(reader, None)
            last_line = reader.line_num
            for fields in reader:
                first_line, last_line = last_line + 1, reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                yield first_line, fields
        except csv.Error:
            # An unclosed quote swallows the rest of the file: no later row has a line.
            return


def _line_of_row(source: _Source, row: int) -> int | None:
    """Physical line (1-based, header is 1) of the 0-based data row ``row``."""
    for index, (line, _) in enumerate(_data_rows(source)):
        if index == row:
            return line
    return None


def _width_error(source: _Source, head: _Head) -> DataError:
    """The first row whose number of fields differs from the header's."""
    width = len(head.columns)
    for line, fields in _data_rows(source):
        if len(fields) != width:
            return DataError(source.label, f"expected {width} fields, saw {len(fields)}", line=line)
    return DataError(source.label, f"a row does not have the header's {width} fields")


_WIDTH_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _parser_error(source: _Source, err: Exception) -> DataError:
    message = " ".join(str(err).split())
    match = _WIDTH_RE.search(message)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return DataError(source.label, f"expected {expected} fields, saw {saw}", line=line)
    return DataError(source.label, f"malformed CSV ({message or type(err).__name__})")


# --------------------------------------------------------------------------- ratings


def _read_ratings(source: _Source, max_rows: int) -> pd.DataFrame:
    """Parse ratings.csv in chunks into arrays of ``max_rows`` (at least the row count).

    Filling arrays sized up front keeps the peak memory near the data itself: collecting
    chunks and concatenating them would hold it twice.
    """
    head = _check_head(source, RATINGS_COLUMNS)
    columns = {name: np.empty(max_rows, dtype) for name, dtype in _RATINGS_DTYPES.items()}
    offset = 0
    try:
        with source.open() as stream, _strict_width():
            reader = pd.read_csv(
                stream,
                **_csv_layout(head, RATINGS_COLUMNS),
                dtype=_RATINGS_READ_DTYPES,
                chunksize=_CHUNK_ROWS,
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
        raise _width_error(source, head) from None
    except pd.errors.ParserError as err:
        raise _parser_error(source, err) from None
    except (ValueError, OverflowError) as err:
        # Includes UnicodeDecodeError: ratings hold only numbers, so a stray byte is a
        # value that is not a number, found (with its line) by the slow path.
        raise _locate_bad_ratings(source, head, err) from None
    if offset == 0:
        raise DataError(source.label, "no ratings (the file holds only a header)")
    # Blank lines leave a tail unused: copy only then, as slicing would keep it alive.
    if offset < max_rows:
        columns = {name: values[:offset].copy() for name, values in columns.items()}
    return pd.DataFrame(columns, copy=False)


def _check_rating_values(source: _Source, chunk: pd.DataFrame, offset: int) -> None:
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
    raise DataError(source.label, reason, line=_line_of_row(source, offset + i))


def _bad_values(raw: pd.Series, column: str) -> tuple[np.ndarray, pd.Series]:
    """Mask of the values of ``column`` that its dtype cannot hold, and the reasons."""
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    not_number = np.isnan(numbers)
    reasons = np.where(raw == "", "missing", "is not a number")
    if column == RATING:
        return not_number, pd.Series(reasons, index=raw.index)
    finite = np.where(np.isfinite(numbers), numbers, 0.5)
    not_whole = ~not_number & (finite % 1 != 0)
    low, high = (_INT32.min, _INT32.max) if column != TIMESTAMP else (-_INT64_LIMIT, _INT64_LIMIT)
    out_of_range = ~not_number & ~not_whole & ((numbers < low) | (numbers >= high + 1))
    reasons = np.where(not_whole, "is not a whole number", reasons)
    reasons = np.where(out_of_range, "is out of range", reasons)
    return not_number | not_whole | out_of_range, pd.Series(reasons, index=raw.index)


def _locate_bad_ratings(source: _Source, head: _Head, err: Exception) -> DataError:
    """Slow path, run only after the fast parse failed: find the first bad value."""
    offset = 0
    with source.open() as stream, warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        reader = pd.read_csv(
            stream,
            **_csv_layout(head, RATINGS_COLUMNS),
            dtype=str,
            keep_default_na=False,
            chunksize=_CHUNK_ROWS,
            encoding_errors="replace",
        )
        for chunk in reader:
            bad_row = _first_bad_value(chunk, RATINGS_COLUMNS, RATINGS_COLUMNS)
            if bad_row is not None:
                row, reason = bad_row
                return DataError(source.label, reason, line=_line_of_row(source, offset + row))
            offset += len(chunk)
    if isinstance(err, UnicodeDecodeError):
        return DataError(source.label, "binary data or an unknown text encoding, not a CSV")
    return DataError(source.label, f"could not parse the ratings ({' '.join(str(err).split())})")


def _first_bad_value(
    chunk: pd.DataFrame, checked: tuple[str, ...], required: tuple[str, ...]
) -> tuple[int, str] | None:
    """(row in ``chunk``, reason) of the earliest value in ``checked`` that its dtype cannot hold.

    A missing value followed only by missing ones (in ``required`` order) is a cut line.
    """
    first: tuple[int, str] | None = None
    for column in checked:
        raw = chunk[column].str.strip()
        bad, reasons = _bad_values(raw, column)
        if not bad.any():
            continue
        row = int(np.flatnonzero(bad)[0])
        if first is not None and row >= first[0]:
            continue
        if reasons.iloc[row] != "missing":
            first = (row, f"{column} {raw.iloc[row][:40]!r} {reasons.iloc[row]}")
        elif all(
            chunk[later].iloc[row].strip() == "" for later in required[required.index(column) :]
        ):
            first = (row, f"missing {column} (truncated line?)")
        else:
            first = (row, f"missing {column}")
    return first


# --------------------------------------------------------------------------- movies


def _read_movies(source: _Source, warnings_out: list[str]) -> pd.DataFrame:
    head = _check_head(source, MOVIES_COLUMNS)
    encodings = list(dict.fromkeys((head.encoding, "latin-1")))
    for encoding in encodings:
        layout = _csv_layout(head._replace(encoding=encoding), MOVIES_COLUMNS)
        try:
            with source.open() as stream, _strict_width():
                movies = pd.read_csv(
                    stream, **layout, dtype=_MOVIES_READ_DTYPES, keep_default_na=False
                )
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserWarning:
            raise _width_error(source, head) from None
        except pd.errors.ParserError as err:
            raise _parser_error(source, err) from None
        except (ValueError, OverflowError) as err:
            raise _locate_bad_movie_ids(source, layout, err) from None
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


def _locate_bad_movie_ids(source: _Source, layout: dict, err: Exception) -> DataError:
    with source.open() as stream, warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        movies = pd.read_csv(
            stream, **layout, dtype=str, keep_default_na=False, encoding_errors="replace"
        )
    bad_row = _first_bad_value(movies, (MOVIE_ID,), MOVIES_COLUMNS)
    if bad_row is not None:
        row, reason = bad_row
        return DataError(source.label, reason, line=_line_of_row(source, row))
    return DataError(source.label, f"could not parse the movies ({' '.join(str(err).split())})")


# --------------------------------------------------------------------------- helpers


def parse_years(titles: pd.Series) -> pd.Series:
    """Release year from a title such as "Shrek (2001)"; NaN where none (float32)."""
    return titles.str.extract(_YEAR_RE, expand=False).astype("float32")


def genre_flags(genres: pd.Series) -> np.ndarray:
    """[n_movies, 14] float32 one-hot flags of the lab's genres, from "A|B" strings."""
    dummies = genres.str.get_dummies(sep="|")
    return dummies.reindex(columns=list(GENRE_LIST), fill_value=0).to_numpy(np.float32)


class _Scan(NamedTuple):
    """One pass over the raw bytes: the fingerprint and a bound on the ratings' rows."""

    fingerprint: str
    max_rating_rows: int


def _scan(sources: dict[str, _Source]) -> _Scan:
    """sha256 (hex) over the names and bytes of ratings.csv and movies.csv, and the
    number of line ends in ratings.csv, which no count of its rows can exceed."""
    digest = hashlib.sha256()
    max_rows = 0
    for file_name in (RATINGS_FILE, MOVIES_FILE):
        digest.update(file_name.encode())
        # A line ends with \n, \r\n or (old Mac files) \r alone.
        line_ends = 0
        last = b"\n"
        with sources[file_name].open() as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                line_ends += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
                if last == b"\r" and block.startswith(b"\n"):
                    line_ends -= 1  # a \r\n split between two blocks
                last = block[-1:]
        if file_name == RATINGS_FILE:
            # The last line may lack its end; the header is no row.
            lines = line_ends + (last not in (b"\n", b"\r"))
            max_rows = max(lines - 1, 0)
    return _Scan(digest.hexdigest(), max_rows)


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
    sources = _sources(path, max_unpacked_bytes)
    warnings_out: list[str] = []
    movies_source, ratings_source = sources[MOVIES_FILE], sources[RATINGS_FILE]
    movies = _read_movies(movies_source, warnings_out)
    scan = _scan(sources)
    ratings = _read_ratings(ratings_source, scan.max_rating_rows)

    known = ratings[MOVIE_ID].isin(movies[MOVIE_ID]).to_numpy()
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(
            ratings_source.label,
            f"movieId {int(ratings[MOVIE_ID].iat[i])} is not in {MOVIES_FILE}",
            line=_line_of_row(ratings_source, i),
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
    )
