"""Shared test helpers (importable as ``tests.helpers``)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.model.bundle import store as artifacts
from recsys.model.lab.train import train_bundle
from recsys.model.report import TrainReport
from recsys.settings import PROJECT_ROOT


def train_small_bundle(
    data_path: str | Path, artifacts_dir: Path, *, epochs: int = 3, preset: str = "lab"
) -> TrainReport:
    """Train a quick bundle (the fast recipe, few epochs) into ``artifacts_dir``."""
    dataset = load_movielens(data_path)
    config = recipe_config("fast", epochs=epochs, preset=preset)
    return train_bundle(dataset, config, artifacts_dir)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m recsys ARGS`` from the project root, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "recsys", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        cwd=PROJECT_ROOT,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (but the lock) by relative path: its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != artifacts.LOCK
    }


def copy_tree(good: Path, dest: Path) -> Path:
    shutil.copytree(good, dest)
    return dest


# ----------------------------------------------------------------------------- bad data


def _edit(path: Path, transform) -> None:
    path.write_bytes(transform(path.read_bytes()))


def _zip(folder: Path, dest: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("ratings.csv", "movies.csv"):
            archive.write(folder / name, f"ml/{name}")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return dest


# Loaded with this cap (RECSYS_MAX_UNPACKED_BYTES), the zip_bomb case is refused.
BAD_DATA_CAP_BYTES = 2_000_000

BAD_DATA_CASES = [
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


def bad_dataset(name: str, good: Path, tmp: Path) -> tuple[Path, str]:
    """Build one malformed copy of ``good``; return it and the text its error must contain."""
    case = copy_tree(good, tmp / name)
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


ODD_DATA_CASES = ["latin1_titles", "ten_times_duplicated"]


def odd_dataset(name: str, good: Path, tmp: Path) -> tuple[Path, str]:
    """Build one odd but loadable copy of ``good``; return it and the warning it must give."""
    case = copy_tree(good, tmp / name)
    if name == "latin1_titles":
        movies = case / "movies.csv"
        text = movies.read_text().replace("Synthetic Movie 1 ", "Café Movie 1 ", 1)
        movies.write_bytes(text.encode("latin-1"))
        return case, "read as Latin-1"
    if name == "ten_times_duplicated":
        ratings = case / "ratings.csv"
        lines = ratings.read_bytes().splitlines(keepends=True)
        ratings.write_bytes(lines[0] + b"".join(lines[1:]) * 10)
        return case, "duplicate (userId, movieId) ratings; kept the latest"
    raise AssertionError(name)


# ----------------------------------------------------------------------------- damaged bundles

DAMAGE_KINDS = [
    "truncated_weights",
    "edited_items",
    "missing_manifest",
    "wrong_schema",
    "lambda_layer",
]


def save_lambda_model(path: Path) -> None:
    """A real ``.keras`` model holding a Lambda layer (code that safe_mode refuses)."""
    import keras

    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(path)


def damage(kind: str, bundle: Path) -> str:
    """Damage ``bundle`` in place one way; return the text its refusal must contain."""
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
        save_lambda_model(model_path)
        manifest = json.loads(manifest_path.read_text())
        manifest["files"]["model.keras"] = artifacts.sha256_file(model_path)
        manifest_path.write_text(json.dumps(manifest))
        return "holds a Lambda layer"
    raise AssertionError(kind)
