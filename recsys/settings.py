"""Every environment variable and default path the project reads, in one place.

- ``RECSYS_DATA``: the dataset (a MovieLens folder or .zip); default ``data/ml-latest-small``.
- ``RECSYS_ARTIFACTS``: where trained bundles live; default ``artifacts/``.
- ``RECSYS_MAX_UNPACKED_BYTES``: the most bytes a zip may unpack to (default 4 GiB).
- ``RECSYS_MAX_ZIP_RATIO``: the most a zip entry of 1 MiB or more may be compressed,
  unpacked bytes per packed byte (default 20; MovieLens is about 3 to 5, a bomb 1,000).
- ``RECSYS_ALLOW_RETRAIN``: ``1`` lets every browser take the operator's actions (train,
  roll back, serve anyway, evaluate, upload data); without it only a visitor on this
  machine may (``recsys.dashboard.access``).
- ``RECSYS_OPERATOR_TOKEN``: a secret (16 characters or more) that a browser may type to
  take the operator's actions; checked on each action.
- ``RECSYS_JOB_COOLDOWN_S``: seconds after a training or evaluation started from the
  browser ends before the next may start (default 60).
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
OPERATOR_TOKEN_ENV = "RECSYS_OPERATOR_TOKEN"
JOB_COOLDOWN_ENV = "RECSYS_JOB_COOLDOWN_S"
DEFAULT_JOB_COOLDOWN_S = 60.0


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


def everyone_may_operate() -> bool:
    """Whether the operator set ``RECSYS_ALLOW_RETRAIN=1``: every browser may train,
    roll back, evaluate and upload data."""
    return os.environ.get(ALLOW_RETRAIN_ENV, "").strip().lower() in ("1", "true", "yes")


def operator_token() -> str:
    """The operator's token (``RECSYS_OPERATOR_TOKEN``), or "" when unset."""
    return os.environ.get(OPERATOR_TOKEN_ENV, "").strip()


def job_cooldown_s() -> float:
    """Seconds between the end of a browser's training or evaluation and the next."""
    try:
        return max(float(os.environ.get(JOB_COOLDOWN_ENV, DEFAULT_JOB_COOLDOWN_S)), 0.0)
    except ValueError:
        return DEFAULT_JOB_COOLDOWN_S
