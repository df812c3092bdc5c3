"""The Model page's way back and the quality gate, through AppTest: "Serve the previous
model" serves the older kept bundle; a clearly worse retrain is kept but not served
until "Serve it anyway" is pressed."""

from __future__ import annotations

import shutil

from recsys.model.bundle import store as artifacts
from tests.dashboard.apptest import ok, open_app, texts, wait_for_jobs
from tests.e2e.app_data import copy_bundle


def _second_bundle(folder):
    """A copy of the served lab bundle written as a newer bundle (and served)."""
    source = artifacts.current_bundle(folder, "lab")
    manifest, _ = artifacts.read_manifest(source)
    keep = {k: v for k, v in manifest.items() if k not in ("files", "bundle_id", "created")}
    keep.pop("schema_version")
    writers = {
        name: (lambda path, name=name: shutil.copyfile(source / name, path))
        for name in artifacts.BUNDLE_FILES
    }
    with artifacts.training_lock(folder):
        return source, artifacts.write_bundle(folder, writers, keep)


def test_serve_the_previous_model_rolls_back(monkeypatch, tmp_path, hostile):
    data, trained, _ = hostile
    copy = copy_bundle(trained, tmp_path / "artifacts")
    older, newer = _second_bundle(copy)
    at = open_app(monkeypatch, copy, data, "model")
    kept = next(d.value for d in at.dataframe if "served" in d.value.columns)
    assert list(kept["bundle"]) == [newer.name, older.name]
    assert list(kept["served"]) == [True, False]
    at.button(key="rollback").click()
    ok(at.run())
    assert artifacts.current_bundle(copy, "lab") == older
    assert f"Now serving {older.name}" in texts(at)
    assert at.button(key="rollback").disabled  # nothing older is kept now


def test_a_clearly_worse_retrain_waits_for_serve_it_anyway(monkeypatch, tmp_path, hostile):
    data, trained, _ = hostile
    copy = copy_bundle(trained, tmp_path / "artifacts")
    before = artifacts.current_bundle(copy, "lab")
    at = open_app(monkeypatch, copy, data, "model")
    at.radio(key="retrain_model").set_value("lab")
    # A barely trained network: one epoch at the smallest rate a browser may ask.
    next(n for n in at.number_input if n.label == "Epochs").set_value(1)
    next(n for n in at.number_input if n.label == "Learning rate").set_value(1e-5)
    next(b for b in at.button if b.label == "Train a new model").click()
    ok(at.run())  # starts the training in a child process
    wait_for_jobs(copy)
    ok(at.run())
    assert "not served" in texts(at)
    assert artifacts.current_bundle(copy, "lab") == before
    new = max(artifacts.kept_bundles(copy, "lab"), key=lambda p: p.name)
    assert new != before
    ok(at.run())  # AppTest: a widget drawn after an st.rerun() clicks from the next run
    at.button(key="serve_anyway").click()
    ok(at.run())
    assert artifacts.current_bundle(copy, "lab") == new
    assert "New model trained" in texts(at)
