"""Finding 8 and 9: forged bundles are refused at once with one line, and a 5,000-digit
movie id is one line and exit 2."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from recsys.errors import BundleError
from recsys.model.bundle import MANIFEST, current_bundle, sha256_file
from recsys.serving.recommender import Recommender
from tests.e2e.app_data import copy_bundle
from tests.helpers import run_cli


def _rehash(bundle: Path, name: str) -> None:
    """Make the manifest list ``name``'s new sha256 (a forger with write access can)."""
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"][name] = sha256_file(bundle / name)
    (bundle / MANIFEST).write_text(json.dumps(manifest))


def deep_manifest(bundle: Path) -> str:
    (bundle / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    return "nested too deeply"


def deep_history(bundle: Path) -> str:
    (bundle / "history.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    _rehash(bundle, "history.json")
    return "nested too deeply"


def zero_link(bundle: Path) -> str:
    (bundle / "ratings.npz").unlink()
    os.symlink("/dev/zero", bundle / "ratings.npz")
    return "symbolic link"


def fifo_manifest(bundle: Path) -> str:
    (bundle / MANIFEST).unlink()
    os.mkfifo(bundle / MANIFEST)
    return "not a regular file"


def huge_manifest(bundle: Path) -> str:
    with open(bundle / MANIFEST, "ab") as out:
        out.truncate(2 << 20)
    return "cap"


def wrong_kernel(bundle: Path) -> str:
    with np.load(bundle / "weights.npz") as npz:
        weights = {k: npz[k] for k in npz.files}
    weights["user_tower/2/kernel"] = weights["user_tower/2/kernel"][:-3]
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    (bundle / "weights.npz").write_bytes(buffer.getvalue())
    _rehash(bundle, "weights.npz")
    return "user_tower/2/kernel"


def wrong_embeddings(bundle: Path) -> str:
    embeddings = np.load(bundle / "item_embeddings.npy")
    np.save(bundle / "item_embeddings.npy", embeddings[:, :16].copy())
    _rehash(bundle, "item_embeddings.npy")
    return "item embeddings"


FORGERIES = [
    deep_manifest,
    deep_history,
    zero_link,
    fifo_manifest,
    huge_manifest,
    wrong_kernel,
    wrong_embeddings,
]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
def test_a_forged_bundle_is_refused_at_once_in_one_line(trained_dir, tmp_path, forge):
    artifacts = copy_bundle(trained_dir, tmp_path / "artifacts")
    fragment = forge(current_bundle(artifacts))
    started = time.perf_counter()
    with pytest.raises(BundleError) as refused:
        Recommender.load(artifacts)
    seconds = time.perf_counter() - started
    assert seconds < 1.0, seconds
    message = str(refused.value)
    assert fragment in message and "retrain" in message and "\n" not in message


def test_the_cli_refuses_a_forged_bundle_in_one_line(trained_dir, good_data, tmp_path):
    artifacts = copy_bundle(trained_dir, tmp_path / "artifacts")
    deep_manifest(current_bundle(artifacts))
    result = run_cli(
        "similar", "--movie", "1", "--artifacts", str(artifacts), "--data", str(good_data)
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_5000_digit_movie_id_is_one_line_and_exit_2(trained_dir, good_data):
    result = run_cli(
        "similar", "--movie", "9" * 5000, "--artifacts", str(trained_dir), "--data", str(good_data)
    )
    assert result.returncode == 2, result.stderr[-500:]
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
