"""The item catalogue on a hand-written set of movies: filters, title search, tables and
neighbours. No training: the embeddings are chosen so that the nearest movie is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import (
    AVE_RATING,
    DISTANCE,
    FOUND_BY,
    FOUND_BY_SPACE,
    GENRE_LIST,
    GENRES,
    MOVIE_ID,
    NUM_RATINGS,
    PREDICTED,
    TITLE,
    YEAR,
)
from recsys.errors import UsageError
from recsys.serving.catalogue import Catalogue

# movieId, title, year, genres, num ratings
MOVIES = [
    (1, "Toy Story (1995)", 1995, "Adventure|Animation|Children|Comedy", 215),
    (3, "Toy Story 2 (1999)", 1999, "Adventure|Animation|Children|Comedy", 97),
    (6, "Heat (1995)", 1995, "Action|Crime|Thriller", 102),
    (10, "Shrek (2001)", 2001, "Adventure|Animation|Children|Comedy|Fantasy", 170),
    (12, "Shrek 2 (2004)", 2004, "Adventure|Animation|Children|Comedy|Romance", 40),
    (20, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", 2001, "Comedy|Romance", 120),
    (25, "Notebook, The (2004)", 2004, "Drama|Romance", 5),
]


def _items() -> pd.DataFrame:
    frame = pd.DataFrame(MOVIES, columns=[MOVIE_ID, TITLE, YEAR, GENRES, NUM_RATINGS])
    frame[AVE_RATING] = 3.5
    for genre in GENRE_LIST:
        frame[genre] = frame[GENRES].str.split("|").map(lambda names, g=genre: g in names)
    return frame.astype({genre: int for genre in GENRE_LIST})


def _embeddings() -> np.ndarray:
    """[7, 32]: movie i sits at i on the first axis, so i's nearest are i-1 and i+1;
    the last movie is far away."""
    embeddings = np.zeros((len(MOVIES), 32), np.float32)
    embeddings[:, 0] = np.arange(len(MOVIES))
    embeddings[-1, 0] = 100.0
    return embeddings


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(_items(), _embeddings())


def _ids(catalogue: Catalogue, mask: np.ndarray) -> list[int]:
    return catalogue.items[MOVIE_ID][mask].tolist()


# ------------------------------------------------------------------ filters


def test_no_filter_keeps_every_movie(catalogue):
    assert catalogue.filter_mask().all()


def test_genre_filters_include_any_and_exclude_all(catalogue):
    assert _ids(catalogue, catalogue.filter_mask(include_genres=["Crime", "Drama"])) == [6, 25]
    kept = catalogue.filter_mask(include_genres=["Comedy"], exclude_genres=["Romance", "Fantasy"])
    assert _ids(catalogue, kept) == [1, 3]


def test_year_range_is_inclusive_and_min_ratings_counts(catalogue):
    assert _ids(catalogue, catalogue.filter_mask(year_range=(1999, 2001))) == [3, 10, 20]
    assert _ids(catalogue, catalogue.filter_mask(min_ratings=102)) == [1, 6, 10, 20]


def test_an_unknown_genre_is_a_usage_error(catalogue):
    with pytest.raises(UsageError, match="unknown genre"):
        catalogue.filter_mask(include_genres=["Western"])


# ------------------------------------------------------------------ title search


@pytest.mark.parametrize(
    ("query", "movie_id"),
    [
        ("Toy Story (1995)", 1),  # the exact title wins over "Toy Story 2 (1999)"
        ("toy story", 1),  # the title without its year
        ("SHREK", 10),
        ("Shrek 2", 12),
        ("Amel", 20),  # a unique prefix
        ("fabuleux destin", 20),  # a unique part of the title
        ("6", 6),  # an id
        (25, 25),
    ],
)
def test_find_movie_by_title_or_id(catalogue, query, movie_id):
    assert catalogue.find_movie(query) == movie_id


def test_an_ambiguous_title_lists_the_matches(catalogue):
    listed = r"'Toy' matches 2 movies: Toy Story \(1995\); Toy Story 2 \(1999\)$"
    with pytest.raises(UsageError, match=listed):
        catalogue.find_movie("Toy")


def test_an_unknown_title_names_close_matches(catalogue):
    with pytest.raises(
        UsageError, match=r"no movie titled 'Haet \(1995\)'.*close matches: Heat \("
    ):
        catalogue.find_movie("Haet (1995)")
    with pytest.raises(UsageError, match=r"no movie titled 'zzz' among this model's movies$"):
        catalogue.find_movie("zzz")


def test_an_unknown_id_says_id_not_title(catalogue):
    with pytest.raises(UsageError, match=r"^no movie with id 999999 among this model's movies$"):
        catalogue.find_movie("999999")


def test_movie_row_and_title(catalogue):
    assert catalogue.movie_row(10) == 3
    assert catalogue.title_of(10) == "Shrek (2001)"
    np.testing.assert_array_equal(catalogue.rows_of([12, 99, 1]), [4, -1, 0])
    with pytest.raises(UsageError, match="movie 99 is not among this model's movies"):
        catalogue.movie_row(99)


# ------------------------------------------------------------------ tables


def test_top_is_highest_first_within_the_mask_ties_by_movie_id(catalogue):
    predicted = np.array([4.0, 4.5, 3.0, 4.5, 5.0, 2.0, 1.0])
    mask = np.array([True, True, True, True, False, True, True])
    top = catalogue.top(predicted, mask, 3)
    assert top[MOVIE_ID].tolist() == [3, 10, 1]
    assert top[PREDICTED].tolist() == [4.5, 4.5, 4.0]
    assert list(top.columns) == [MOVIE_ID, TITLE, YEAR, GENRES, PREDICTED, AVE_RATING, NUM_RATINGS]
    assert len(catalogue.top(predicted, mask, 0)) == 0
    assert len(catalogue.top(predicted, mask, 100)) == mask.sum()


def test_movie_table_without_predictions(catalogue):
    table = catalogue.movie_table(np.array([3, 0]))
    assert table[TITLE].tolist() == ["Shrek (2001)", "Toy Story (1995)"]
    assert table[YEAR].tolist() == [2001, 1995]
    assert PREDICTED not in table


@pytest.mark.parametrize("predicted", [None, np.array([4.5, 3.0])])
def test_movie_table_is_the_frame_pandas_public_constructor_builds(catalogue, predicted):
    """The table is built by pandas' array constructor, for speed: it must equal, dtypes
    and all, what ``pd.DataFrame`` builds from the items, and take edits like any frame."""
    rows = np.array([3, 0])
    table = catalogue.movie_table(rows, predicted)
    items = catalogue.items.iloc[rows].reset_index(drop=True)
    expected = pd.DataFrame({name: items[name] for name in (MOVIE_ID, TITLE, YEAR, GENRES)})
    if predicted is not None:
        expected[PREDICTED] = predicted
    expected[AVE_RATING] = items[AVE_RATING]
    expected[NUM_RATINGS] = items[NUM_RATINGS]
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table[TITLE].dtype == "str" and table[YEAR].dtype == "int64"
    assert table[MOVIE_ID].dtype == "int64" and table[NUM_RATINGS].dtype == "int64"
    table.loc[0, TITLE] = "edited"
    assert catalogue.movie_table(rows, predicted)[TITLE].iat[0] == "Shrek (2001)"
    none = None if predicted is None else predicted[:0]
    assert len(catalogue.movie_table(np.array([], dtype="int64"), none)) == 0
    with pytest.raises(ValueError):  # a misaligned column is refused, not framed
        catalogue.movie_table(np.array([0, 1, 2]), np.array([4.5, 3.0]))


# ------------------------------------------------------------------ neighbours


def test_similar_is_nearest_first_ties_by_movie_id(catalogue):
    table = catalogue.similar(6, k=3)  # Heat sits at 2: Toy Story 2 and Shrek at 1, then 4
    assert table[MOVIE_ID].tolist() == [3, 10, 1]
    assert table[DISTANCE].tolist() == [1.0, 1.0, 4.0]
    assert list(table.columns) == [MOVIE_ID, TITLE, YEAR, GENRES, DISTANCE, FOUND_BY]
    assert set(table[FOUND_BY]) == {FOUND_BY_SPACE}  # no item-to-item rows given
    assert len(catalogue.similar(6, k=100)) == len(MOVIES) - 1
    assert len(catalogue.similar(6, k=0)) == 0


def test_nearest_table_gives_every_movie_its_nearest(catalogue):
    for block in (2, 2048):
        table = catalogue.nearest_table(block=block)
        assert table["movie1"].tolist() == [m[1] for m in MOVIES]
        nearest = [3, 1, 3, 6, 10, 12, 20]  # movieIds; ties go to the first row
        titles = dict((m[0], m[1]) for m in MOVIES)
        assert table["movie2"].tolist() == [titles[m] for m in nearest]
        assert table[DISTANCE].tolist()[:6] == [1.0] * 6
        assert table[DISTANCE].iloc[6] == 95.0**2


def test_catalogue_arrays_are_read_only(catalogue):
    assert not catalogue.item_embeddings.flags.writeable
    with pytest.raises(ValueError):
        catalogue.item_embeddings[0, 0] = 1.0


def test_a_query_longer_than_any_title_skips_the_close_matches(catalogue, monkeypatch):
    # Before: 20,000 words went through difflib against every title, seconds per query.
    def no_difflib(*args, **kwargs):
        raise AssertionError("difflib was called on a long query")

    monkeypatch.setattr("difflib.get_close_matches", no_difflib)
    with pytest.raises(UsageError, match=r"^no movie titled 'haet haet .{40,}…' among") as error:
        catalogue.find_movie("haet " * 20_000)
    assert len(str(error.value)) < 200


# ------------------------------------------------------------------ what callers read


# A movie without a year shows none: its display year is cast from NaN (numpy warns).
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_the_catalogue_owns_its_year_bounds_largest_count_and_ids(catalogue):
    assert catalogue.year_bounds == (1995, 2004)
    assert catalogue.max_count == 215
    assert catalogue.movie_id_set == {1, 3, 6, 10, 12, 20, 25}
    assert catalogue.titles(np.array([3, 0])) == ["Shrek (2001)", "Toy Story (1995)"]
    no_years = _items().assign(**{YEAR: np.nan})
    assert Catalogue(no_years, _embeddings()).year_bounds == (0, 0)
