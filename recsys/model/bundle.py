"""The trained bundle on disk: atomic writes, a training lock, verified reads.

Layout of the artifacts folder::

    CURRENT              one line: the name of the bundle being served
    .train.lock          held while a training writes (file lock)
    bundle-<stamp>/      model.keras weights.npz scalers.json items.csv
                         item_embeddings.npy users.csv ratings.npz history.json
                         manifest.json

A bundle is written to ``.tmp-*`` beside the others, renamed to ``bundle-<stamp>``, and
only then named in ``CURRENT`` (replaced atomically with ``os.replace``). A killed or
failed training therefore leaves the previous bundle, and ``CURRENT``, untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from recsys.errors import BundleError, MissingBundleError, StaleBundleError, TrainingLockedError

SCHEMA_VERSION = 1
CURRENT = "CURRENT"
LOCK = ".train.lock"
MANIFEST = "manifest.json"
BUNDLE_PREFIX = "bundle-"
TMP_PREFIX = ".tmp-"

BUNDLE_FILES = (
    "model.keras",
    "weights.npz",
    "scalers.json",
    "items.csv",
    "item_embeddings.npy",
    "users.csv",
    "ratings.npz",
    "history.json",
)

# Writes one file into the given folder.
FileWriter = Callable[[Path], None]

# What a forged bundle must not make a reader do: follow a link to /dev/zero, block on a
# FIFO, or fill memory. Training writes regular files only, far below these caps.
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILE_BYTES = 4 << 30
MAX_MODEL_CONFIG_BYTES = 16 << 20  # config.json inside model.keras


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def training_lock(artifacts_dir: Path, wait: float | bool = False) -> Iterator[None]:
    """Serialise trainings. ``wait``: False fails at once, True waits forever, or seconds."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    timeout = -1 if wait is True else (0 if wait is False else float(wait))
    lock = FileLock(str(artifacts_dir / LOCK))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise TrainingLockedError(
            f"{artifacts_dir}: another training is writing a bundle here; "
            "wait for it to finish (or pass --wait)"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bundle(artifacts_dir: Path, writers: dict[str, FileWriter], manifest: dict) -> Path:
    """Write a new bundle and make it current. Call while holding ``training_lock``.

    ``writers`` maps each file name to a function that writes it; the manifest gets
    the schema version, a creation time, the bundle id and every file's sha256.
    """
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    bundle_id = f"{BUNDLE_PREFIX}{stamp}"
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=artifacts_dir))
    try:
        for name, writer in writers.items():
            writer(tmp / name)
        files = {name: sha256_file(tmp / name) for name in sorted(writers)}
        full_manifest = {
            "schema_version": SCHEMA_VERSION,
            "bundle_id": bundle_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **manifest,
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(full_manifest, indent=1, sort_keys=True))
        for path in tmp.iterdir():
            with open(path, "rb") as stream:
                os.fsync(stream.fileno())
        _fsync_dir(tmp)
        final = artifacts_dir / bundle_id
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer_tmp = artifacts_dir / f"{TMP_PREFIX}{CURRENT}-{os.getpid()}"
    pointer_tmp.write_text(bundle_id + "\n")
    with open(pointer_tmp, "rb") as stream:
        os.fsync(stream.fileno())
    previous = _current_name(artifacts_dir, strict=False)
    os.replace(pointer_tmp, artifacts_dir / CURRENT)
    _fsync_dir(artifacts_dir)
    _collect_garbage(artifacts_dir, keep={bundle_id, previous})
    return final


def _current_name(artifacts_dir: Path, strict: bool = True) -> str | None:
    """The bundle name in CURRENT, or None. A CURRENT that is no regular file raises
    BundleError when ``strict``; a training (not strict) just replaces it."""
    try:
        raw = read_regular(artifacts_dir / CURRENT, 4096)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except BundleError:
        if strict:
            raise
        return None
    return raw.decode("utf-8", errors="replace").strip() or None


def _collect_garbage(artifacts_dir: Path, keep: set[str | None]) -> None:
    """Remove older bundles (the current and the previous stay) and leftover temp folders."""
    for path in artifacts_dir.iterdir():
        if path.name in keep or path.name in (CURRENT, LOCK, "README.md"):
            continue
        if path.name.startswith(BUNDLE_PREFIX) or path.name.startswith(TMP_PREFIX):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def current_bundle(artifacts_dir: Path) -> Path:
    """The folder named by CURRENT; MissingBundleError when none was trained yet."""
    name = _current_name(artifacts_dir)
    if name is None:
        raise MissingBundleError(
            artifacts_dir, "no trained bundle yet; run `python -m recsys train`"
        )
    if "/" in name or "\\" in name or not name.startswith(BUNDLE_PREFIX):
        raise BundleError(artifacts_dir / CURRENT, f"names an invalid bundle {name[:60]!r}")
    bundle = artifacts_dir / name
    if not bundle.is_dir():
        raise BundleError(bundle, "the bundle named in CURRENT is missing; retrain")
    return bundle


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path``, which must be a regular file (not a link, FIFO or device)
    of at most ``max_bytes`` bytes; BundleError otherwise, at once.

    The file is opened without following a link and without blocking (a FIFO with no
    writer would wait forever), then checked on the open descriptor, so it cannot be
    swapped between the check and the read. FileNotFoundError passes through.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as err:  # ELOOP: a symbolic link; others: unreadable
        why = "is a symbolic link" if path.is_symlink() else f"cannot be opened ({err.strerror})"
        raise BundleError(path, f"{why}; refusing the bundle, retrain") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(path, "is not a regular file; refusing the bundle, retrain")
        if info.st_size > max_bytes:
            raise BundleError(
                path, f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte cap; retrain"
            )
        content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise BundleError(path, f"grew past the {max_bytes:,}-byte cap while read; retrain")
    return content


def _parse_json(path: Path, raw: bytes | str) -> object:
    """JSON from a bundle file; BundleError when damaged or nested too deep to parse."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(path, "is not valid JSON; the bundle is damaged") from None
    except RecursionError:
        raise BundleError(path, "is nested too deeply to be a bundle's JSON; retrain") from None


def read_manifest(bundle: Path) -> tuple[dict, bytes]:
    """The parsed manifest and its raw bytes; checks presence and schema version."""
    path = bundle / MANIFEST
    try:
        raw = read_regular(path, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        raise BundleError(bundle, "manifest.json is missing; the bundle is incomplete") from None
    manifest = _parse_json(path, raw)
    if not isinstance(manifest, dict):
        raise BundleError(path, "is not a JSON object; the bundle is damaged")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            path, f"schema version {version!r}, this program reads {SCHEMA_VERSION}; retrain"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(BUNDLE_FILES):
        raise BundleError(path, "does not list the bundle's files; the bundle is damaged")
    return manifest, raw


def manifest_hash(raw_manifest: bytes) -> str:
    """The bundle's identity: sha256 of manifest.json, which lists every file's sha256."""
    return sha256_bytes(raw_manifest)


def read_verified(bundle: Path, names: tuple[str, ...]) -> tuple[dict, str, dict[str, bytes]]:
    """(manifest, manifest hash, {name: bytes}) after checking every file's sha256.

    Only ``names`` are returned, but every listed file is checked, so a bundle with
    any damaged file is refused as a whole.
    """
    manifest, raw = read_manifest(bundle)
    contents: dict[str, bytes] = {}
    for name, expected in manifest["files"].items():
        path = bundle / name
        try:
            content = read_regular(path, MAX_FILE_BYTES)
        except FileNotFoundError:
            raise BundleError(bundle, f"{name} is missing; retrain") from None
        if sha256_bytes(content) != expected:
            raise BundleError(path, "does not match its checksum (damaged or edited); retrain")
        if name == "model.keras":
            check_model_config(path, content)
        if name in names:
            contents[name] = content
    return manifest, manifest_hash(raw), contents


def check_model_config(model_path: Path, content: bytes) -> None:
    """Refuse a ``.keras`` file whose config holds a Lambda layer (arbitrary code).

    Reads the archive's config.json without Keras, so serving never imports TensorFlow.
    """
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if archive.getinfo("config.json").file_size > MAX_MODEL_CONFIG_BYTES:
                raise BundleError(model_path, "holds an oversized config.json; retrain")
            raw = archive.read("config.json")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError):
        raise BundleError(model_path, "is not a readable .keras archive; retrain") from None
    config = _parse_json(model_path, raw)
    try:
        lambda_layer = any(name == "Lambda" for name in _class_names(config))
    except RecursionError:
        raise BundleError(model_path, "holds a config nested too deeply; retrain") from None
    if lambda_layer:
        raise BundleError(model_path, "holds a Lambda layer (code); refusing to load it")


def _class_names(node) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str):
            yield node["class_name"]
        for value in node.values():
            yield from _class_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _class_names(value)


def check_fresh(
    manifest: dict, data_fingerprint: str | None = None, config: dict | None = None
) -> None:
    """StaleBundleError when the bundle came from other data or another config."""
    if data_fingerprint is not None and manifest.get("data", {}).get("fingerprint") != (
        data_fingerprint
    ):
        raise StaleBundleError(
            manifest.get("bundle_id", "bundle"),
            "was trained on other data than the current dataset; retrain",
        )
    if config is not None:
        saved = manifest.get("config", {})
        differs = sorted(k for k in config if saved.get(k) != config[k])
        if differs:
            raise StaleBundleError(
                manifest.get("bundle_id", "bundle"),
                f"was trained with another config ({', '.join(differs)}); retrain",
            )
