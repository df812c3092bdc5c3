"""Stored evaluations: written atomically beside the bundle, read back or None, never raising."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.dataset.movielens import load_movielens
from recsys.evaluation import load_evaluation, run_evaluation, save_evaluation


def test_save_and_load_round_trip(tmp_path, holdout_result):
    (tmp_path / "CURRENT").write_text("bundle-20260101T000000000000Z\n")
    path = save_evaluation(tmp_path, holdout_result)
    assert path == tmp_path / "evaluation.json"
    loaded = load_evaluation(tmp_path)
    assert loaded["bundle_id"] == "bundle-20260101T000000000000Z"
    assert loaded["models"] == holdout_result["models"]
    assert load_evaluation(tmp_path, "holdout")["protocol"] == "holdout"
    assert load_evaluation(tmp_path, "temporal") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "CURRENT",
        "evaluation-holdout.json",
        "evaluation.json",
    ]  # no temporary file is left behind


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'{"protocol": "holdout"}',
        b'{"protocol": "holdout", "models": {"bias": {"rmse": 1}}}',
    ],
    ids=["empty", "broken", "binary", "list", "no-models", "missing-metrics"],
)
def test_load_never_raises_on_a_damaged_file(tmp_path, content):
    (tmp_path / "evaluation.json").write_bytes(content)
    assert load_evaluation(tmp_path) is None


def test_load_without_a_file(tmp_path):
    assert load_evaluation(tmp_path) is None
    assert load_evaluation(tmp_path / "missing") is None


def test_a_run_saves_beside_the_bundle(synthetic, tmp_path):
    # What ``python -m recsys evaluate`` does without --no-save, through the library.
    dataset = load_movielens(synthetic.source)
    result = run_evaluation(dataset, protocol="holdout", preset="full", recipe="fast", epochs=1)
    assert Path(save_evaluation(tmp_path, result)) == tmp_path / "evaluation.json"
    assert load_evaluation(tmp_path)["preset"] == "full"
    assert load_evaluation(tmp_path)["bundle_id"] is None  # no bundle trained here yet


# ---------------------------------------------------------------------------- hostile files
# evaluation.json is read on every page of every session: a planted file must cost a
# "no saved evaluation", never a crash, a hang or the server's memory.


def _minimal_evaluation() -> dict:
    from recsys.evaluation.ranking import CORE_METRICS

    return {"protocol": "holdout", "models": {"bias": dict.fromkeys(CORE_METRICS, 1.0)}}


def _load_in_a_child(folder: Path, timeout: float = 30) -> str:
    """``repr(load_evaluation(folder))`` from a child process under a 1 GiB memory limit,
    so that a read that blocks or grows without end fails this test instead of hanging
    or exhausting the machine."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from recsys.evaluation.store import load_evaluation\n"
        "print(repr(load_evaluation(sys.argv[1])))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {folder}/evaluation.json hung for {timeout} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_valid_minimal_evaluation_is_read(tmp_path):
    # The hostile cases below differ from this one in the file's kind or depth only.
    (tmp_path / "evaluation.json").write_text(json.dumps(_minimal_evaluation()))
    assert load_evaluation(tmp_path)["protocol"] == "holdout"


def test_deeply_nested_json_is_no_saved_evaluation(tmp_path):
    (tmp_path / "evaluation.json").write_text("[" * 200_000 + "]" * 200_000)
    assert load_evaluation(tmp_path) is None


def test_a_link_to_a_valid_file_elsewhere_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(_minimal_evaluation()))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    os.symlink(elsewhere, artifacts / "evaluation.json")
    assert load_evaluation(artifacts) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_a_fifo_does_not_hang_the_reader(tmp_path):
    os.mkfifo(tmp_path / "evaluation.json")
    assert _load_in_a_child(tmp_path) == "None"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_dev_zero_does_not_fill_memory(tmp_path):
    os.symlink("/dev/zero", tmp_path / "evaluation.json")
    assert _load_in_a_child(tmp_path) == "None"


def test_a_current_pointer_that_links_elsewhere_is_not_read(tmp_path, holdout_result):
    elsewhere = tmp_path / "secret.txt"
    elsewhere.write_text("bundle-20260101T000000000000Z\n")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    os.symlink(elsewhere, artifacts / "CURRENT")
    save_evaluation(artifacts, holdout_result)
    assert load_evaluation(artifacts)["bundle_id"] is None
