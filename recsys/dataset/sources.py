"""Where a dataset's CSV files come from: a folder, or a zip read through a capped stream.

A source is a label for messages (a path, or ``zip!member``) and an opener of a fresh
binary stream. Zip entries are checked before anything is read: none may escape the
target folder, no two may name the same file (``ratings.csv``, ``./ratings.csv``,
``a/../ratings.csv``, ``RATINGS.CSV``), no two may share bytes of the zip (overlapping
entries let one packed stream unpack many times, CVE-2024-0450, which the zipfile of
Python 3.11.7 does not catch), neither the declared nor the real unpacked size may pass
a cap, and no entry may be packed tighter than MovieLens ever is.

Memory is what a zip bomb attacks: reading a CSV takes about 9 bytes of RAM per byte,
so a 1.5 MB zip of 1 GiB of repeated rows would take 9 GB. MovieLens CSVs deflate 3 to
5 times; a bomb deflates about 1,000 times. Refusing entries past ``max_ratio`` (20 by
default) bounds what a zip of a given size can cost before a byte is read.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from recsys.errors import DataError
from recsys.settings import max_zip_ratio

# Entries below this many unpacked bytes may be packed as tight as they like (a README,
# an empty file): they cannot cost much memory.
RATIO_FREE_BYTES = 1 << 20

RATINGS_FILE = "ratings.csv"
MOVIES_FILE = "movies.csv"
TAGS_FILE = "tags.csv"  # optional: a dataset without it has no tags
DATA_FILES = (RATINGS_FILE, MOVIES_FILE, TAGS_FILE)  # what a dataset is read from, in order

Opener = Callable[[], BinaryIO]


class Source(NamedTuple):
    """One CSV file: the label used in messages and an opener of a fresh binary stream."""

    label: str
    open: Opener


# A damaged or encrypted zip entry fails while it is read, deep inside pandas.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


class CappedReader(io.RawIOBase):
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


def entry_key(name: str) -> str:
    """The file an entry's name unpacks to, as a comparable key: backslashes as
    slashes, ``.`` and empty parts dropped, case folded (case-blind file systems)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts).casefold()


def check_zip_members(
    zip_path: str | os.PathLike,
    zf: zipfile.ZipFile,
    max_bytes: int,
    max_ratio: float | None = None,
) -> None:
    """Refuse escaping entries, entries that name the same file, sizes past the cap and
    compression ratios no MovieLens release has, before anything is read.

    ``zip_path`` names the zip in messages (a path or a URL). ``max_bytes`` caps the sum
    of the entries' declared unpacked sizes, in bytes. ``max_ratio`` (unpacked bytes per
    packed byte; default ``RECSYS_MAX_ZIP_RATIO``) caps each entry of 1 MiB or more, and
    the whole zip. zipfile itself stops reading an entry at its declared size (a lying
    header fails its CRC), so the declared sizes bound what is read; and since no two
    entries may overlap, the packed sizes add up to at most the zip's size, so the ratio
    cap bounds what the whole zip can unpack to.
    """
    max_ratio = max_ratio or max_zip_ratio()
    _check_no_overlap(zip_path, zf)
    total = packed = 0
    seen: dict[str, str] = {}
    for info in zf.infolist():
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
            raise DataError(zip_path, f"entry {name!r} escapes the target folder; refusing the zip")
        key = entry_key(name)
        if key in seen and not info.is_dir():
            raise DataError(
                zip_path, f"entries {seen[key]!r} and {name!r} name the same file; refusing the zip"
            )
        seen[key] = name
        total += info.file_size
        packed += info.compress_size
    if total > max_bytes:
        raise DataError(
            zip_path,
            f"unpacks to {total:,} bytes, over the {max_bytes:,}-byte cap (zip bomb?)",
        )
    for info in zf.infolist():
        _check_ratio(zip_path, info.filename, info.file_size, info.compress_size, max_ratio)
    _check_ratio(zip_path, "the zip", total, packed, max_ratio)


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"


def _check_no_overlap(zip_path: str | os.PathLike, zf: zipfile.ZipFile) -> None:
    """Refuse entries whose bytes (local header, name, extra field and packed data)
    overlap another entry's or the central directory: the only way many entries can
    share one packed stream."""
    if zf.fp is None:
        return
    end = 0
    previous = None
    for info in sorted(zf.infolist(), key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise DataError(
                zip_path,
                f"entries {previous!r} and {info.filename!r} overlap (one packed stream "
                "unpacked twice, a zip bomb); refusing the zip",
            )
        zf.fp.seek(info.header_offset)
        header = zf.fp.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise DataError(zip_path, f"entry {info.filename!r} has no local header; damaged zip")
        _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        end = (
            info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        ) + info.compress_size
        previous = info.filename
    directory = getattr(zf, "start_dir", None)
    if previous is not None and directory is not None and end > directory:
        raise DataError(
            zip_path, f"entry {previous!r} overlaps the zip's directory; refusing the zip"
        )


def _check_ratio(zip_path: str | os.PathLike, what: str, size: int, packed: int, limit: float):
    if size >= RATIO_FREE_BYTES and size > limit * max(packed, 1):
        raise DataError(
            zip_path,
            f"{what} unpacks {size / max(packed, 1):,.0f} times its packed size ({size:,} "
            f"bytes); MovieLens is packed at most about 5 times, so this looks like a zip "
            f"bomb; refusing it (limit {limit:g}, RECSYS_MAX_ZIP_RATIO)",
        )


def _zip_member(zip_path: Path, zf: zipfile.ZipFile, file_name: str) -> str | None:
    """The shallowest entry called ``file_name`` (zips usually hold one top folder);
    DataError when there is none, but None for the optional tags.csv."""
    # Names compared as they unpack (entry_key), so the entry read here is the file the
    # upload installs (download._shallowest picks by the same order).
    keys = {n: entry_key(n) for n in zf.namelist() if not n.endswith(("/", "\\"))}
    names = [n for n, key in keys.items() if key.rsplit("/", 1)[-1] == file_name]
    if not names:
        if file_name == TAGS_FILE:
            return None
        raise DataError(zip_path, f"missing file {file_name} in the zip")
    return min(names, key=lambda n: (keys[n].count("/"), keys[n]))


def _zip_opener(zip_path: Path, member: str, max_bytes: int, label: str) -> Opener:
    def opener() -> BinaryIO:
        # Each stream opens the zip afresh and the entry keeps the file open until it
        # is closed, so no zip handle outlives the load.
        try:
            with zipfile.ZipFile(zip_path) as zf:
                raw = zf.open(member)
        except (*_ZIP_READ_ERRORS, OSError) as err:
            raise DataError(label, f"cannot open the zip entry ({err})") from None
        return io.BufferedReader(CappedReader(raw, max_bytes, label))

    return opener


def _zip_sources(path: Path, max_bytes: int) -> dict[str, Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_members(path, zf, max_bytes)
            members = {name: _zip_member(path, zf, name) for name in DATA_FILES}
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(path, f"not a readable zip file ({err})") from None
    sources = {}
    for file_name, member in members.items():
        if member is None:
            continue
        label = f"{path}!{member}"
        sources[file_name] = Source(label, _zip_opener(path, member, max_bytes, label))
    return sources


def open_sources(path: Path, max_bytes: int) -> dict[str, Source]:
    """Map ratings.csv, movies.csv and (when there is one) tags.csv to their sources."""
    if path.is_file() and path.suffix.lower() == ".zip":
        return _zip_sources(path, max_bytes)
    if not path.exists():
        raise DataError(path, "no dataset here; run `python -m recsys download` or pass --data")
    if not path.is_dir():
        raise DataError(path, "expected a MovieLens folder or a .zip")
    sources = {}
    for file_name in DATA_FILES:
        file_path = path / file_name
        if not file_path.is_file():
            if file_name == TAGS_FILE:
                continue
            raise DataError(file_path, "missing file")
        sources[file_name] = Source(str(file_path), lambda p=file_path: open(p, "rb"))
    return sources


class Scan(NamedTuple):
    """One pass over the raw bytes: the fingerprint and a bound on the ratings' rows."""

    fingerprint: str
    max_rating_rows: int


def scan_sources(sources: dict[str, Source]) -> Scan:
    """sha256 (hex) over the names and bytes of ratings.csv, movies.csv and tags.csv
    (when there is one: a dataset without tags keeps the fingerprint it always had), and
    the number of line ends in ratings.csv, which no count of its rows can exceed."""
    digest = hashlib.sha256()
    max_rows = 0
    for file_name in DATA_FILES:
        if file_name not in sources:
            continue
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
