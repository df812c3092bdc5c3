"""Stored evaluations: written atomically beside the bundle, read back or None, never raising."""

from __future__ import annotations

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
