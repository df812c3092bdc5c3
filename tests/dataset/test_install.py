"""Installing an uploaded MovieLens zip (recsys.dataset.download.install_dataset)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from recsys.dataset import download
from recsys.dataset.download import install_dataset
from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError

RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,5.0,964982224\n"
MOVIES = "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n"
OTHER_RATINGS = "userId,movieId,rating,timestamp\n9,1,1.0,964982703\n"


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_folder_gets_the_known_files_and_keeps_its_own(tmp_path: Path):
    target = tmp_path / "movielens"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    upload = _zip(
        {
            "ml-latest-small/ratings.csv": RATINGS,
            "ml-latest-small/movies.csv": MOVIES,
            "ml-latest-small/README.txt": "licence",
            "ml-latest-small/run.sh": "echo not a dataset file",
        }
    )
    assert install_dataset(upload, target, "ml-latest-small.zip") == target
    assert sorted(p.name for p in target.iterdir()) == [
        "README.txt",
        "movies.csv",
        "notes.txt",
        "ratings.csv",
    ]
    assert (target / "notes.txt").read_text() == "mine"
    assert len(load_movielens(target).ratings) == 2
    assert _leftovers(tmp_path) == []


def test_the_installed_files_are_the_ones_the_loader_checked(tmp_path: Path):
    upload = _zip(
        {
            "deep/er/ratings.csv": OTHER_RATINGS,
            "top/ratings.csv": RATINGS,
            "top/movies.csv": MOVIES,
        }
    )
    target = install_dataset(upload, tmp_path / "data", "upload.zip")
    assert (target / "ratings.csv").read_text() == RATINGS


def test_a_zip_target_gets_the_zip_itself(tmp_path: Path):
    upload = _zip({"ratings.csv": RATINGS, "movies.csv": MOVIES})
    target = install_dataset(upload, tmp_path / "ml.zip")
    assert target.read_bytes() == upload
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "entries",
    [
        {"ratings.csv": RATINGS},  # no movies.csv
        {"ratings.csv": "userId,movieId,rating,timestamp\n1,1,7.0,5\n", "movies.csv": MOVIES},
        {"../ratings.csv": RATINGS, "movies.csv": MOVIES},  # escapes the folder
    ],
)
def test_a_bad_zip_is_refused_by_its_upload_name_and_nothing_is_written(tmp_path, entries):
    target = tmp_path / "data"
    with pytest.raises(DataError) as caught:
        install_dataset(_zip(entries), target, "mine.zip")
    assert str(caught.value).startswith("mine.zip")
    assert ".upload-" not in str(caught.value)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_an_upload_over_the_cap_is_refused_before_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "UPLOAD_CAP_MB", 0)
    with pytest.raises(DataError, match="over the 0 MB upload cap"):
        install_dataset(b"x", tmp_path / "data", "big.zip")
    assert list(tmp_path.iterdir()) == []
