"""``python -m recsys evaluate --json``: one JSON object on stdout, nothing saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from recsys.evaluation import METRICS, MODEL_NAMES
from recsys.settings import PROJECT_ROOT


def test_cli_prints_one_json_object(synthetic, tmp_path):
    env = {**os.environ, "RECSYS_ARTIFACTS": str(tmp_path / "artifacts")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "recsys",
            "evaluate",
            "--protocol",
            "holdout",
            "--json",
            "--no-save",
            "--data",
            synthetic.source,
            "--preset",
            "full",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert {"protocol", "preset", "counts", "models"} <= set(result)
    assert result["protocol"] == "holdout"
    for name in MODEL_NAMES:
        assert set(METRICS) <= set(result["models"][name])
    assert not (tmp_path / "artifacts").exists()  # --no-save wrote nothing
