"""Reading a bundle safely: regular files under a size cap, JSON that cannot blow the
stack, every file checked against the manifest's sha256, no Lambda layer in the Keras
file, and whether a bundle is fresh for the current data and config.

The checksums detect damage (a disk error, a half-copied or edited file), not forgery:
whoever can write the artifacts folder can write a manifest to match, since nothing is
signed. A forged bundle is kept from running code by the other checks (no pickle, no
Lambda layer, Keras' safe mode, regular files under size caps), not by the checksums.

``recsys.model.bundle`` re-exports these names; import them from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from recsys.errors import BundleError, StaleBundleError
from recsys.model.bundle.manifest import SCHEMA_VERSION, Manifest

MANIFEST = "manifest.json"

# Every name a bundle's file may have (each kind writes its own of them: the registry,
# recsys.model.kinds, says which); a manifest listing another name is refused.
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


def read_manifest(bundle: Path) -> tuple[Manifest, bytes]:
    """The manifest and its raw bytes; checks presence, schema version and file list."""
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
    if not isinstance(files, dict) or not files or not set(files) <= set(BUNDLE_FILES):
        raise BundleError(path, "does not list the bundle's files; the bundle is damaged")
    try:
        return Manifest.from_json(manifest), raw
    except ValueError as err:
        raise BundleError(path, f"is damaged ({err}); retrain") from None


def manifest_hash(raw_manifest: bytes) -> str:
    """The bundle's identity: sha256 of manifest.json, which lists every file's sha256."""
    return sha256_bytes(raw_manifest)


def read_verified(bundle: Path, names: tuple[str, ...]) -> tuple[Manifest, str, dict[str, bytes]]:
    """(manifest, manifest hash, {name: bytes}) after checking every file's sha256.

    Only ``names`` are returned, but every listed file is checked, so a bundle with
    any damaged file is refused as a whole.
    """
    manifest, raw = read_manifest(bundle)
    contents: dict[str, bytes] = {}
    for name, expected in manifest.files.items():
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
    manifest: Mapping, data_fingerprint: str | None = None, config: dict | None = None
) -> None:
    """StaleBundleError when the bundle came from other data or another config."""
    manifest = Manifest.from_json(manifest)
    name = manifest.bundle_id or "bundle"
    if data_fingerprint is not None and manifest.fingerprint != data_fingerprint:
        raise StaleBundleError(name, "was trained on other data than the current dataset; retrain")
    if config is not None:
        differs = sorted(k for k in config if manifest.config.get(k) != config[k])
        if differs:
            raise StaleBundleError(
                name, f"was trained with another config ({', '.join(differs)}); retrain"
            )


def bundle_kind(manifest: Mapping) -> str:
    """The model kind a manifest describes (``Manifest.from_json`` fills it in for
    bundles from before the hybrid model)."""
    return Manifest.from_json(manifest).model
