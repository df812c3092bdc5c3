"""Training writes a verified bundle, and a damaged one is refused.

The tests of what the numpy Recommender answers live in tests/serving/.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.errors import BundleError, MissingBundleError, StaleBundleError, TrainingLockedError
from recsys.model.bundle import store as artifacts
from recsys.model.kinds import model_kind
from recsys.model.lab.train import train_bundle
from recsys.serving.recommender import Recommender
from tests.helpers import train_small_bundle


@pytest.fixture(scope="module")
def lab_bundle(real_data, tmp_path_factory):
    artifacts_dir = tmp_path_factory.mktemp("artifacts")
    report = train_small_bundle(real_data, artifacts_dir, epochs=2)
    return artifacts_dir, report


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != artifacts.LOCK
    }


def test_bundle_holds_every_file_with_its_checksum(lab_bundle):
    artifacts_dir, report = lab_bundle
    bundle = artifacts.current_bundle(artifacts_dir)
    assert bundle == report.bundle
    manifest, _ = artifacts.read_manifest(bundle)
    assert set(manifest["files"]) == set(model_kind("lab").bundle_files)
    for name, digest in manifest["files"].items():
        assert artifacts.sha256_file(bundle / name) == digest
    assert manifest["config"]["preset"] == "lab"
    assert manifest["data"]["fingerprint"] == load_movielens(os.environ["RECSYS_DATA"]).fingerprint
    assert {"numpy", "keras", "tensorflow"} <= set(manifest["versions"])
    assert manifest["metrics"]["test_mse"] == pytest.approx(report.metrics["test_mse"])
    items_header = (bundle / "items.csv").read_text().splitlines()[0].split(",")
    assert items_header[:4] == ["movieId", "title", "year", "ave rating"]
    assert np.load(bundle / "item_embeddings.npy").shape == (report.counts["items"], 32)


def test_saved_model_has_the_lab_parameter_count_and_no_lambda(lab_bundle):
    from recsys.model.lab.network import load_model

    bundle = artifacts.current_bundle(lab_bundle[0])
    model = load_model(bundle / "model.keras")
    assert model.count_params() == 82_240
    assert "Lambda" not in json.dumps(model.get_config())


def test_tampered_file_is_refused(lab_bundle, tmp_path):
    copy = tmp_path / "artifacts"
    shutil.copytree(lab_bundle[0], copy)
    bundle = artifacts.current_bundle(copy)
    items = bundle / "items.csv"
    items.write_text(items.read_text().replace("Shrek", "Shrek!"))
    with pytest.raises(BundleError, match=r"items.csv: does not match its checksum"):
        Recommender.load(copy)


def test_missing_manifest_and_wrong_schema_are_refused(lab_bundle, tmp_path):
    copy = tmp_path / "artifacts"
    shutil.copytree(lab_bundle[0], copy)
    manifest_path = artifacts.current_bundle(copy) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="schema version 99"):
        Recommender.load(copy)
    manifest_path.unlink()
    with pytest.raises(BundleError, match="manifest.json is missing"):
        Recommender.load(copy)


def test_no_bundle_yet_is_reported(tmp_path):
    with pytest.raises(MissingBundleError, match="no trained bundle yet"):
        Recommender.load(tmp_path)


def test_bundle_from_other_data_is_stale(lab_bundle):
    bundle = artifacts.current_bundle(lab_bundle[0])
    manifest, _ = artifacts.read_manifest(bundle)
    artifacts.check_fresh(manifest, manifest["data"]["fingerprint"])
    with pytest.raises(StaleBundleError, match="other data"):
        artifacts.check_fresh(manifest, "0" * 64)
    with pytest.raises(StaleBundleError, match="another config"):
        artifacts.check_fresh(manifest, config={"preset": "full"})


def test_failed_training_keeps_the_previous_bundle(lab_bundle, tmp_path, monkeypatch):
    copy = tmp_path / "artifacts"
    shutil.copytree(lab_bundle[0], copy)
    before = _snapshot(copy)
    from recsys.model.lab import network as two_tower

    def broken_save(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(two_tower.keras.Model, "save", broken_save)
    dataset = load_movielens(os.environ["RECSYS_DATA"])
    with pytest.raises(OSError, match="disk full"):
        train_bundle(dataset, recipe_config("fast", epochs=1), copy)
    assert _snapshot(copy) == before
    assert not [p for p in copy.iterdir() if p.name.startswith(artifacts.TMP_PREFIX)]


def test_a_second_training_fails_clearly_while_one_holds_the_lock(tmp_path, real_data):
    dataset = load_movielens(real_data)
    with artifacts.training_lock(tmp_path):
        with pytest.raises(TrainingLockedError, match="another training"):
            train_bundle(dataset, recipe_config("fast", epochs=1), tmp_path)
    assert not (tmp_path / artifacts.CURRENT).exists()


def test_same_seed_same_metrics(real_data, tmp_path):
    first = train_small_bundle(real_data, tmp_path / "a", epochs=1)
    second = train_small_bundle(real_data, tmp_path / "b", epochs=1)
    assert first.metrics["test_mse"] == pytest.approx(second.metrics["test_mse"], abs=1e-6)
    assert first.metrics["train_mse"] == pytest.approx(second.metrics["train_mse"], abs=1e-6)
    np.testing.assert_allclose(
        np.load(first.bundle / "item_embeddings.npy"),
        np.load(second.bundle / "item_embeddings.npy"),
        atol=1e-6,
    )
