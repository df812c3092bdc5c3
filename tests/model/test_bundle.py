"""Training writes a verified bundle; the numpy Recommender serves it like Keras does."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from recsys.columns import ITEM_VECTOR_COLUMNS, PREDICTED
from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.errors import BundleError, MissingBundleError, StaleBundleError, TrainingLockedError
from recsys.model import bundle as artifacts
from recsys.model.train import train_bundle
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
    assert set(manifest["files"]) == set(artifacts.BUNDLE_FILES)
    for name, digest in manifest["files"].items():
        assert artifacts.sha256_file(bundle / name) == digest
    assert manifest["config"]["preset"] == "lab"
    assert manifest["data"]["fingerprint"] == load_movielens(os.environ["RECSYS_DATA"]).fingerprint
    assert {"numpy", "keras", "tensorflow"} <= set(manifest["versions"])
    assert manifest["metrics"]["test_mse"] == pytest.approx(report.test_mse)
    items_header = (bundle / "items.csv").read_text().splitlines()[0].split(",")
    assert items_header[:4] == ["movieId", "title", "year", "ave rating"]
    assert np.load(bundle / "item_embeddings.npy").shape == (report.counts["items"], 32)


def test_saved_model_has_the_lab_parameter_count_and_no_lambda(lab_bundle):
    from recsys.model.network import load_model

    bundle = artifacts.current_bundle(lab_bundle[0])
    model = load_model(bundle / "model.keras")
    assert model.count_params() == 82_240
    assert "Lambda" not in json.dumps(model.get_config())


def test_numpy_predictions_equal_keras_predictions(lab_bundle):
    from recsys.model.network import load_model, predict

    bundle = artifacts.current_bundle(lab_bundle[0])
    recommender = Recommender.load(lab_bundle[0])
    model = load_model(bundle / "model.keras")
    item_vecs = recommender.items[list(ITEM_VECTOR_COLUMNS)].to_numpy(float)
    scaled_items = recommender.scalers.scale_items(item_vecs)[:, 1:]
    for genre_ratings in ({"Adventure": 5, "Fantasy": 5}, {"Horror": 1, "Drama": 4.5}):
        user = recommender.new_user_vector(genre_ratings)
        scaled_user = recommender.scalers.scale_users(user[None, :])[:, 3:]
        keras_stars = recommender.scalers.unscale_target(
            predict(model, np.repeat(scaled_user, len(item_vecs), axis=0), scaled_items)
        )
        np.testing.assert_allclose(recommender.predict_stars(user), keras_stars, atol=1e-5)
    user_id = int(recommender.user_ids[0])
    rated = recommender.for_user(user_id).rated
    scaled_user = recommender.scalers.scale_users(recommender.user_vector(user_id)[None])[:, 3:]
    keras_stars = recommender.scalers.unscale_target(
        predict(model, np.repeat(scaled_user, len(item_vecs), axis=0), scaled_items)
    )
    rows = recommender.items.reset_index().set_index("movieId").loc[rated["movieId"], "index"]
    np.testing.assert_allclose(rated[PREDICTED], keras_stars[rows.to_numpy()], atol=1e-5)


def test_new_user_top_list_is_sorted_and_filtered(lab_bundle):
    recommender = Recommender.load(lab_bundle[0])
    fan = {"Adventure": 5, "Fantasy": 5}
    top = recommender.for_new_user(fan, top=10)
    assert len(top) == 10
    assert top[PREDICTED].is_monotonic_decreasing
    everything = recommender.predict_stars(recommender.new_user_vector(fan))
    assert top[PREDICTED].iloc[0] == pytest.approx(everything.max())
    filtered = recommender.for_new_user(
        fan,
        top=20,
        include_genres=["Comedy"],
        exclude_genres=["Drama"],
        year_range=(2005, 2010),
        min_ratings=20,
    )
    assert len(filtered) > 0
    assert filtered["genres"].str.contains("Comedy").all()
    assert not filtered["genres"].str.contains("Drama").any()
    assert filtered["year"].between(2005, 2010).all()
    assert (filtered["num ratings"] >= 20).all()


def test_similar_movies_are_the_nearest_by_squared_distance(lab_bundle):
    recommender = Recommender.load(lab_bundle[0])
    movie_id = recommender.find_movie("shrek")
    assert recommender.title_of(movie_id) == "Shrek (2001)"
    neighbours = recommender.similar(movie_id, k=5)
    emb = recommender.item_embeddings
    row = recommender.movie_row(movie_id)
    brute = ((emb - emb[row]) ** 2).sum(axis=1)
    brute[row] = np.inf
    expected = recommender.items["movieId"].to_numpy()[np.argsort(brute, kind="stable")[:5]]
    assert neighbours["movieId"].tolist() == expected.tolist()
    np.testing.assert_allclose(neighbours["distance"], np.sort(brute)[:5], atol=1e-5)


def test_nearest_table_matches_the_lab_double_loop(lab_bundle):
    recommender = Recommender.load(lab_bundle[0])
    table = recommender.nearest_table(block=100)  # several blocks
    emb = recommender.item_embeddings.astype(float)
    titles = recommender.items["title"].to_numpy()
    for i in range(0, len(emb), 97):
        distance = ((emb - emb[i]) ** 2).sum(axis=1)
        distance[i] = np.inf
        assert table["movie2"].iat[i] == titles[np.argmin(distance)]


def test_existing_user_sees_actual_and_predicted(lab_bundle):
    recommender = Recommender.load(lab_bundle[0])
    result = recommender.for_user(2, top=5)
    assert len(result.rated) == 22  # user 2 rated 22 of the lab set's movies
    assert result.rated[PREDICTED].is_monotonic_decreasing
    np.testing.assert_allclose(
        result.rated["error"], result.rated[PREDICTED] - result.rated["actual stars"]
    )
    assert result.rmse == pytest.approx(np.sqrt(np.mean(result.rated["error"] ** 2)))
    assert not set(result.unseen["movieId"]) & set(result.rated["movieId"])


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
    from recsys.model import network as two_tower

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
    assert first.test_mse == pytest.approx(second.test_mse, abs=1e-6)
    assert first.train_mse == pytest.approx(second.train_mse, abs=1e-6)
    np.testing.assert_allclose(
        np.load(first.bundle / "item_embeddings.npy"),
        np.load(second.bundle / "item_embeddings.npy"),
        atol=1e-6,
    )
