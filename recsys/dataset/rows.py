"""CSV layout and error location: the header check, read_csv's arguments, and the line
and reason of the first bad row once a fast parse has failed.

Line numbers are physical lines, 1-based, the header being line 1; blank lines are
skipped as pandas does but still counted.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, MOVIES_COLUMNS, RATING, RATINGS_COLUMNS, TIMESTAMP
from recsys.dataset.sources import Source
from recsys.errors import DataError

CHUNK_ROWS = 2_000_000
_HEAD_BYTES = 65536
_INT32 = np.iinfo(np.int32)
_INT64_LIMIT = 2.0**63


class Head(NamedTuple):
    """What the first 64 KiB of a CSV file say: its text encoding and header names."""

    encoding: str
    columns: list[str]


def check_head(source: Source, required: tuple[str, ...]) -> Head:
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
    return Head(encoding, columns)


def csv_layout(head: Head, required: tuple[str, ...]) -> dict:
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
def strict_width() -> Iterator[None]:
    """Turn pandas' warning about a too-wide first row into an exception.

    Also silence numpy's cast warning, which pandas lets out on "inf" or "1e30" in an
    integer column just before it fails: the DataError says it in one line instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
        yield


def _data_rows(source: Source) -> Iterator[tuple[int, list[str]]]:
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


def line_of_row(source: Source, row: int) -> int | None:
    """Physical line (1-based, header is 1) of the 0-based data row ``row``."""
    for index, (line, _) in enumerate(_data_rows(source)):
        if index == row:
            return line
    return None


def width_error(source: Source, head: Head) -> DataError:
    """The first row whose number of fields differs from the header's."""
    width = len(head.columns)
    for line, fields in _data_rows(source):
        if len(fields) != width:
            return DataError(source.label, f"expected {width} fields, saw {len(fields)}", line=line)
    return DataError(source.label, f"a row does not have the header's {width} fields")


_WIDTH_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def parser_error(source: Source, err: Exception) -> DataError:
    message = " ".join(str(err).split())
    match = _WIDTH_RE.search(message)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return DataError(source.label, f"expected {expected} fields, saw {saw}", line=line)
    return DataError(source.label, f"malformed CSV ({message or type(err).__name__})")


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


def locate_bad_ratings(source: Source, head: Head, err: Exception) -> DataError:
    """Slow path, run only after the fast parse failed: find the first bad value."""
    offset = 0
    with source.open() as stream, warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        reader = pd.read_csv(
            stream,
            **csv_layout(head, RATINGS_COLUMNS),
            dtype=str,
            keep_default_na=False,
            chunksize=CHUNK_ROWS,
            encoding_errors="replace",
        )
        for chunk in reader:
            bad_row = _first_bad_value(chunk, RATINGS_COLUMNS, RATINGS_COLUMNS)
            if bad_row is not None:
                row, reason = bad_row
                return DataError(source.label, reason, line=line_of_row(source, offset + row))
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


def locate_bad_movie_ids(source: Source, layout: dict, err: Exception) -> DataError:
    with source.open() as stream, warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        movies = pd.read_csv(
            stream, **layout, dtype=str, keep_default_na=False, encoding_errors="replace"
        )
    bad_row = _first_bad_value(movies, (MOVIE_ID,), MOVIES_COLUMNS)
    if bad_row is not None:
        row, reason = bad_row
        return DataError(source.label, reason, line=line_of_row(source, row))
    return DataError(source.label, f"could not parse the movies ({' '.join(str(err).split())})")
