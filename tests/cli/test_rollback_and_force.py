"""``train --force`` and ``rollback`` from the command line: the gate's refusal is a
warning (the new bundle kept, the old one served), and a rollback with nothing to go back
to is one line with exit status 2."""

from __future__ import annotations

import json

from recsys.model.bundle import store as artifacts
from tests.helpers import run_cli
from tests.model.test_kept_bundles import fake_bundle


def _train(data, folder, *extra: str):
    return run_cli(
        "train",
        "--model",
        "lab",
        "--preset",
        "full",
        "--json",
        *extra,
        "--data",
        str(data),
        "--artifacts",
        str(folder),
    )


def test_a_bad_retrain_is_not_served_without_force(synthetic_data, tmp_path):
    good = _train(synthetic_data, tmp_path, "--epochs", "2")
    assert good.returncode == 0, good.stderr
    served = artifacts.current_bundle(tmp_path, "lab")
    bad = _train(synthetic_data, tmp_path, "--epochs", "1", "--lr", "1.0")
    assert bad.returncode == 0, bad.stderr
    report = json.loads(bad.stdout)
    assert report["served"] is False and report["gate"]["passed"] is False
    assert "kept but not served" in bad.stderr and "--force" in bad.stderr
    assert artifacts.current_bundle(tmp_path, "lab") == served
    assert (tmp_path / report["bundle"]).is_dir()  # written and kept
    forced = _train(synthetic_data, tmp_path, "--epochs", "1", "--lr", "1.0", "--force")
    assert forced.returncode == 0, forced.stderr
    report = json.loads(forced.stdout)
    assert report["served"] is True and report["gate"]["forced"] is True
    assert str(artifacts.current_bundle(tmp_path, "lab")) == report["bundle"]


def test_rollback_serves_the_previous_bundle_then_says_there_is_none(tmp_path):
    first, second = fake_bundle(tmp_path, "lab"), fake_bundle(tmp_path, "lab")
    hybrid = fake_bundle(tmp_path, "hybrid")
    result = run_cli("rollback", "--model", "lab", "--json", "--artifacts", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"model": "lab", "bundle": str(first), "was": str(second)}
    assert artifacts.current_bundle(tmp_path, "lab") == first
    assert artifacts.current_bundle(tmp_path) == hybrid
    again = run_cli("rollback", "--model", "lab", "--artifacts", str(tmp_path))
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "no older lab bundle is kept" in lines[0], again.stderr
    assert "Traceback" not in again.stderr
    assert artifacts.current_bundle(tmp_path, "lab") == first


def test_rollback_with_nothing_trained_is_one_line(tmp_path):
    result = run_cli("rollback", "--artifacts", str(tmp_path))
    assert result.returncode == 2
    assert "no trained bundle yet" in result.stderr and "Traceback" not in result.stderr
