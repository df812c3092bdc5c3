"""Tags are part of the dataset: ``MovieLens.tags``, and of its fingerprint, since the
hybrid model trains on them (a changed tags.csv must make its bundle stale)."""

from __future__ import annotations

import zipfile

import pytest

from recsys.columns import MOVIE_ID, USER_ID
from recsys.dataset.movielens import load_movielens
from recsys.dataset.tags import TAG
from recsys.errors import DataError

TAGS = "userId,movieId,tag,timestamp\n1,1,pixar,1\n2,2,politics,2\n"


def test_a_dataset_without_tags_has_an_empty_table(make_dataset):
    dataset = load_movielens(make_dataset())
    assert list(dataset.tags.columns) == [USER_ID, MOVIE_ID, TAG]
    assert dataset.tags.empty


def test_tags_csv_is_read_into_the_dataset(make_dataset):
    folder = make_dataset()
    (folder / "tags.csv").write_text(TAGS, encoding="utf-8")
    tags = load_movielens(folder).tags
    assert tags[TAG].tolist() == ["pixar", "politics"]
    assert tags[MOVIE_ID].tolist() == [1, 2]


def test_the_fingerprint_covers_the_tags(make_dataset):
    folder = make_dataset()
    without = load_movielens(folder).fingerprint
    (folder / "tags.csv").write_text(TAGS, encoding="utf-8")
    with_tags = load_movielens(folder).fingerprint
    (folder / "tags.csv").write_text(TAGS.replace("pixar", "toys"), encoding="utf-8")
    changed = load_movielens(folder).fingerprint
    (folder / "tags.csv").unlink()
    assert len({without, with_tags, changed}) == 3
    assert load_movielens(folder).fingerprint == without  # no tags: as it always was


def test_a_zip_gives_the_tags_and_fingerprint_of_its_folder(make_dataset, tmp_path):
    folder = make_dataset()
    (folder / "tags.csv").write_text(TAGS, encoding="utf-8")
    packed = tmp_path / "ml.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        for name in ("ratings.csv", "movies.csv", "tags.csv"):
            archive.write(folder / name, f"ml/{name}")
    from_zip, from_folder = load_movielens(packed), load_movielens(folder)
    assert from_zip.fingerprint == from_folder.fingerprint
    assert from_zip.tags.equals(from_folder.tags)


def test_an_unreadable_tags_csv_is_a_data_error(make_dataset):
    folder = make_dataset()
    (folder / "tags.csv").write_text("userId,movieId\n1,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="tags"):
        load_movielens(folder)
