"""The trained bundles on disk: atomic writes, a training lock, one served bundle per
model kind, the last few kept, and a way back.

Layout of the artifacts folder::

    CURRENT              one line: the bundle served by default (see current_bundle)
    CURRENT-hybrid       one line: the hybrid model's served bundle
    CURRENT-lab          one line: the lab network's served bundle
    .train.lock          held while a training writes or a pointer moves (file lock)
    bundle-<stamp>/      model.keras weights.npz scalers.json items.csv
                         item_embeddings.npy users.csv ratings.npz history.json
                         manifest.json ("model": "hybrid" or "lab"); each kind's
                         files are its registry entry's (the hybrid has no scalers.json)

A bundle is written to ``.tmp-*`` beside the others and renamed to ``bundle-<stamp>``;
only then may a pointer name it (each pointer is replaced atomically with
``os.replace``). A killed or failed training therefore leaves every bundle, and every
pointer, untouched. The newest ``KEEP_PER_MODEL`` bundles of each kind are kept (and
every served one), so ``rollback`` can serve the previous one; older ones are removed.
``CURRENT`` always names the default: the served bundle of the first kind in
``config.MODELS`` that has one (the hybrid when trained), so readers of the single
pointer keep working. A folder from before per-model pointers has only ``CURRENT``:
its bundle counts as the served one of its kind until a pointer of that kind is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from recsys.config import MODELS
from recsys.errors import BundleError, MissingBundleError, TrainingLockedError, UsageError
from recsys.model.bundle.manifest import Manifest
from recsys.model.bundle.verify import (
    BUNDLE_FILES,
    MANIFEST,
    MAX_FILE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MODEL_CONFIG_BYTES,
    SCHEMA_VERSION,
    bundle_kind,
    check_fresh,
    check_model_config,
    manifest_hash,
    read_manifest,
    read_regular,
    read_verified,
    sha256_bytes,
    sha256_file,
)

__all__ = [
    "BUNDLE_FILES",
    "BUNDLE_PREFIX",
    "CURRENT",
    "KEEP_PER_MODEL",
    "MANIFEST",
    "MAX_FILE_BYTES",
    "MAX_MANIFEST_BYTES",
    "MAX_MODEL_CONFIG_BYTES",
    "SCHEMA_VERSION",
    "bundle_kind",
    "check_fresh",
    "check_model_config",
    "current_bundle",
    "kept_bundles",
    "manifest_hash",
    "pointer_name",
    "previous_bundle",
    "read_manifest",
    "read_regular",
    "read_verified",
    "rollback",
    "serve_bundle",
    "sha256_bytes",
    "sha256_file",
    "trained_models",
    "training_lock",
    "write_bundle",
]

CURRENT = "CURRENT"
LOCK = ".train.lock"
BUNDLE_PREFIX = "bundle-"
TMP_PREFIX = ".tmp-"
KEEP_PER_MODEL = 3  # bundles kept of each model kind (the served ones are kept too)
_MAX_POINTER_BYTES = 4096

# Writes one file into the given folder.
FileWriter = Callable[[Path], None]


@contextlib.contextmanager
def training_lock(artifacts_dir: Path, wait: float | bool = False) -> Iterator[None]:
    """Serialise trainings. ``wait``: False fails at once, True waits forever, or seconds."""
    if artifacts_dir.exists() and not artifacts_dir.is_dir():
        raise BundleError(artifacts_dir, "is a file, not a folder; give the artifacts a folder")
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


def write_bundle(
    artifacts_dir: Path,
    writers: dict[str, FileWriter],
    manifest: Manifest | Mapping,
    *,
    make_current: bool = True,
) -> Path:
    """Write a new bundle and (``make_current``) serve it as the current bundle of its
    kind (``manifest.model``). Call while holding ``training_lock``.

    ``writers`` maps each file name to a function that writes it; the manifest (a
    ``Manifest``, or its JSON as tests write it, read by ``Manifest.from_json``) gets
    the schema version, a creation time, the bundle id and every file's sha256. A
    bundle not made current is kept all the same (``serve_bundle`` serves it later).
    """
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    bundle_id = f"{BUNDLE_PREFIX}{stamp}"
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=artifacts_dir))
    try:
        for name, writer in writers.items():
            writer(tmp / name)
        files = {name: sha256_file(tmp / name) for name in sorted(writers)}
        full_manifest = replace(
            Manifest.from_json(manifest),
            schema_version=SCHEMA_VERSION,
            bundle_id=bundle_id,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            files=files,
        )
        text = json.dumps(full_manifest.to_json(), indent=1, sort_keys=True)
        (tmp / MANIFEST).write_text(text)
        for path in tmp.iterdir():
            with open(path, "rb") as stream:
                os.fsync(stream.fileno())
        _fsync_dir(tmp)
        final = artifacts_dir / bundle_id
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if make_current:
        _point(artifacts_dir, full_manifest.model, bundle_id)
    _collect_garbage(artifacts_dir)
    return final


# ---------------------------------------------------------------------------- pointers


def pointer_name(model: str | None = None) -> str:
    """``CURRENT`` (the default) or ``CURRENT-<model>``; UsageError for an unknown model."""
    if model is None:
        return CURRENT
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return f"{CURRENT}-{model}"


def _write_pointer(artifacts_dir: Path, name: str, bundle_id: str) -> None:
    """Replace the pointer file ``name`` atomically with one line naming ``bundle_id``.

    The temporary file gets a fresh random name and is created exclusively (``mkstemp``:
    ``O_CREAT|O_EXCL``, which never follows a link), so a link planted in the folder
    cannot make this write through it into another file.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{name}-", dir=artifacts_dir)
    pointer_tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(bundle_id + "\n")
            os.fchmod(stream.fileno(), 0o644)  # mkstemp's 0600 would hide it from readers
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(pointer_tmp, artifacts_dir / name)
    except BaseException:
        pointer_tmp.unlink(missing_ok=True)
        raise


def _point(artifacts_dir: Path, model: str, bundle_id: str) -> None:
    """Serve ``bundle_id`` as ``model``'s bundle, then re-point CURRENT at the default.
    Call under the training lock."""
    _adopt_legacy(artifacts_dir)
    _write_pointer(artifacts_dir, pointer_name(model), bundle_id)
    for kind in MODELS:
        default = _pointer_value(artifacts_dir, pointer_name(kind), strict=False)
        if default is not None:
            _write_pointer(artifacts_dir, CURRENT, default)
            break
    _fsync_dir(artifacts_dir)


def _adopt_legacy(artifacts_dir: Path) -> None:
    """A folder from before per-model pointers: its CURRENT bundle becomes the served
    one of its kind, so serving another kind does not drop it."""
    if any((artifacts_dir / pointer_name(kind)).exists() for kind in MODELS):
        return
    name = _pointer_value(artifacts_dir, CURRENT, strict=False)
    if name is None or not _valid_name(name):
        return
    try:
        kind = read_manifest(artifacts_dir / name)[0].model
    except BundleError:
        return
    if kind in MODELS:
        _write_pointer(artifacts_dir, pointer_name(kind), name)


def _pointer_value(artifacts_dir: Path, name: str, strict: bool = True) -> str | None:
    """The bundle name in the pointer file ``name``, or None when there is none. A
    pointer that is no regular file raises BundleError when ``strict``; a training (not
    strict) just replaces it."""
    try:
        raw = read_regular(artifacts_dir / name, _MAX_POINTER_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except BundleError:
        if strict:
            raise
        return None
    return raw.decode("utf-8", errors="replace").strip() or None


def _valid_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and name.startswith(BUNDLE_PREFIX)


def _named_bundle(artifacts_dir: Path, pointer: str, name: str) -> Path:
    if not _valid_name(name):
        raise BundleError(artifacts_dir / pointer, f"names an invalid bundle {name[:60]!r}")
    bundle = artifacts_dir / name
    if not bundle.is_dir():
        raise BundleError(bundle, f"the bundle named in {pointer} is missing; retrain")
    return bundle


def current_bundle(artifacts_dir: Path, model: str | None = None) -> Path:
    """The served bundle folder of ``model`` ("hybrid" or "lab"), or with ``None`` the
    default one: the bundle named by CURRENT, which is the served bundle of the first
    model of ``config.MODELS`` that has one (the hybrid when trained, else the lab).

    MissingBundleError when none was trained yet; BundleError when the pointer is
    damaged or names a missing bundle.
    """
    pointer = pointer_name(model)
    name = _pointer_value(artifacts_dir, pointer)
    if name is None and model is not None:
        # A folder from before per-model pointers: CURRENT's bundle, if of this kind.
        legacy = _pointer_value(artifacts_dir, CURRENT)
        if legacy is not None:
            bundle = _named_bundle(artifacts_dir, CURRENT, legacy)
            if read_manifest(bundle)[0].model == model:
                return bundle
    if name is None:
        how = "python -m recsys train" + (f" --model {model}" if model else "")
        what = f"no trained {model} bundle yet" if model else "no trained bundle yet"
        raise MissingBundleError(artifacts_dir, f"{what}; run `{how}`")
    return _named_bundle(artifacts_dir, pointer, name)


def trained_models(artifacts_dir: Path) -> tuple[str, ...]:
    """The model kinds that have a served bundle, in ``config.MODELS`` order. A kind
    whose pointer is damaged is listed (loading it then says what is wrong)."""
    kinds = []
    for kind in MODELS:
        try:
            current_bundle(artifacts_dir, kind)
        except MissingBundleError:
            continue
        except BundleError:
            pass
        kinds.append(kind)
    return tuple(kinds)


# ---------------------------------------------------------------------------- kept bundles


def _bundle_dirs(artifacts_dir: Path) -> list[Path]:
    """Every ``bundle-*`` folder, oldest first (the names hold the UTC creation stamp)."""
    if not artifacts_dir.is_dir():
        return []
    found = [
        p
        for p in artifacts_dir.iterdir()
        if p.name.startswith(BUNDLE_PREFIX) and p.is_dir() and not p.is_symlink()
    ]
    return sorted(found, key=lambda p: p.name)


def _kind_of(bundle: Path) -> str | None:
    try:
        return read_manifest(bundle)[0].model
    except BundleError:
        return None


def kept_bundles(artifacts_dir: Path, model: str) -> list[Path]:
    """The bundles of ``model`` kept on disk, oldest first (served or not)."""
    pointer_name(model)  # checks the name
    return [b for b in _bundle_dirs(artifacts_dir) if _kind_of(b) == model]


def _served_names(artifacts_dir: Path) -> set[str]:
    names = {_pointer_value(artifacts_dir, pointer_name(k), strict=False) for k in MODELS}
    names.add(_pointer_value(artifacts_dir, CURRENT, strict=False))
    return {n for n in names if n}


def _collect_garbage(artifacts_dir: Path) -> None:
    """Remove all but the newest KEEP_PER_MODEL bundles of each kind (a bundle whose
    manifest cannot be read counts as a kind of its own), never a served one, and any
    leftover temporary files."""
    keep = _served_names(artifacts_dir)
    by_kind: dict[str | None, list[Path]] = {}
    for bundle in _bundle_dirs(artifacts_dir):
        by_kind.setdefault(_kind_of(bundle), []).append(bundle)
    for bundles in by_kind.values():
        keep.update(b.name for b in bundles[-KEEP_PER_MODEL:])
    for path in artifacts_dir.iterdir():
        if path.name in keep:
            continue
        if path.name.startswith(BUNDLE_PREFIX) or path.name.startswith(TMP_PREFIX):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- the way back


def previous_bundle(artifacts_dir: Path, model: str) -> Path | None:
    """The newest kept bundle of ``model`` older than its served one, or None."""
    served = current_bundle(artifacts_dir, model)
    older = [b for b in kept_bundles(artifacts_dir, model) if b.name < served.name]
    return older[-1] if older else None


def serve_bundle(artifacts_dir: Path, bundle: str | Path, wait: float | bool = False) -> Path:
    """Serve the kept bundle ``bundle`` (a name in ``artifacts_dir`` or its path) as the
    current bundle of its kind, after checking every file's sha256. Takes the training
    lock; BundleError when it is not a whole bundle of this folder."""
    with training_lock(artifacts_dir, wait=wait):
        return _serve(artifacts_dir, Path(bundle).name)


def _serve(artifacts_dir: Path, name: str) -> Path:
    folder = _named_bundle(artifacts_dir, "the request", name)
    manifest, _, _ = read_verified(folder, ())
    kind = manifest.model
    pointer_name(kind)  # a kind this program serves
    _point(artifacts_dir, kind, name)
    return folder


def rollback(artifacts_dir: Path, model: str | None = None, wait: float | bool = False) -> Path:
    """Serve the previous kept bundle of ``model`` (None: the default's kind) under the
    training lock; returns it. UsageError, in one line, when there is none."""
    with training_lock(artifacts_dir, wait=wait):
        if model is None:
            model = read_manifest(current_bundle(artifacts_dir))[0].model
        previous = previous_bundle(artifacts_dir, model)
        if previous is None:
            raise UsageError(
                f"{artifacts_dir}: no older {model} bundle is kept to roll back to "
                f"(the last {KEEP_PER_MODEL} of each model are kept)"
            )
        return _serve(artifacts_dir, previous.name)
