"""The command line under bad data, damaged bundles and a held training lock: one line
on stderr, exit status 2, and the bundle that was there kept intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from recsys.model.bundle import store as artifacts
from recsys.serving.recommender import Recommender
from recsys.settings import PROJECT_ROOT
from tests.helpers import (
    BAD_DATA_CAP_BYTES,
    BAD_DATA_CASES,
    DAMAGE_KINDS,
    ODD_DATA_CASES,
    bad_dataset,
    copy_tree,
    damage,
    odd_dataset,
    run_cli,
    snapshot,
)


def _train(data, artifacts_dir, *extra: str, env: dict | None = None):
    return run_cli(
        "train",
        "--preset",
        "full",
        "--epochs",
        "1",
        *extra,
        "--data",
        str(data),
        "--artifacts",
        str(artifacts_dir),
        env=env,
    )


@pytest.mark.parametrize("name", BAD_DATA_CASES)
def test_bad_data_exits_2_in_one_line_and_keeps_the_bundle(name, good_data, trained_dir, tmp_path):
    data, expected = bad_dataset(name, good_data, tmp_path)
    before = snapshot(trained_dir)
    result = _train(data, trained_dir, env={"RECSYS_MAX_UNPACKED_BYTES": str(BAD_DATA_CAP_BYTES)})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(trained_dir) == before


@pytest.mark.parametrize("name", ODD_DATA_CASES)
def test_odd_data_trains_with_a_warning(name, good_data, trained_dir, tmp_path):
    case, warning = odd_dataset(name, good_data, tmp_path)
    artifacts_dir = copy_tree(trained_dir, tmp_path / "artifacts")
    old_bundle = artifacts.current_bundle(artifacts_dir)
    old_files = snapshot(old_bundle)
    result = _train(case, artifacts_dir, "--json")
    assert result.returncode == 0, result.stderr
    assert warning in result.stderr
    json.loads(result.stdout)
    assert artifacts.current_bundle(artifacts_dir) != old_bundle
    assert snapshot(old_bundle) == old_files  # the previous bundle is kept intact
    if name == "latin1_titles":
        titles = Recommender.load(artifacts_dir).items["title"]
        assert titles.str.startswith("Café Movie 1 ").any()


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
def test_a_damaged_bundle_is_refused_in_one_line(kind, trained_dir, tmp_path):
    copy = copy_tree(trained_dir, tmp_path / "artifacts")
    expected = damage(kind, artifacts.current_bundle(copy))
    result = run_cli("recommend", "--genres", "Drama=4", "--artifacts", str(copy))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr


def test_two_trainings_at_once_are_serialised_by_the_lock(good_data, trained_dir, tmp_path):
    copy = copy_tree(trained_dir, tmp_path / "artifacts")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from recsys.model.bundle import store as artifacts\n"
            "with artifacts.training_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); time.sleep(60)",
            str(copy),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(copy)
        result = _train(good_data, copy)
        assert result.returncode == 2
        assert "another training is writing a bundle here" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert snapshot(copy) == before
    finally:
        holder.kill()
        holder.wait()
