"""Load and validate a MovieLens-format dataset (a folder or a .zip).

Every problem is a :class:`DataError` that names the file, the line where there is
one, and the reason. Merely odd data is handled and reported in
``MovieLens.warnings``:

- a title without a year keeps ``year`` as NaN (features fill it, see features.py);
- "(no genres listed)" gives a movie no genre flags;
- a duplicate (userId, movieId) pair keeps the latest rating by timestamp;
- a duplicate movieId in movies.csv keeps its first row;
- a movies.csv that is not UTF-8 is read as Latin-1.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
import pandas as pd

from recsys.errors import DataError
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

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / "data" / "ml-latest-small"
RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"

# A zip is never unpacked (or streamed) past this many bytes: it stops zip bombs.
# ml-32m, the largest MovieLens release, unpacks to about 1 GB.
MAX_UNPACKED_BYTES = int(os.environ.get("RECSYS_MAX_UNPACKED_BYTES", 4 * 1024**3))

_CHUNK_ROWS = 2_000_000
_YEAR_RE = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$")


@dataclass(frozen=True)
class MovieLens:
    """A validated dataset.

    ratings: userId int32, movieId int32, rating float32 (stars, 0.5-5), timestamp int64.
    movies: movieId int32, title str, genres str ("A|B"), year float32 (NaN if unknown).
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    source: str
    fingerprint: str
    warnings: tuple[str, ...] = field(default=())


def resolve_data_path(arg: str | os.PathLike | None = None) -> Path:
    """``--data PATH`` first, then ``RECSYS_DATA``, then ``data/ml-latest-small``."""
    if arg:
        return Path(arg)
    env = os.environ.get("RECSYS_DATA")
    if env:
        return Path(env)
    return DEFAULT_DATA


def dataset_present(path: Path) -> bool:
    """True where ``path`` looks like a dataset (a zip, or a folder with ratings.csv)."""
    if path.is_file():
        return path.suffix.lower() == ".zip"
    return (path / RATINGS_FILE).is_file()


# --------------------------------------------------------------------------- sources


class _CappedReader(io.RawIOBase):
    """Reads a stream and raises DataError once more than ``limit`` bytes came out."""

    def __init__(self, raw: BinaryIO, limit: int, label: str):
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._label = label

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._raw.read(len(buffer))
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


def check_zip_members(zip_path: Path, zf: zipfile.ZipFile, max_bytes: int) -> None:
    """Refuse entries that escape the target folder, and declared sizes past the cap."""
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


def _open_zip(zip_path: Path, max_bytes: int) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(zip_path, f"not a readable zip file ({err})") from None
    check_zip_members(zip_path, zf, max_bytes)
    return zf


def _zip_member(zip_path: Path, zf: zipfile.ZipFile, file_name: str) -> str:
    """The shallowest entry called ``file_name`` (zips usually hold one top folder)."""
    names = [n for n in zf.namelist() if PurePosixPath(n).name == file_name]
    if not names:
        raise DataError(zip_path, f"missing file {file_name} in the zip")
    return min(names, key=lambda n: (n.count("/"), n))


Opener = Callable[[], BinaryIO]


def _sources(path: Path, max_bytes: int) -> tuple[dict[str, tuple[str, Opener]], str]:
    """Map ratings/movies to (label for messages, opener of a binary stream)."""
    if path.is_file() and path.suffix.lower() == ".zip":
        zf = _open_zip(path, max_bytes)
        out = {}
        for file_name in (RATINGS_FILE, MOVIES_FILE):
            member = _zip_member(path, zf, file_name)
            label = f"{path}!{member}"

            def opener(member=member, label=label) -> BinaryIO:
                return io.BufferedReader(_CappedReader(zf.open(member), max_bytes, label))

            out[file_name] = (label, opener)
        return out, str(path)
    if not path.exists():
        raise DataError(path, "no dataset here; run `python -m recsys download` or pass --data")
    if not path.is_dir():
        raise DataError(path, "expected a MovieLens folder or a .zip")
    out = {}
    for file_name in (RATINGS_FILE, MOVIES_FILE):
        file_path = path / file_name
        if not file_path.is_file():
            raise DataError(file_path, "missing file")
        out[file_name] = (str(file_path), lambda p=file_path: open(p, "rb"))
    return out, str(path)


# --------------------------------------------------------------------------- parsing


def _check_head(label: str, opener: Opener, required: tuple[str, ...]) -> str:
    """Check size, binary content and the header; return the encoding to use."""
    with opener() as stream:
        head = stream.read(65536)
    if not head.strip():
        raise DataError(label, "empty file (expected a header and rows)")
    if b"\x00" in head:
        raise DataError(label, "binary data, not a CSV file")
    try:
        text = head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the 64 KiB boundary is not an error.
        if err.start >= len(head) - 4:
            text = head[: err.start].decode("utf-8")
            encoding = "utf-8"
        else:
            text = head.decode("latin-1")
            encoding = "latin-1"
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    header = [h.strip().strip('"') for h in first_line.split(",")]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(
            label,
            f"missing column(s) {', '.join(missing)} (header is {first_line[:80]!r})",
            line=1,
        )
    return encoding


_PARSER_LINE_RE = re.compile(r"line (\d+)")


def _parser_error(label: str, err: Exception) -> DataError:
    match = _PARSER_LINE_RE.search(str(err))
    reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    return DataError(label, f"malformed CSV: {reason}", line=int(match.group(1)) if match else None)


def _locate_bad_ratings(label: str, opener: Opener, encoding: str) -> DataError:
    """Slow path, run only after the fast parse failed: find the first bad line."""
    offset = 0
    with opener() as stream:
        reader = pd.read_csv(
            stream,
            usecols=list(RATINGS_COLUMNS),
            dtype=str,
            keep_default_na=False,
            chunksize=_CHUNK_ROWS,
            encoding=encoding,
            encoding_errors="replace",
        )
        for chunk in reader:
            for column in RATINGS_COLUMNS:
                raw = chunk[column].str.strip()
                numbers = pd.to_numeric(raw, errors="coerce")
                bad = numbers.isna().to_numpy()
                if column in (USER_ID, MOVIE_ID, TIMESTAMP):
                    bad |= ~np.isclose(numbers.fillna(0.5) % 1, 0)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    line = offset + i + 2
                    value = raw.iloc[i]
                    if value == "":
                        return DataError(
                            label, f"missing {column} (truncated line?)", line=line
                        )
                    return DataError(label, f"{column} {value[:40]!r} is not a number", line=line)
            offset += len(chunk)
    return DataError(label, "could not parse the ratings (unknown reason)")


def _read_ratings(label: str, opener: Opener) -> pd.DataFrame:
    encoding = _check_head(label, opener, RATINGS_COLUMNS)
    dtypes = {USER_ID: "int32", MOVIE_ID: "int32", RATING: "float32", TIMESTAMP: "int64"}
    chunks = []
    offset = 0
    try:
        with opener() as stream:
            reader = pd.read_csv(
                stream,
                usecols=list(RATINGS_COLUMNS),
                dtype=dtypes,
                chunksize=_CHUNK_ROWS,
                encoding=encoding,
                na_filter=True,
            )
            for chunk in reader:
                _check_rating_values(label, chunk, offset)
                chunks.append(chunk)
                offset += len(chunk)
    except DataError:
        raise
    except (ValueError, OverflowError) as err:
        if isinstance(err, pd.errors.ParserError) and "line" in str(err):
            raise _parser_error(label, err) from None
        raise _locate_bad_ratings(label, opener, encoding) from None
    except UnicodeDecodeError:
        raise DataError(label, "binary data or an unknown text encoding, not a CSV") from None
    if not chunks or offset == 0:
        raise DataError(label, "no ratings (the file holds only a header)")
    ratings = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return ratings[list(RATINGS_COLUMNS)].reset_index(drop=True)


def _check_rating_values(label: str, chunk: pd.DataFrame, offset: int) -> None:
    stars = chunk[RATING].to_numpy()
    bad = ~np.isfinite(stars)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(label, "rating is missing or NaN", line=offset + i + 2)
    bad = (stars < 0.5) | (stars > 5.0) | (stars * 2 != np.round(stars * 2))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            label,
            f"rating {float(stars[i]):g} is out of range (0.5 to 5 in half steps)",
            line=offset + i + 2,
        )


def _read_movies(label: str, opener: Opener, warnings: list[str]) -> pd.DataFrame:
    encoding = _check_head(label, opener, MOVIES_COLUMNS)
    for attempt in (encoding, "latin-1"):
        try:
            with opener() as stream:
                movies = pd.read_csv(
                    stream,
                    usecols=list(MOVIES_COLUMNS),
                    dtype={MOVIE_ID: "int32", TITLE: str, GENRES: str},
                    keep_default_na=False,
                    encoding=attempt,
                )
            if attempt != "utf-8":
                warnings.append(f"{label}: not UTF-8; read as Latin-1")
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as err:
            raise _parser_error(label, err) from None
        except (ValueError, OverflowError):
            raise _locate_bad_movie_ids(label, opener, attempt) from None
    if movies.empty:
        raise DataError(label, "no movies (the file holds only a header)")
    duplicated = movies[MOVIE_ID].duplicated()
    if duplicated.any():
        warnings.append(f"{label}: {int(duplicated.sum())} duplicate movieId rows; kept the first")
        movies = movies[~duplicated]
    movies = movies.reset_index(drop=True)
    movies[TITLE] = movies[TITLE].str.strip()
    movies[YEAR] = parse_years(movies[TITLE])
    no_year = int(movies[YEAR].isna().sum())
    if no_year:
        warnings.append(f"{label}: {no_year} titles without a year")
    return movies


def _locate_bad_movie_ids(label: str, opener: Opener, encoding: str) -> DataError:
    with opener() as stream:
        raw = pd.read_csv(
            stream, usecols=[MOVIE_ID], dtype=str, keep_default_na=False, encoding=encoding
        )[MOVIE_ID]
    numbers = pd.to_numeric(raw.str.strip(), errors="coerce")
    bad = numbers.isna().to_numpy() | ~np.isclose(numbers.fillna(0) % 1, 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = raw.iloc[i]
        reason = "missing movieId" if value == "" else f"movieId {value[:40]!r} is not a number"
        return DataError(label, reason, line=i + 2)
    return DataError(label, "could not parse the movies (unknown reason)")


def parse_years(titles: pd.Series) -> pd.Series:
    """Release year from a title such as "Shrek (2001)"; NaN where none (float32)."""
    return titles.str.extract(_YEAR_RE, expand=False).astype("float32")


def genre_flags(genres: pd.Series) -> np.ndarray:
    """[n_movies, 14] float32 one-hot flags of the lab's genres, from "A|B" strings."""
    dummies = genres.str.get_dummies(sep="|")
    return dummies.reindex(columns=list(GENRE_LIST), fill_value=0).to_numpy(np.float32)


def _fingerprint(sources: dict[str, tuple[str, Opener]]) -> str:
    digest = hashlib.sha256()
    for file_name in (RATINGS_FILE, MOVIES_FILE):
        _, opener = sources[file_name]
        digest.update(file_name.encode())
        with opener() as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def load_movielens(
    path: str | os.PathLike | None = None, *, max_unpacked_bytes: int = MAX_UNPACKED_BYTES
) -> MovieLens:
    """Load and validate ratings.csv and movies.csv from a folder or a .zip.

    Raises DataError for anything that is not a usable MovieLens dataset.
    """
    path = resolve_data_path(path)
    sources, source = _sources(path, max_unpacked_bytes)
    warnings: list[str] = []
    movies_label, movies_opener = sources[MOVIES_FILE]
    movies = _read_movies(movies_label, movies_opener, warnings)
    ratings_label, ratings_opener = sources[RATINGS_FILE]
    ratings = _read_ratings(ratings_label, ratings_opener)

    known = ratings[MOVIE_ID].isin(movies[MOVIE_ID]).to_numpy()
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(
            ratings_label,
            f"movieId {int(ratings[MOVIE_ID].iat[i])} is not in {MOVIES_FILE}",
            line=i + 2,
        )
    duplicated = ratings.duplicated([USER_ID, MOVIE_ID], keep=False)
    if duplicated.any():
        n_dupes = int(ratings.duplicated([USER_ID, MOVIE_ID]).sum())
        ratings = (
            ratings.sort_values(TIMESTAMP, kind="stable")
            .drop_duplicates([USER_ID, MOVIE_ID], keep="last")
            .sort_index()
            .reset_index(drop=True)
        )
        warnings.append(
            f"{ratings_label}: {n_dupes} duplicate (userId, movieId) ratings; kept the latest"
        )
    no_genres = int((~movies[GENRES].str.contains("|".join(map(re.escape, GENRE_LIST)))).sum())
    if no_genres:
        warnings.append(f"{movies_label}: {no_genres} movies carry none of the 14 genres")
    return MovieLens(
        ratings=ratings,
        movies=movies,
        source=source,
        fingerprint=_fingerprint(sources),
        warnings=tuple(warnings),
    )


def ratings_per_genre(dataset: MovieLens) -> dict[str, int]:
    """How many ratings fall on movies of each of the 14 genres."""
    flags = genre_flags(dataset.movies[GENRES])
    per_movie = dataset.ratings[MOVIE_ID].value_counts()
    counts = per_movie.reindex(dataset.movies[MOVIE_ID]).fillna(0).to_numpy()
    return {g: int(counts @ flags[:, j]) for j, g in enumerate(GENRE_LIST)}


def summary(dataset: MovieLens) -> dict:
    """The counts that `python -m recsys info` prints."""
    ratings, movies = dataset.ratings, dataset.movies
    return {
        "source": dataset.source,
        "ratings": int(len(ratings)),
        "users": int(ratings[USER_ID].nunique()),
        "movies": int(len(movies)),
        "rated_movies": int(ratings[MOVIE_ID].nunique()),
        "rating_range": [float(ratings[RATING].min()), float(ratings[RATING].max())],
        "year_range": [int(movies[YEAR].min()), int(movies[YEAR].max())]
        if movies[YEAR].notna().any()
        else None,
        "ratings_per_genre": ratings_per_genre(dataset),
        "fingerprint": dataset.fingerprint,
        "warnings": list(dataset.warnings),
    }
