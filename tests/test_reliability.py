"""Bad data, damaged bundles, killed trainings, concurrent trainings and threads."""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys.columns import GENRE_LIST
from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.dataset.synth import write_synthetic
from recsys.errors import BundleError
from recsys.model import bundle as artifacts
from recsys.model.train import train_bundle
from recsys.serving.recommender import Recommender
from recsys.settings import PROJECT_ROOT

PROJECT = PROJECT_ROOT


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recsys", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        cwd=PROJECT,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != artifacts.LOCK
    }


@pytest.fixture(scope="module")
def good_data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    write_synthetic(folder, n_users=120, n_movies=80, n_ratings=4_000, rng=3)
    return folder


@pytest.fixture(scope="module")
def trained_dir(good_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("trained")
    train_bundle(load_movielens(good_data), recipe_config("fast", preset="full", epochs=1), folder)
    return folder


# ----------------------------------------------------------------------------- bad data


def _copy(good: Path, dest: Path) -> Path:
    shutil.copytree(good, dest)
    return dest


def _edit(path: Path, transform) -> None:
    path.write_bytes(transform(path.read_bytes()))


def _zip(folder: Path, dest: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("ratings.csv", "movies.csv"):
            archive.write(folder / name, f"ml/{name}")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return dest


def _case(name: str, good: Path, tmp: Path) -> tuple[Path, str]:
    """Build one malformed dataset; return it and the text its error must contain."""
    case = _copy(good, tmp / name)
    ratings, movies = case / "ratings.csv", case / "movies.csv"
    lines = ratings.read_bytes().splitlines(keepends=True)
    if name == "no_ratings":
        ratings.unlink()
        return case, f"{ratings}: missing file"
    if name == "no_movies":
        movies.unlink()
        return case, f"{movies}: missing file"
    if name == "wrong_header":
        _edit(ratings, lambda b: b.replace(b"userId,movieId,rating", b"user,item,score", 1))
        return case, f"{ratings}:1: missing column(s) userId, movieId, rating"
    if name == "non_numeric":
        lines[5] = b"1,1,great,964982703\n"
        ratings.write_bytes(b"".join(lines))
        return case, f"{ratings}:6: rating 'great' is not a number"
    if name == "nan_rating":
        lines[4] = b"1,1,NaN,964982703\n"
        ratings.write_bytes(b"".join(lines))
        return case, f"{ratings}:5: rating is missing or NaN"
    if name == "out_of_range":
        lines[3] = b"1,1,7.5,964982703\n"
        ratings.write_bytes(b"".join(lines))
        return case, f"{ratings}:4: rating 7.5 is out of range"
    if name == "unknown_movie":
        lines[2] = b"1,99999,4.0,964982703\n"
        ratings.write_bytes(b"".join(lines))
        return case, f"{ratings}:3: movieId 99999 is not in movies.csv"
    if name == "header_only":
        ratings.write_bytes(lines[0])
        return case, f"{ratings}: no ratings"
    if name == "zero_bytes":
        movies.write_bytes(b"")
        return case, f"{movies}: empty file"
    if name == "binary":
        ratings.write_bytes(random.Random(1).randbytes(4096))
        return case, f"{ratings}: binary data"
    if name == "truncated":
        ratings.write_bytes(b"".join(lines[:-1]) + lines[-1].rsplit(b",", 1)[0])
        return case, f"{ratings}:{len(lines)}: missing timestamp"
    if name == "zip_slip":
        archive = _zip(case, tmp / "slip.zip", {"../evil.txt": b"x"})
        return archive, "'../evil.txt' escapes the target folder"
    if name == "zip_bomb":
        archive = _zip(case, tmp / "bomb.zip", {"ml/padding.bin": b"\0" * 5_000_000})
        return archive, "over the"
    raise AssertionError(name)


FAILING = [
    "no_ratings",
    "no_movies",
    "wrong_header",
    "non_numeric",
    "nan_rating",
    "out_of_range",
    "unknown_movie",
    "header_only",
    "zero_bytes",
    "binary",
    "truncated",
    "zip_slip",
    "zip_bomb",
]


@pytest.mark.parametrize("name", FAILING)
def test_bad_data_exits_2_in_one_line_and_keeps_the_bundle(name, good_data, trained_dir, tmp_path):
    data, expected = _case(name, good_data, tmp_path)
    before = snapshot(trained_dir)
    result = run_cli(
        "train",
        "--preset",
        "full",
        "--epochs",
        "1",
        "--data",
        str(data),
        "--artifacts",
        str(trained_dir),
        env={"RECSYS_MAX_UNPACKED_BYTES": "2000000"},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(trained_dir) == before


@pytest.mark.parametrize("name", ["latin1_titles", "ten_times_duplicated"])
def test_odd_data_trains_with_a_warning(name, good_data, trained_dir, tmp_path):
    case = _copy(good_data, tmp_path / name)
    if name == "latin1_titles":
        movies = case / "movies.csv"
        text = movies.read_text().replace("Synthetic Movie 1 ", "Café Movie 1 ", 1)
        movies.write_bytes(text.encode("latin-1"))
        warning = "read as Latin-1"
    else:
        ratings = case / "ratings.csv"
        lines = ratings.read_bytes().splitlines(keepends=True)
        ratings.write_bytes(lines[0] + b"".join(lines[1:]) * 10)
        warning = "duplicate (userId, movieId) ratings; kept the latest"
    artifacts_dir = _copy(trained_dir, tmp_path / "artifacts")
    old_bundle = artifacts.current_bundle(artifacts_dir)
    old_files = snapshot(old_bundle)
    result = run_cli(
        "train",
        "--preset",
        "full",
        "--epochs",
        "1",
        "--json",
        "--data",
        str(case),
        "--artifacts",
        str(artifacts_dir),
    )
    assert result.returncode == 0, result.stderr
    assert warning in result.stderr
    assert artifacts.current_bundle(artifacts_dir) != old_bundle
    assert snapshot(old_bundle) == old_files  # the previous bundle is kept intact
    if name == "latin1_titles":
        titles = Recommender.load(artifacts_dir).items["title"]
        assert titles.str.startswith("Café Movie 1 ").any()


# ----------------------------------------------------------------------------- damaged bundles


def _save_lambda_model(path: Path) -> None:
    import keras

    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(path)


def _damage(kind: str, bundle: Path) -> str:
    manifest_path = bundle / "manifest.json"
    if kind == "truncated_weights":
        weights = bundle / "weights.npz"
        weights.write_bytes(weights.read_bytes()[:1000])
        return "weights.npz: does not match its checksum"
    if kind == "edited_items":
        items = bundle / "items.csv"
        items.write_text(items.read_text().replace("Synthetic", "Edited", 1))
        return "items.csv: does not match its checksum"
    if kind == "missing_manifest":
        manifest_path.unlink()
        return "manifest.json is missing"
    if kind == "wrong_schema":
        manifest = json.loads(manifest_path.read_text())
        manifest["schema_version"] = artifacts.SCHEMA_VERSION + 1
        manifest_path.write_text(json.dumps(manifest))
        return "schema version"
    if kind == "lambda_layer":
        # A forged bundle: a real model holding a Lambda layer, checksums recomputed.
        model_path = bundle / "model.keras"
        _save_lambda_model(model_path)
        manifest = json.loads(manifest_path.read_text())
        manifest["files"]["model.keras"] = artifacts.sha256_file(model_path)
        manifest_path.write_text(json.dumps(manifest))
        return "holds a Lambda layer"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["truncated_weights", "edited_items", "missing_manifest", "wrong_schema", "lambda_layer"],
)
def test_damaged_bundles_are_refused_with_a_clear_message(kind, trained_dir, tmp_path):
    copy = _copy(trained_dir, tmp_path / "artifacts")
    expected = _damage(kind, artifacts.current_bundle(copy))
    with pytest.raises(BundleError, match=expected):
        Recommender.load(copy)
    result = run_cli("recommend", "--genres", "Drama=4", "--artifacts", str(copy))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr


def test_keras_loader_refuses_h5_and_uses_safe_mode(trained_dir, tmp_path):
    from recsys.model.network import load_model

    with pytest.raises(ValueError, match="only .keras files"):
        load_model(tmp_path / "model.h5")
    _save_lambda_model(tmp_path / "evil.keras")
    with pytest.raises(ValueError, match="(?i)lambda.*safe_mode|safe_mode.*lambda|unsafe"):
        load_model(tmp_path / "evil.keras")


# ----------------------------------------------------------------------------- killed writes

_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from recsys.model import bundle as artifacts

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
    copy = _copy(trained_dir, tmp_path / "artifacts")
    source = artifacts.current_bundle(copy)
    script = tmp_path / "slow_writer.py"
    script.write_text(_SLOW_WRITER)
    rng = random.Random(42)
    served = set()
    for attempt in range(6):
        process = subprocess.Popen(
            [sys.executable, str(script), str(copy), str(source)],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
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


def test_two_trainings_at_once_are_serialised_by_the_lock(good_data, trained_dir, tmp_path):
    copy = _copy(trained_dir, tmp_path / "artifacts")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from recsys.model import bundle as artifacts\n"
            "with artifacts.training_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); time.sleep(60)",
            str(copy),
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(copy)
        result = run_cli(
            "train",
            "--preset",
            "full",
            "--epochs",
            "1",
            "--data",
            str(good_data),
            "--artifacts",
            str(copy),
        )
        assert result.returncode == 2
        assert "another training is writing a bundle here" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert snapshot(copy) == before
    finally:
        holder.kill()
        holder.wait()


# ----------------------------------------------------------------------------- threads


def _calls(recommender: Recommender, n: int) -> list[tuple]:
    rng = np.random.default_rng(5)
    genres = list(GENRE_LIST)
    movie_ids = recommender.items["movieId"].to_numpy()
    calls = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            picks = rng.choice(genres, size=3, replace=False)
            calls.append(("new", {g: float(rng.integers(0, 11)) / 2 for g in picks}))
        elif kind == 1:
            calls.append(("user", int(rng.choice(recommender.user_ids))))
        else:
            calls.append(("similar", int(rng.choice(movie_ids))))
    return calls


def _answer(recommender: Recommender, call: tuple) -> pd.DataFrame:
    kind, arg = call
    if kind == "new":
        return recommender.for_new_user(arg, top=10)
    if kind == "user":
        return recommender.for_user(arg, top=5).rated
    return recommender.similar(arg, k=5)


def test_eight_threads_share_one_recommender(trained_dir, monkeypatch):
    loads = []
    original = Recommender.load.__func__

    def counting_load(cls, path):
        loads.append(path)
        return original(cls, path)

    monkeypatch.setattr(Recommender, "load", classmethod(counting_load))
    recommender = Recommender.load(trained_dir)
    calls = _calls(recommender, 1000)
    expected = [_answer(recommender, call) for call in calls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda call: _answer(recommender, call), calls))
    for want, have in zip(expected, got):
        pd.testing.assert_frame_equal(want, have)
    assert len(loads) == 1


# ----------------------------------------------------------------------------- security


def _python_sources() -> list[Path]:
    return [p for p in PROJECT.rglob("*.py") if ".venv" not in p.parts and "tests" not in p.parts]


def test_no_pickle_or_joblib_loads_anywhere():
    # Written as pieces so that this file does not itself match a grep for them.
    forbidden = tuple(
        "".join(parts)
        for parts in (
            ("pickle", ".load"),
            ("joblib", ".load"),
            ("allow_pickle", "=True"),
            ("unsafe_allow", "_html"),
            ("safe_mode", "=False"),
            ("enable_unsafe", "_deserialization"),
        )
    )
    for path in _python_sources():
        text = path.read_text()
        for needle in forbidden:
            assert needle not in text, f"{path.name} contains {needle}"


def _load_model_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "load_model"
    ]


def test_every_keras_load_uses_safe_mode():
    """Keras' own loader is called with safe_mode=True; everyone else calls ours."""
    checked = 0
    for path in _python_sources():
        tree = ast.parse(path.read_text())
        ours = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "recsys.model.network"
            and any(alias.name == "load_model" for alias in node.names)
            for node in ast.walk(tree)
        )
        for call in _load_model_calls(tree):
            checked += 1
            if isinstance(call.func, ast.Name):
                assert ours, f"{path.name}:{call.lineno}: load_model not from recsys.model.network"
                continue
            safe = [k for k in call.keywords if k.arg == "safe_mode"]
            assert (
                safe and isinstance(safe[0].value, ast.Constant) and safe[0].value.value is True
            ), f"{path.name}:{call.lineno}: Keras load without safe_mode=True"
    assert checked >= 2  # recsys.model.network's own call and at least one caller


def test_streamlit_config_is_locked_down():
    import tomllib

    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["address"] in ("127.0.0.1", "localhost")
    assert server["enableXsrfProtection"] is True
    assert 0 < server["maxUploadSize"] <= 200
    assert server["fileWatcherType"] == "none"
    assert config["client"]["showErrorDetails"] in ("none", False)


def test_app_sessions_on_eight_threads_load_the_bundle_once(trained_dir, monkeypatch):
    from recsys.dashboard import ui

    monkeypatch.setenv("RECSYS_ARTIFACTS", str(trained_dir))
    loads = []
    original = Recommender.load.__func__

    def counting_load(cls, path):
        loads.append(path)
        time.sleep(0.2)  # widen the window in which a second load could start
        return original(cls, path)

    monkeypatch.setattr(Recommender, "load", classmethod(counting_load))
    ui.load_recommender_cached.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        models = list(pool.map(lambda _: ui.current_model(), range(8)))
    assert len(loads) == 1
    assert all(model is models[0] for model in models)
    ui.load_recommender_cached.clear()
