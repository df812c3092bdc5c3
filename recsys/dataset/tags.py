"""MovieLens' optional tags.csv: free-text tags users gave movies (``userId,movieId,tag,...``).

The hybrid model reads tags as part of a movie's content, so they are part of the
dataset (``MovieLens.tags``) and of its fingerprint. A dataset without tags.csv is fine
(an empty frame); a tags.csv that cannot be parsed is a one-line DataError.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd

from recsys.columns import MOVIE_ID, USER_ID
from recsys.dataset.sources import TAGS_FILE, CappedReader, Source, check_zip_members, entry_key
from recsys.errors import DataError
from recsys.settings import max_unpacked_bytes as default_max_unpacked_bytes
from recsys.settings import resolve_data_path

TAG = "tag"
TAG_COLUMNS = (USER_ID, MOVIE_ID, TAG)


def empty_tags() -> pd.DataFrame:
    """No tags: the three columns, no rows."""
    return pd.DataFrame(
        {USER_ID: pd.Series(dtype="int64"), MOVIE_ID: pd.Series(dtype="int64"), TAG: []}
    )


def _parse(stream, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            stream,
            usecols=list(TAG_COLUMNS),
            dtype={USER_ID: "int64", MOVIE_ID: "int64", TAG: str},
            keep_default_na=False,
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(label, f"tags cannot be read ({' '.join(str(err).split())})") from None
    return frame.reset_index(drop=True)


def read_tags(source: Source | None) -> pd.DataFrame:
    """userId, movieId, tag (str) from a dataset's tags.csv; empty when it has none."""
    if source is None:
        return empty_tags()
    with source.open() as raw:
        return _parse(raw, source.label)


def load_tags(path: str | os.PathLike | None = None, max_unpacked_bytes: int | None = None):
    """userId, movieId, tag (str) from a MovieLens folder or .zip; empty if it has none."""
    path = Path(resolve_data_path(path))
    limit = max_unpacked_bytes or default_max_unpacked_bytes()
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                check_zip_members(path, zf, limit)
                names = [n for n in zf.namelist() if entry_key(n).rsplit("/", 1)[-1] == TAGS_FILE]
                if not names:
                    return empty_tags()
                member = min(names, key=lambda n: (entry_key(n).count("/"), entry_key(n)))
                label = f"{path}!{member}"
                with io.BufferedReader(CappedReader(zf.open(member), limit, label)) as raw:
                    return _parse(raw, label)
        except (zipfile.BadZipFile, OSError) as err:
            raise DataError(path, f"not a readable zip file ({err})") from None
    file_path = path / TAGS_FILE
    if not file_path.is_file():
        return empty_tags()
    with open(file_path, "rb") as raw:
        return _parse(raw, str(file_path))
