"""Bundles per model kind: a served pointer each, the last few kept, a way back, and the
quality gate that keeps a clearly worse model from being served."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import pytest

from recsys.config import hybrid_config, recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.errors import MissingBundleError, TrainingLockedError, UsageError
from recsys.model.bundle import store as artifacts
from recsys.model.bundle import verify
from recsys.model.bundle.gate import TOLERANCE, GateVerdict, judge, validation_rows
from recsys.model.hybrid.train import train_hybrid_bundle
from recsys.model.lab.train import train_bundle
from recsys.model.run import RunOptions
from recsys.serving.load import load_recommender
from recsys.settings import PROJECT_ROOT

# ------------------------------------------------------------------ tiny stand-in bundles


def _keras_stub(path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", "{}")
    path.write_bytes(buffer.getvalue())


def fake_bundle(folder: Path, model: str, make_current: bool = True) -> Path:
    """A bundle of ``model`` whose files verify (not a model that serves)."""
    writers = {name: (lambda path: path.write_bytes(b"x")) for name in artifacts.BUNDLE_FILES}
    writers["model.keras"] = _keras_stub
    with artifacts.training_lock(folder):
        return artifacts.write_bundle(folder, writers, {"model": model}, make_current=make_current)


def names(paths) -> list[str]:
    return [p.name for p in paths]


def test_each_model_kind_has_its_own_served_bundle(tmp_path):
    lab = fake_bundle(tmp_path, "lab")
    assert artifacts.trained_models(tmp_path) == ("lab",)
    assert artifacts.current_bundle(tmp_path) == lab  # the only kind is the default
    hybrid = fake_bundle(tmp_path, "hybrid")
    assert artifacts.current_bundle(tmp_path, "hybrid") == hybrid
    assert artifacts.current_bundle(tmp_path, "lab") == lab
    assert artifacts.current_bundle(tmp_path) == hybrid  # the hybrid is the default
    newer_lab = fake_bundle(tmp_path, "lab")
    assert artifacts.current_bundle(tmp_path, "lab") == newer_lab
    assert artifacts.current_bundle(tmp_path) == hybrid  # a lab retrain leaves it alone
    assert (tmp_path / "CURRENT").read_text().strip() == hybrid.name
    assert (tmp_path / "CURRENT-lab").read_text().strip() == newer_lab.name
    assert artifacts.trained_models(tmp_path) == ("hybrid", "lab")


def test_a_model_never_trained_is_missing_and_an_unknown_one_refused(tmp_path):
    fake_bundle(tmp_path, "lab")
    with pytest.raises(MissingBundleError, match="no trained hybrid bundle yet.*--model hybrid"):
        artifacts.current_bundle(tmp_path, "hybrid")
    with pytest.raises(UsageError, match="unknown model 'svd'"):
        artifacts.current_bundle(tmp_path, "svd")
    assert artifacts.trained_models(tmp_path / "nothing") == ()


def test_a_folder_with_only_the_old_pointer_keeps_serving_its_bundle(tmp_path):
    lab = fake_bundle(tmp_path, "lab")
    (tmp_path / "CURRENT-lab").unlink()  # as written before per-model pointers
    assert artifacts.current_bundle(tmp_path, "lab") == lab
    assert artifacts.trained_models(tmp_path) == ("lab",)
    hybrid = fake_bundle(tmp_path, "hybrid")
    # The old bundle is adopted as the lab's, not dropped or collected.
    assert artifacts.current_bundle(tmp_path, "lab") == lab
    assert artifacts.current_bundle(tmp_path) == hybrid


def test_the_last_three_of_each_kind_are_kept(tmp_path):
    labs = [fake_bundle(tmp_path, "lab") for _ in range(5)]
    hybrids = [fake_bundle(tmp_path, "hybrid") for _ in range(2)]
    assert names(artifacts.kept_bundles(tmp_path, "lab")) == names(labs[-3:])
    assert names(artifacts.kept_bundles(tmp_path, "hybrid")) == names(hybrids)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(artifacts.TMP_PREFIX)]


def test_rollback_walks_back_and_says_when_there_is_nothing_older(tmp_path):
    labs = [fake_bundle(tmp_path, "lab") for _ in range(3)]
    hybrid = fake_bundle(tmp_path, "hybrid")
    assert artifacts.rollback(tmp_path, "lab") == labs[1]
    assert artifacts.current_bundle(tmp_path, "lab") == labs[1]
    assert artifacts.rollback(tmp_path, "lab") == labs[0]
    with pytest.raises(UsageError, match="no older lab bundle is kept"):
        artifacts.rollback(tmp_path, "lab")
    assert artifacts.current_bundle(tmp_path, "lab") == labs[0]
    assert artifacts.current_bundle(tmp_path) == hybrid  # the other kind is untouched
    # A served bundle outlives the newer ones that push it out of the last three.
    newer = [fake_bundle(tmp_path, "lab", make_current=False) for _ in range(3)]
    kept = names(artifacts.kept_bundles(tmp_path, "lab"))
    assert kept == names([labs[0], *newer])
    assert artifacts.current_bundle(tmp_path, "lab") == labs[0]


def test_rollback_of_the_default_and_under_a_held_lock(tmp_path):
    first, second = fake_bundle(tmp_path, "hybrid"), fake_bundle(tmp_path, "hybrid")
    with artifacts.training_lock(tmp_path), pytest.raises(TrainingLockedError):
        artifacts.rollback(tmp_path)
    assert artifacts.current_bundle(tmp_path) == second
    assert artifacts.rollback(tmp_path) == first
    assert (tmp_path / "CURRENT").read_text().strip() == first.name


def test_a_damaged_previous_bundle_is_not_served(tmp_path):
    first, second = fake_bundle(tmp_path, "lab"), fake_bundle(tmp_path, "lab")
    (first / "items.csv").write_bytes(b"y")
    with pytest.raises(artifacts.BundleError, match="checksum"):
        artifacts.rollback(tmp_path, "lab")
    assert artifacts.current_bundle(tmp_path, "lab") == second


# ------------------------------------------------------------------ the gate, by hand

SLICE = {"rmse_stars": 0.80, "rows": 10, "of_rows": 100, "seed": 1, "fingerprint": "f"}


def test_the_gate_compares_like_with_like():
    assert judge(SLICE, None).passed  # nothing served yet
    served = {"validation": {**SLICE, "rmse_stars": 0.80}}
    within = judge({**SLICE, "rmse_stars": 0.80 * (1 + TOLERANCE) - 0.001}, served)
    assert within.passed and "within" in within.reason
    worse = judge({**SLICE, "rmse_stars": 0.80 * (1 + TOLERANCE) + 0.001}, served)
    assert not worse.passed and not worse.serve and "not served" in worse.reason
    assert worse.served_rmse == pytest.approx(0.80)
    assert not judge({**SLICE, "rmse_stars": None}, served).passed  # diverged
    assert not judge({**SLICE, "rmse_stars": math.nan}, None).passed
    other_data = {"validation": {**SLICE, "fingerprint": "g", "rmse_stars": 0.1}}
    assert judge(SLICE, other_data).passed  # another slice is no reference
    assert judge(SLICE, {"metrics": {}}).passed  # made before the gate
    assert GateVerdict(False, "worse", forced=True).serve


def test_the_validation_slice_is_fixed_and_inside_the_training_rows():
    rows = validation_rows(1_000)
    assert len(rows) == 100 and len(set(rows)) == 100 and rows.max() < 1_000
    assert (validation_rows(1_000) == rows).all()
    assert len(validation_rows(10**6)) == 5_000 and len(validation_rows(3)) == 1


# ------------------------------------------------------------------ the gate, trained


@pytest.fixture(scope="module")
def planted(synthetic_data):
    return load_movielens(synthetic_data)


def test_a_deliberately_bad_hybrid_is_kept_but_not_served_unless_forced(planted, tmp_path):
    good = train_hybrid_bundle(planted, hybrid_config(epochs=2), tmp_path)
    assert good.served and artifacts.current_bundle(tmp_path, "hybrid") == good.bundle
    bad_config = hybrid_config(epochs=1, lr=1.0)
    bad = train_hybrid_bundle(planted, bad_config, tmp_path)
    assert not bad.served and "not served" in bad.gate["reason"]
    new_rmse = bad.gate["new_rmse"]  # None when the training diverged
    assert new_rmse is None or new_rmse > bad.gate["served_rmse"] * (1 + TOLERANCE)
    assert bad.bundle.is_dir()  # written and kept
    assert artifacts.current_bundle(tmp_path, "hybrid") == good.bundle
    assert load_recommender(tmp_path, "hybrid").bundle == good.bundle
    forced = train_hybrid_bundle(planted, bad_config, tmp_path, RunOptions(force=True))
    assert forced.served and forced.gate["forced"]
    assert artifacts.current_bundle(tmp_path, "hybrid") == forced.bundle
    manifest, _ = artifacts.read_manifest(forced.bundle)
    assert manifest["gate"]["forced"] and manifest["validation"]["rows"] > 0


def test_a_lab_retrain_is_judged_against_the_served_lab_model_only(planted, tmp_path):
    hybrid = fake_bundle(tmp_path, "hybrid")
    config = recipe_config("fast", epochs=2, preset="full")
    good = train_bundle(planted, config, tmp_path)
    assert good.served and good.gate["reason"].startswith("no model of this kind")
    bad = train_bundle(planted, recipe_config("fast", epochs=1, lr=1.0, preset="full"), tmp_path)
    assert not bad.served
    assert artifacts.current_bundle(tmp_path, "lab") == good.bundle
    assert artifacts.current_bundle(tmp_path) == hybrid
    assert load_recommender(tmp_path, "lab").model_kind == "lab"


def test_a_link_planted_at_a_pointer_temp_name_is_not_written_through(tmp_path):
    # Before: the temporary pointer was ".tmp-<pointer>-<pid>", opened following links,
    # so a link planted there made serving overwrite the file it named.
    artifacts_dir = tmp_path / "artifacts"
    artifacts_dir.mkdir()
    older = fake_bundle(artifacts_dir, "lab")
    fake_bundle(artifacts_dir, "lab")
    victim = tmp_path / "victim.txt"
    victim.write_text("the operator's file\n")
    for pointer in ("CURRENT", "CURRENT-lab", "CURRENT-hybrid"):
        os.symlink(victim, artifacts_dir / f"{artifacts.TMP_PREFIX}{pointer}-{os.getpid()}")
    artifacts.serve_bundle(artifacts_dir, older.name)
    assert victim.read_text() == "the operator's file\n"
    assert artifacts.current_bundle(artifacts_dir, "lab") == older
    assert (artifacts_dir / "CURRENT").stat().st_mode & 0o044 == 0o044  # readable by all


def test_the_docs_say_checksums_detect_damage_not_forgery(tmp_path):
    # The limit the docs state, shown: an edited file with a manifest rewritten to match
    # passes every checksum.
    bundle = fake_bundle(tmp_path, "lab")
    (bundle / "users.csv").write_bytes(b"forged")
    manifest = json.loads((bundle / artifacts.MANIFEST).read_text())
    manifest["files"]["users.csv"] = artifacts.sha256_bytes(b"forged")
    (bundle / artifacts.MANIFEST).write_text(json.dumps(manifest))
    _, _, contents = artifacts.read_verified(bundle, ("users.csv",))
    assert contents["users.csv"] == b"forged"
    # ... and so the docs must not promise more.
    architecture = " ".join((PROJECT_ROOT / "docs" / "architecture.md").read_text().split())
    assert "it does not detect forgery" in architecture
    assert "not forgery: whoever can write the artifacts folder" in " ".join(verify.__doc__.split())
