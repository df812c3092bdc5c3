"""The command line: JSON output, and bad input as one line with exit status 2."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

TRAIN_KEYS = {
    "items",
    "users",
    "rows",
    "train_rows",
    "test_rows",
    "train_mse",
    "test_mse",
    "test_rmse_stars",
    "seconds",
    "bundle",
}


@pytest.fixture(scope="module")
def trained(real_data, tmp_path_factory):
    artifacts_dir = tmp_path_factory.mktemp("cli_artifacts")
    result = run_cli(
        "train",
        "--model",
        "lab",
        "--epochs",
        "2",
        "--json",
        "--data",
        str(real_data),
        "--artifacts",
        str(artifacts_dir),
    )
    assert result.returncode == 0, result.stderr
    return artifacts_dir, json.loads(result.stdout)


def test_train_prints_its_figures_as_json(trained):
    artifacts_dir, report = trained
    assert set(report) >= TRAIN_KEYS
    assert report["train_rows"] + report["test_rows"] == report["rows"]
    assert report["items"] > 800 and report["users"] == 397
    assert 0 < report["test_mse"] < 0.5
    assert report["bundle"].startswith(str(artifacts_dir))


def test_recommend_for_the_lab_fan_prints_ten_movies(trained):
    artifacts_dir, _ = trained
    result = run_cli(
        "recommend", "--genres", "Adventure=5,Fantasy=5", "--artifacts", str(artifacts_dir)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 23  # the genres line, the header, ten movies, then ten reasons
    assert lines[12] == "why"
    assert [line.split(".")[0].strip() for line in lines[13:]] == [str(i) for i in range(1, 11)]
    assert all(
        "your Adventure rating (5★)" in line or "your Fantasy rating (5★)" in line
        for line in lines[13:16]
    )
    as_json = run_cli(
        "recommend",
        "--genres",
        "adventure=5,fantasy=5",
        "--top",
        "3",
        "--json",
        "--artifacts",
        str(artifacts_dir),
    )
    payload = json.loads(as_json.stdout)
    stars = [row["predicted stars"] for row in payload["recommendations"]]
    assert len(stars) == 3 and stars == sorted(stars, reverse=True)
    for row in payload["recommendations"]:  # each row's reason, in words and in parts
        assert row["why"] and set(row["genre lift"]) <= {"Adventure", "Fantasy"}


def test_user_and_similar_print_json(trained):
    artifacts_dir, _ = trained
    user = json.loads(
        run_cli("user", "--id", "2", "--json", "--artifacts", str(artifacts_dir)).stdout
    )
    assert user["user_id"] == 2 and len(user["rated"]) == 22
    assert {"predicted stars", "actual stars", "error"} <= set(user["rated"][0])
    similar = json.loads(
        run_cli(
            "similar", "--movie", "SHREK", "--top", "4", "--json", "--artifacts", str(artifacts_dir)
        ).stdout
    )
    assert similar["title"] == "Shrek (2001)" and len(similar["similar"]) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["similar", "--movie", "star"], "matches"),
        (["similar", "--movie", "Shrekk 3"], "close matches: Shrek"),
        (["user", "--id", "999999"], "user 999999 is not in this model's data"),
        (["recommend", "--genres", "Westerns=5"], "unknown genre 'Westerns'"),
        (["recommend", "--genres", "Fantasy=9"], "must be 0 to 5"),
        (["recommend", "--genres", "Fantasy", "--top", "0"], "expected 1 or more"),
    ],
)
def test_bad_requests_exit_2_with_one_line(trained, args, message):
    result = run_cli(*args, "--artifacts", str(trained[0]))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--epochs", "-3"], "expected 1 or more"),
        (["train", "--preset", "huge"], "invalid choice"),
        (["train", "--lr", "fast"], "expected a number"),
        (["frobnicate"], "invalid choice"),
        (["recommend", "--genres", "Fantasy=5"], "no trained bundle yet"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    result = (
        run_cli(*args, "--artifacts", str(tmp_path)) if args[0] == "recommend" else run_cli(*args)
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_training_on_bad_data_names_the_file_and_keeps_the_bundle(trained, tmp_path):
    artifacts_dir, _ = trained
    before = {p: p.read_bytes() for p in artifacts_dir.rglob("*") if p.is_file()}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "movies.csv").write_text("movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    (bad / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,abc,2\n")
    result = run_cli("train", "--data", str(bad), "--artifacts", str(artifacts_dir))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {bad / 'ratings.csv'}:3: rating 'abc' is not a number"
    )
    after = {p: p.read_bytes() for p in artifacts_dir.rglob("*") if p.is_file()}
    assert after == before
