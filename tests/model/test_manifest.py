"""The typed manifest: older layouts' gaps filled in once, in ``Manifest.from_json``."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from recsys.errors import BundleError
from recsys.model.bundle import Manifest, bundle_kind, current_bundle, read_manifest
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
