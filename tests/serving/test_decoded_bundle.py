"""Decoding a verified bundle: every serving file, frozen, read-only, checked to agree."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from recsys.errors import BundleError, MissingBundleError
from recsys.model.bundle import store as artifacts
from recsys.model.lab.towers import TOWERS, weight_key
from recsys.serving.bundle import SERVING_FILES, DecodedBundle, decode_bundle
from recsys.serving.recommender import Recommender


@pytest.fixture(scope="module")
def decoded(lab_artifacts) -> DecodedBundle:
    return decode_bundle(lab_artifacts)


def test_an_artifacts_folder_or_its_bundle_decode_alike(lab_artifacts, decoded):
    bundle = artifacts.current_bundle(lab_artifacts)
    assert decoded.path == bundle
    again = decode_bundle(bundle)
    assert again.manifest_hash == decoded.manifest_hash
    np.testing.assert_array_equal(again.item_embeddings, decoded.item_embeddings)
    assert "model.keras" not in SERVING_FILES


def test_every_serving_file_is_decoded(decoded):
    assert decoded.manifest["config"]["preset"] == "lab"
    assert decoded.item_embeddings.shape == (len(decoded.items), 32)
    assert decoded.item_embeddings.dtype == np.float32
    assert decoded.item_embeddings.flags.c_contiguous
    assert {weight_key(t, 1, "kernel") for t in TOWERS} <= set(decoded.weights)
    assert list(decoded.ratings.columns) == ["userId", "movieId", "rating"]
    assert len(decoded.users) == decoded.users["userId"].nunique()
    assert decoded.history  # the training history (per-epoch losses)
    assert decoded.scalers.user_mean.shape == (17,)


def test_a_decoded_bundle_is_frozen_and_its_arrays_read_only(decoded):
    with pytest.raises(ValueError):
        decoded.item_embeddings[0, 0] = 0.0
    kernel = decoded.weights[weight_key("user_tower", 1, "kernel")]
    with pytest.raises(ValueError):
        kernel[0, 0] = 0.0
    with pytest.raises(TypeError):
        decoded.weights["extra"] = kernel  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.manifest_hash = "0" * 64  # type: ignore[misc]


def test_item_embeddings_and_items_that_disagree_are_refused(decoded):
    with pytest.raises(BundleError, match="item embeddings and items.csv disagree"):
        dataclasses.replace(decoded, item_embeddings=decoded.item_embeddings[:-1])
    with pytest.raises(BundleError, match=r"^bundle: item embeddings and items.csv disagree"):
        dataclasses.replace(decoded, path=None, items=decoded.items.iloc[:3])


def _rewrite(bundle, name: str, content: bytes) -> None:
    """Replace a bundle file and its checksum, as if the bundle had been written so."""
    (bundle / name).write_bytes(content)
    manifest_path = bundle / artifacts.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = artifacts.sha256_bytes(content)
    manifest_path.write_text(json.dumps(manifest))


def test_a_file_that_verifies_but_does_not_decode_is_one_bundle_error(lab_artifacts, tmp_path):
    copy = shutil.copytree(lab_artifacts, tmp_path / "artifacts")
    bundle = artifacts.current_bundle(copy)
    _rewrite(bundle, "scalers.json", b"{}")
    with pytest.raises(BundleError, match=r"cannot be read \('user'\); retrain$"):
        decode_bundle(copy)


def test_missing_weights_are_one_bundle_error_when_loading(lab_artifacts, tmp_path):
    copy = shutil.copytree(lab_artifacts, tmp_path / "artifacts")
    bundle = artifacts.current_bundle(copy)
    with np.load(bundle / "weights.npz") as npz:
        kept = {k: npz[k] for k in npz.files if k != weight_key("item_tower", 3, "bias")}
    np.savez(tmp_path / "weights.npz", **kept)
    _rewrite(bundle, "weights.npz", (tmp_path / "weights.npz").read_bytes())
    with pytest.raises(BundleError, match=r"cannot be read \('item_tower/3/bias'\); retrain$"):
        Recommender.load(copy)


def test_no_bundle_yet(tmp_path):
    with pytest.raises(MissingBundleError, match="no trained bundle yet"):
        decode_bundle(tmp_path)
