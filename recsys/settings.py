"""Every environment variable and default path the project reads, in one place.

- ``RECSYS_DATA``: the dataset (a MovieLens folder or .zip); default ``data/ml-latest-small``.
- ``RECSYS_ARTIFACTS``: where trained bundles live; default ``artifacts/``.
- ``RECSYS_MAX_UNPACKED_BYTES``: the most bytes a zip may unpack to (default 4 GiB).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / "data" / "ml-latest-small"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_ARTIFACTS = PROJECT_ROOT / "artifacts"

DATA_ENV = "RECSYS_DATA"
ARTIFACTS_ENV = "RECSYS_ARTIFACTS"
MAX_UNPACKED_ENV = "RECSYS_MAX_UNPACKED_BYTES"


def resolve_data_path(arg: str | os.PathLike | None = None) -> Path:
    """``--data PATH`` first, then ``RECSYS_DATA``, then ``data/ml-latest-small``."""
    if arg:
        return Path(arg)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else DEFAULT_DATA


def data_path_source() -> str:
    """Where the data path came from, in words, for messages."""
    return f"set by {DATA_ENV}" if os.environ.get(DATA_ENV) else "the default place"


def resolve_artifacts_dir(arg: str | os.PathLike | None = None) -> Path:
    """``--artifacts DIR``, then ``RECSYS_ARTIFACTS``, then ``artifacts/``."""
    if arg:
        return Path(arg)
    env = os.environ.get(ARTIFACTS_ENV)
    return Path(env) if env else DEFAULT_ARTIFACTS


def max_unpacked_bytes() -> int:
    """A zip is never unpacked (or streamed) past this many bytes: it stops zip bombs.

    ml-32m, the largest MovieLens release, unpacks to about 1 GB.
    """
    return int(os.environ.get(MAX_UNPACKED_ENV, 4 * 1024**3))
