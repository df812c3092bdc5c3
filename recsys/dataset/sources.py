"""Where a dataset's CSV files come from: a folder, or a zip read through a capped stream.

A source is a label for messages (a path, or ``zip!member``) and an opener of a fresh
binary stream. Zip entries are checked before anything is read: none may escape the
target folder, and neither the declared nor the real unpacked size may pass a cap.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from recsys.errors import DataError

RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"

Opener = Callable[[], BinaryIO]


class Source(NamedTuple):
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


def _zip_sources(path: Path, max_bytes: int) -> dict[str, Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_members(path, zf, max_bytes)
            members = {name: _zip_member(path, zf, name) for name in (RATINGS_FILE, MOVIES_FILE)}
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(path, f"not a readable zip file ({err})") from None
    sources = {}
    for file_name, member in members.items():
        label = f"{path}!{member}"
        sources[file_name] = Source(label, _zip_opener(path, member, max_bytes, label))
    return sources


def open_sources(path: Path, max_bytes: int) -> dict[str, Source]:
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
        sources[file_name] = Source(str(file_path), lambda p=file_path: open(p, "rb"))
    return sources


class Scan(NamedTuple):
    """One pass over the raw bytes: the fingerprint and a bound on the ratings' rows."""

    fingerprint: str
    max_rating_rows: int


def scan_sources(sources: dict[str, Source]) -> Scan:
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
    return Scan(digest.hexdigest(), max_rows)
