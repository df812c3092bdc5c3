"""Stored evaluations: JSON files beside the bundle, written atomically, read forgivingly.

``evaluation.json`` holds the latest run, whatever its protocol;
``evaluation-<protocol>.json`` the latest of each protocol.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from recsys.config import PROTOCOLS
from recsys.errors import BundleError
from recsys.evaluation.ranking import required_metrics
from recsys.model.bundle import read_regular

EVALUATION_FILE = "evaluation.json"
# A saved evaluation is a few kilobytes; the cap only stops a link to /dev/zero (or a
# planted giant file) from filling the server's memory on every page.
MAX_EVALUATION_BYTES = 16 << 20
_MAX_POINTER_BYTES = 4096


def evaluation_path(artifacts_dir: str | os.PathLike, protocol: str | None = None) -> Path:
    """``evaluation.json`` (the latest) or ``evaluation-<protocol>.json`` in the folder."""
    name = EVALUATION_FILE if protocol is None else f"evaluation-{protocol}.json"
    return Path(artifacts_dir) / name


def _current_bundle_id(artifacts_dir: Path) -> str | None:
    try:
        name = read_regular(artifacts_dir / "CURRENT", _MAX_POINTER_BYTES).decode().strip()
    except (OSError, UnicodeDecodeError, BundleError):
        return None
    return name if name.startswith("bundle-") and "/" not in name else None


def _write_atomically(path: Path, text: str) -> None:
    # Not the ".tmp-" prefix: a training's clean-up removes those from this folder.
    fd, tmp = tempfile.mkstemp(prefix=".evaluation-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_evaluation(artifacts_dir: str | os.PathLike, result: dict) -> Path:
    """Store ``result`` beside the bundle, atomically; returns the latest file's path.

    Writes ``evaluation.json`` (the latest run, whatever its protocol) and
    ``evaluation-<protocol>.json``, each with the current bundle's id (None if there
    is none yet) and the time it was saved.
    """
    folder = Path(artifacts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored = {
        **result,
        "bundle_id": _current_bundle_id(folder),
        "saved": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(stored, indent=1, allow_nan=False)
    _write_atomically(evaluation_path(folder, result["protocol"]), text)
    latest = evaluation_path(folder)
    _write_atomically(latest, text)
    return latest


def load_evaluation(artifacts_dir: str | os.PathLike, protocol: str | None = None) -> dict | None:
    """The latest saved evaluation (or the latest of ``protocol``); None if absent or damaged.

    Never raises on a missing, unreadable or malformed file: the page then simply
    offers to run one. The file is read like a bundle's (``read_regular``): a link, a
    FIFO or a device is refused at once, and so is a file over MAX_EVALUATION_BYTES; JSON
    nested too deeply to parse counts as damaged, not as a crash of every page.
    """
    try:
        raw = read_regular(evaluation_path(artifacts_dir, protocol), MAX_EVALUATION_BYTES)
        result = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, BundleError, RecursionError):
        # JSONDecodeError and UnicodeDecodeError are ValueErrors.
        return None
    if not _looks_like_evaluation(result):
        return None
    if protocol is not None and result["protocol"] != protocol:
        return None
    return result


def _looks_like_evaluation(result: object) -> bool:
    if not isinstance(result, dict) or result.get("protocol") not in PROTOCOLS:
        return False
    models = result.get("models")
    if not isinstance(models, dict) or not models:
        return False
    required = required_metrics(result["protocol"])
    return all(
        isinstance(metrics, dict) and all(m in metrics for m in required)
        for metrics in models.values()
    )
