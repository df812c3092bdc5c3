"""The typed manifest: older layouts' gaps filled in once, in ``Manifest.from_json``."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from recsys.errors import BundleError
from recsys.model.bundle import (
    Manifest,
    bundle_kind,
    current_bundle,
    read_manifest,
    sha256_bytes,
)
from recsys.model.bundle.gate import judge_against_served
from recsys.serving.recommender import Recommender

# What manifests gained after the first layout: the kind, the spread over workers, the
# protocol, the quality gate's slice and verdict.
LATER_KEYS = ("model", "training", "protocol", "validation", "gate")


def _legacy_copy(trained_dir, tmp_path):
    """A copy of a lab bundle whose manifest is rewritten as the first layout wrote it."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_dir, artifacts)
    path = current_bundle(artifacts) / "manifest.json"
    raw = json.loads(path.read_text())
    for key in LATER_KEYS:
        del raw[key]
    path.write_text(json.dumps(raw))
    return artifacts, raw


def test_a_manifest_of_the_first_layout_reads_as_the_labs_with_no_gate(trained_dir, tmp_path):
    artifacts, raw = _legacy_copy(trained_dir, tmp_path)
    manifest, _ = read_manifest(current_bundle(artifacts))
    assert manifest.model == "lab" and bundle_kind(raw) == "lab"
    assert (manifest.training, manifest.validation, manifest.gate) == ({}, None, None)
    assert manifest.protocol is None
    assert manifest.fingerprint == raw["data"]["fingerprint"]
    assert manifest["config"] == raw["config"]  # the JSON keys read as before


def test_a_bundle_of_the_first_layout_is_served_and_judged_against(trained_dir, tmp_path):
    artifacts, _ = _legacy_copy(trained_dir, tmp_path)
    recommender = Recommender.load(artifacts)
    assert recommender.model_kind == "lab" and recommender.manifest.model == "lab"
    verdict = judge_against_served(artifacts, "lab", {"rmse_stars": 1.0}, force=False)
    assert verdict.serve  # a served bundle made before the gate is no reference


def test_a_manifest_field_of_the_wrong_json_type_is_refused_with_retrain(trained_dir, tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_dir, artifacts)
    path = current_bundle(artifacts) / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "config": ["lab"]}))
    with pytest.raises(BundleError, match="'config' is not a JSON object.*retrain"):
        read_manifest(path.parent)


def test_the_manifest_is_frozen_and_round_trips_through_its_json(trained_dir):
    manifest, raw = read_manifest(current_bundle(trained_dir))
    assert manifest.to_json() == json.loads(raw)
    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(dataclasses.FrozenInstanceError):
        manifest.model = "hybrid"  # type: ignore[misc]


# ------------------------------------------------------------------ each kind's files


@pytest.fixture(scope="module")
def hybrid_dir(good_data, tmp_path_factory):
    """An artifacts folder with one small hybrid bundle (no scalers.json)."""
    from recsys.config import hybrid_config
    from recsys.dataset.movielens import load_movielens
    from recsys.model.kinds import train

    folder = tmp_path_factory.mktemp("hybrid")
    train(load_movielens(good_data), hybrid_config(epochs=1), folder)
    return folder


def _relist(bundle, add: dict[str, bytes] = {}, drop: tuple[str, ...] = ()):  # noqa: B006
    """Add files to a bundle (or drop them) and list them in its manifest, checksums
    and all, as a writer of that layout would have."""
    path = bundle / "manifest.json"
    raw = json.loads(path.read_text())
    for name, content in add.items():
        (bundle / name).write_bytes(content)
        raw["files"][name] = sha256_bytes(content)
    for name in drop:
        (bundle / name).unlink()
        del raw["files"][name]
    path.write_text(json.dumps(raw))


def test_a_hybrid_bundle_of_the_previous_layout_with_scalers_still_loads(
    trained_dir, hybrid_dir, tmp_path
):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(hybrid_dir, artifacts)
    bundle = current_bundle(artifacts)
    assert "scalers.json" not in read_manifest(bundle)[0].files
    scalers = (current_bundle(trained_dir) / "scalers.json").read_bytes()
    _relist(bundle, add={"scalers.json": scalers})  # as the hybrid wrote them before
    recommender = Recommender.load(artifacts)
    assert recommender.model_kind == "hybrid"
    assert len(recommender.for_new_user({"Comedy": 5.0}, top=5)) == 5


def test_a_bundle_lacking_a_file_of_its_kind_is_refused_with_retrain(trained_dir, tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_dir, artifacts)
    _relist(current_bundle(artifacts), drop=("scalers.json",))  # the lab's network needs them
    with pytest.raises(BundleError, match="lacks scalers.json; retrain"):
        Recommender.load(artifacts)


def test_a_manifest_listing_a_file_no_kind_writes_is_refused(trained_dir, tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained_dir, artifacts)
    _relist(current_bundle(artifacts), add={"notes.txt": b"x"})
    with pytest.raises(BundleError, match="does not list the bundle's files"):
        Recommender.load(artifacts)
