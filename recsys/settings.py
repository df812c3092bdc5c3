"""Every environment variable and default path the project reads, in one place.

- ``RECSYS_DATA``: the dataset (a MovieLens folder or .zip); default ``data/ml-latest-small``.
- ``RECSYS_ARTIFACTS``: where trained bundles live; default ``artifacts/``.
- ``RECSYS_MAX_UNPACKED_BYTES``: the most bytes a zip may unpack to (default 4 GiB).
- ``RECSYS_MAX_ZIP_RATIO``: the most a zip entry of 1 MiB or more may be compressed,
  unpacked bytes per packed byte (default 20; MovieLens is about 3 to 5, a bomb 1,000).
- ``RECSYS_ALLOW_RETRAIN``: ``1`` lets browsers retrain the served model when the server
  listens beyond this machine (``server.address`` not localhost); on localhost they may.
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
MAX_ZIP_RATIO_ENV = "RECSYS_MAX_ZIP_RATIO"
ALLOW_RETRAIN_ENV = "RECSYS_ALLOW_RETRAIN"
LOOPBACK_ADDRESSES = ("127.0.0.1", "localhost", "::1")


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


def max_zip_ratio() -> float:
    """Unpacked bytes per packed byte past which a zip entry is refused as a bomb."""
    return float(os.environ.get(MAX_ZIP_RATIO_ENV, 20))


def retrain_allowed(server_address: str | None) -> bool:
    """Whether a browser may retrain the served model.

    ``server_address`` is the address the app server listens on (Streamlit's
    ``server.address``; empty or None means every interface). On this machine only
    (a loopback address) anyone who can open the app is the user; beyond it, only when
    the operator sets ``RECSYS_ALLOW_RETRAIN=1``.
    """
    if os.environ.get(ALLOW_RETRAIN_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    return (server_address or "").strip().strip("[]") in LOOPBACK_ADDRESSES
