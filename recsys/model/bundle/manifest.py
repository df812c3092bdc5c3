"""A bundle's ``manifest.json`` as a typed, frozen value.

``Manifest.from_json`` is the one place that reads the JSON and fills in what bundles of
older layouts lack (no ``model``: the lab's network; no ``training``, ``validation`` or
``gate``: empty). ``training_manifest`` is the one place a training of either kind
builds one; ``write_bundle`` adds the schema version, the bundle id, the creation time
and every file's sha256.

A ``Manifest`` is also a read-only mapping over its JSON form (``manifest["config"]``,
``manifest.get("metrics")``), so code that reads manifests as JSON keeps working.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recsys.dataset.movielens import MovieLens

SCHEMA_VERSION = 1
LEGACY_KIND = "lab"  # bundles from before the hybrid model name no kind: they are the lab's

# The JSON objects a manifest holds, each read as a dict ({} when absent).
_OBJECTS = ("config", "training", "versions", "metrics", "counts")
# The JSON objects that are absent (None) in bundles from before the quality gate.
_OPTIONAL_OBJECTS = ("validation", "gate")


@dataclass(frozen=True)
class Manifest(Mapping):
    """What ``manifest.json`` says about one bundle.

    model: the kind (``"hybrid"``, ``"lab"``); config: the training's config (and, for
    the lab, its feature preset under ``features``); training: how it was spread over
    workers; source / fingerprint: the data it was trained on; versions: the libraries
    that made it; metrics, counts: the training's figures; architecture: the network's
    layers as rows; protocol: the split its metrics come from (None: no test split);
    validation, gate: the quality gate's slice and verdict; files: {name: sha256}.
    """

    model: str
    config: dict
    source: str
    fingerprint: str
    training: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    architecture: list = field(default_factory=list)
    protocol: str | None = None
    validation: dict | None = None
    gate: dict | None = None
    schema_version: int = SCHEMA_VERSION
    bundle_id: str = ""
    created: str = ""
    files: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: Mapping) -> Manifest:
        """The manifest a parsed ``manifest.json`` describes, older layouts' gaps filled
        in here and nowhere else. ValueError when a field has the wrong JSON type."""
        if isinstance(raw, Manifest):
            return raw
        data = raw.get("data") or {}
        objects = {name: raw.get(name) or {} for name in _OBJECTS}
        optional = {name: raw.get(name) for name in _OPTIONAL_OBJECTS}
        files = raw.get("files") or {}
        architecture = raw.get("architecture") or []
        for name, value in {**objects, **optional, "data": data, "files": files}.items():
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"its {name!r} is not a JSON object")
        if not isinstance(architecture, list):
            raise ValueError("its 'architecture' is not a list")
        return cls(
            model=str(raw.get("model") or LEGACY_KIND),
            source=str(data.get("source", "")),
            fingerprint=str(data.get("fingerprint", "")),
            architecture=architecture,
            protocol=raw.get("protocol"),
            schema_version=raw.get("schema_version", SCHEMA_VERSION),
            bundle_id=str(raw.get("bundle_id", "")),
            created=str(raw.get("created", "")),
            files=files,
            **objects,
            **optional,
        )

    @cached_property
    def _json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "bundle_id": self.bundle_id,
            "created": self.created,
            "model": self.model,
            "config": self.config,
            "training": self.training,
            "data": {"source": self.source, "fingerprint": self.fingerprint},
            "versions": self.versions,
            "metrics": self.metrics,
            "counts": self.counts,
            "architecture": self.architecture,
            "protocol": self.protocol,
            "validation": self.validation,
            "gate": self.gate,
            "files": self.files,
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``manifest.json`` holds."""
        return dict(self._json)

    # The read-only mapping over the JSON form.
    def __getitem__(self, key: str) -> Any:
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)


def training_manifest(
    model: str,
    dataset: MovieLens,
    *,
    config: dict,
    training: dict,
    metrics: dict,
    counts: dict,
    architecture: list,
    protocol: str | None,
    validation: dict,
    gate: dict,
) -> Manifest:
    """The manifest of a bundle that a training of kind ``model`` on ``dataset`` makes
    (``write_bundle`` adds its id, time and files)."""
    return Manifest(
        model=model,
        config=config,
        source=str(dataset.source),
        fingerprint=dataset.fingerprint,
        training=training,
        versions=library_versions(),
        metrics=metrics,
        counts=counts,
        architecture=architecture,
        protocol=protocol,
        validation=validation,
        gate=gate,
    )


def library_versions() -> dict[str, str]:
    """The versions that made a bundle, read from package metadata (no TensorFlow import)."""
    packages = ("numpy", "pandas", "scikit-learn", "tensorflow-cpu", "keras")
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package.removesuffix("-cpu")] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package.removesuffix("-cpu")] = "unknown"
    return versions
