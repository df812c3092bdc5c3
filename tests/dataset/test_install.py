"""Installing an uploaded MovieLens zip (recsys.dataset.download.install_dataset)."""

from __future__ import annotations

import io
import os
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


# ------------------------------------------------------------------ the old files stay
TAGS = "userId,movieId,tag,timestamp\n1,1,funny,964982703\n"
OLD = {"ratings.csv": OTHER_RATINGS, "movies.csv": MOVIES, "tags.csv": TAGS}


def _old_dataset(target: Path) -> dict[str, str]:
    target.mkdir(parents=True)
    for name, text in OLD.items():
        (target / name).write_text(text)
    return {p.name: p.read_text() for p in target.iterdir()}


def _files(target: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in target.iterdir()}


def test_a_bad_tags_csv_is_refused_and_the_old_files_stay(tmp_path):
    target = tmp_path / "data"
    before = _old_dataset(target)
    upload = _zip(
        {"ratings.csv": RATINGS, "movies.csv": MOVIES, "tags.csv": "userId,movieId,tag\nx,y,z\n"}
    )
    with pytest.raises(DataError, match=r"^mine\.zip!tags\.csv: tags cannot be read"):
        install_dataset(upload, target, "mine.zip")
    assert _files(target) == before
    assert _leftovers(tmp_path) == []


def test_a_bad_tags_csv_is_refused_for_a_zip_target_too(tmp_path):
    target = tmp_path / "ml.zip"
    upload = _zip({"ratings.csv": RATINGS, "movies.csv": MOVIES, "tags.csv": "movieId\n1\n"})
    with pytest.raises(DataError, match="tags cannot be read"):
        install_dataset(upload, target, "mine.zip")
    assert not target.exists()


def test_a_failure_while_swapping_puts_every_old_file_back(tmp_path, monkeypatch):
    target = tmp_path / "data"
    before = _old_dataset(target)
    real_replace = os.replace

    def failing_replace(source, destination):
        # The second new file fails to move in (a full disk, a vanished folder).
        if Path(destination) == target / "movies.csv" and ".unpack-" in str(source):
            raise OSError(28, "No space left on device")
        real_replace(source, destination)

    monkeypatch.setattr(download.os, "replace", failing_replace)
    upload = _zip({"ratings.csv": RATINGS, "movies.csv": MOVIES, "tags.csv": TAGS})
    with pytest.raises(OSError, match="No space left"):
        install_dataset(upload, target, "mine.zip")
    monkeypatch.undo()
    assert _files(target) == before
    assert _leftovers(tmp_path) == []


def test_an_upload_without_tags_removes_the_old_datasets_tags(tmp_path):
    # The old tags.csv described the old dataset's movies, not the uploaded ones.
    target = tmp_path / "data"
    _old_dataset(target)
    install_dataset(_zip({"ratings.csv": RATINGS, "movies.csv": MOVIES}), target, "new.zip")
    assert _files(target) == {"ratings.csv": RATINGS, "movies.csv": MOVIES}
    assert _leftovers(tmp_path) == []
