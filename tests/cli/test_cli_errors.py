"""Known errors as one line on stderr and exit status 2: the loader's, the download's,
and the shared handler that every command line uses."""

from __future__ import annotations

import socket

import pytest

from recsys.errors import (
    EXIT_BAD_INPUT,
    DataError,
    UsageError,
    exit_on_known_errors,
)
from tests.helpers import run_cli

R_HEAD = "userId,movieId,rating,timestamp\n"
MOVIES = (
    "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n2,Jumanji (1995),Adventure\n"
)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/ml-latest-small.zip"


def test_cli_prints_a_data_error_as_one_line(make_dataset):
    folder = make_dataset(R_HEAD + "1,1,4.0,964982703\n" + "1,2,3.25,5\n", MOVIES)
    result = run_cli("info", "--data", str(folder))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {folder / 'ratings.csv'}:3: rating 3.25 is out of range (0.5 to 5 in half steps)\n"
    )


def test_cli_download_offline_prints_one_line_and_exits_2(tmp_path):
    result = run_cli(
        "download",
        "--json",
        "--url",
        _closed_port_url(),
        "--dest",
        str(tmp_path / "data"),
        env={"RECSYS_DATA": str(tmp_path / "none")},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: could not reach 127.0.0.1")


def test_a_known_error_becomes_one_line_and_exit_2(capsys):
    def fails() -> int:
        raise DataError("ratings.csv", "rating 7 is out of\nrange", line=4)

    assert exit_on_known_errors(fails) == EXIT_BAD_INPUT == 2
    assert capsys.readouterr().err == "error: ratings.csv:4: rating 7 is out of range\n"


def test_the_status_of_a_clean_run_is_passed_through():
    assert exit_on_known_errors(lambda: None) == 0
    assert exit_on_known_errors(lambda: 1) == 1


def test_extra_error_types_can_be_named_and_others_propagate(capsys):
    class BenchLikeError(RuntimeError):
        pass

    def fails() -> int:
        raise BenchLikeError("no data")

    assert exit_on_known_errors(fails, also=(BenchLikeError,)) == 2
    assert capsys.readouterr().err == "error: no data\n"
    with pytest.raises(BenchLikeError):
        exit_on_known_errors(fails)


def test_ctrl_c_exits_130_in_one_line(capsys):
    def interrupted() -> int:
        raise KeyboardInterrupt

    assert exit_on_known_errors(interrupted) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_usage_errors_are_known():
    def bad_usage() -> int:
        raise UsageError("python -m recsys: invalid choice")

    assert exit_on_known_errors(bad_usage) == 2


def test_train_into_a_file_is_one_line_and_leaves_the_file(synthetic_data, tmp_path):
    not_a_folder = tmp_path / "artifacts"
    not_a_folder.write_text("my notes\n")
    result = run_cli("train", "--data", str(synthetic_data), "--artifacts", str(not_a_folder))
    assert result.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {not_a_folder}: is a file, not a folder; give the artifacts a folder"
    )
    assert not_a_folder.read_text() == "my notes\n"
