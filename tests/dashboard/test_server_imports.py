"""TensorFlow never enters the app server: a training and an evaluation started from
the browser run in child processes (recsys.dashboard.jobs), and the server's own
process has not imported TensorFlow or Keras after them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from recsys.config import hybrid_config
from recsys.dashboard.jobs import CANCELLED
from recsys.evaluation import save_evaluation
from recsys.model import bundle as bundles
from recsys.settings import PROJECT_ROOT
from tests.e2e.app_data import copy_bundle

RUN_TIMEOUT_S = 400


def test_a_retrain_and_an_evaluation_from_the_browser_leave_tensorflow_out(tmp_path, hostile):
    data, trained, _ = hostile
    artifacts = copy_bundle(trained, tmp_path / "artifacts")
    save_evaluation(artifacts, {"protocol": "holdout", "models": {}, "counts": {}})
    evaluation = (artifacts / "evaluation.json").read_bytes()
    env = {
        **os.environ,
        "RECSYS_DATA": str(data),
        "RECSYS_ARTIFACTS": str(artifacts),
        "RECSYS_JOB_COOLDOWN_S": "0",
    }
    env.pop("RECSYS_ALLOW_RETRAIN", None)
    run = subprocess.run(
        [sys.executable, "-m", "tests.dashboard.browser_jobs"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=RUN_TIMEOUT_S,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["exceptions"] == []
    assert report["train_error"] is None, report["train_error"]
    assert "New model trained" in report["trained_page"]
    # The child trained exactly what the form asked for.
    new = bundles.current_bundle(artifacts, "hybrid")
    assert str(new) == report["train_result"]["bundle"]
    manifest, _ = bundles.read_manifest(new)
    made = {key: value for key, value in manifest["config"].items() if key != "features"}
    assert made == hybrid_config(epochs=1).to_dict()
    # The evaluation got as far as training its networks (TensorFlow, in the child),
    # then was cancelled from the page, or, on a fast machine, ended first.
    assert report["evaluation_reached_training"]
    assert report["evaluation_error"] in (CANCELLED, None)
    if report["evaluation_error"] == CANCELLED:
        assert (artifacts / "evaluation.json").read_bytes() == evaluation
    else:
        assert (artifacts / "evaluation.json").read_bytes() != evaluation
    assert report["tensorflow_imported"] is False
    assert report["keras_imported"] is False
