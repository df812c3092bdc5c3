"""Damaged, forged and half-written bundles: refused with a clear message, or never seen."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from recsys.errors import BundleError
from recsys.model.bundle import store as artifacts
from recsys.serving.recommender import Recommender
from recsys.settings import PROJECT_ROOT
from tests.helpers import DAMAGE_KINDS, copy_tree, damage, save_lambda_model


@pytest.mark.parametrize("kind", DAMAGE_KINDS)
def test_damaged_bundles_are_refused_with_a_clear_message(kind, trained_dir, tmp_path):
    copy = copy_tree(trained_dir, tmp_path / "artifacts")
    expected = damage(kind, artifacts.current_bundle(copy))
    with pytest.raises(BundleError, match=expected):
        Recommender.load(copy)


def test_keras_loader_refuses_h5_and_uses_safe_mode(tmp_path):
    from recsys.model.lab.network import load_model

    with pytest.raises(ValueError, match="only .keras files"):
        load_model(tmp_path / "model.h5")
    save_lambda_model(tmp_path / "evil.keras")
    with pytest.raises(ValueError, match="(?i)lambda.*safe_mode|safe_mode.*lambda|unsafe"):
        load_model(tmp_path / "evil.keras")


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from recsys.model.bundle import store as artifacts

    source = Path(sys.argv[2])
    def slow(name):
        def write(path):
            data = (source / name).read_bytes()
            with open(path, "wb") as out:
                for start in range(0, len(data), 4096):
                    out.write(data[start:start + 4096])
                    out.flush()
                    time.sleep(0.002)
        return write

    manifest, _ = artifacts.read_manifest(source)
    keep = {k: v for k, v in manifest.items()
            if k not in ("files", "schema_version", "bundle_id", "created")}
    writers = {name: slow(name) for name in artifacts.BUNDLE_FILES}
    with artifacts.training_lock(Path(sys.argv[1]), wait=True):
        print("writing", flush=True)
        artifacts.write_bundle(Path(sys.argv[1]), writers, keep)
    print("done", flush=True)
    """
)


def test_a_training_killed_while_writing_leaves_one_complete_bundle(trained_dir, tmp_path):
    copy = copy_tree(trained_dir, tmp_path / "artifacts")
    source = artifacts.current_bundle(copy)
    script = tmp_path / "slow_writer.py"
    script.write_text(_SLOW_WRITER)
    rng = random.Random(42)
    served = set()
    for attempt in range(6):
        process = subprocess.Popen(
            [sys.executable, str(script), str(copy), str(source)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        assert process.stdout.readline().strip() == "writing"
        if attempt < 5:
            time.sleep(rng.uniform(0.0, 0.6))
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        recommender = Recommender.load(copy)  # verifies every checksum
        served.add(recommender.manifest["bundle_id"])
        bundles = [p for p in copy.iterdir() if p.name.startswith(artifacts.BUNDLE_PREFIX)]
        assert artifacts.current_bundle(copy) in bundles
    # The last attempt ran to the end: the new bundle is the one served.
    assert len(served) >= 2
