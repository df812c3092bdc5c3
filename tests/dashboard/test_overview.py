"""The dashboard's plain tables (recsys.dashboard.overview), against pandas and by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recsys.columns import (
    AVE_RATING,
    GENRE_LIST,
    GENRES,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    TITLE,
    USER_ID,
    USER_VECTOR_COLUMNS,
    YEAR,
)
from recsys.dashboard.overview import (
    MAIN_GENRE,
    TARGET_STARS,
    embedding_map,
    main_genre,
    most_rated_movie,
    movie_labels,
    overview_of,
    principal_plane,
    training_preview,
    user_labels,
    year_bounds,
)
from recsys.dataset.movielens import load_movielens

# ------------------------------------------------------------------ overview_of


@pytest.fixture(scope="module")
def synthetic(synthetic_data):
    return load_movielens(synthetic_data)


def test_top_rated_is_what_value_counts_gives(synthetic):
    ratings, movies = synthetic.ratings, synthetic.movies
    top = overview_of(ratings, movies).top_rated
    counts = ratings[MOVIE_ID].value_counts()
    assert len(top) == 10
    assert top[NUM_RATINGS].tolist() == counts.head(10).tolist()
    assert top[NUM_RATINGS].tolist() == counts[top[MOVIE_ID]].tolist()
    means = ratings.groupby(MOVIE_ID)[RATING].mean()
    np.testing.assert_allclose(top[AVE_RATING], means[top[MOVIE_ID]].to_numpy())
    titles = movies.set_index(MOVIE_ID)[TITLE]
    assert top[TITLE].tolist() == titles[top[MOVIE_ID]].tolist()


def test_the_frames_are_not_mutated(synthetic):
    ratings, movies = synthetic.ratings.copy(), synthetic.movies.copy()
    overview_of(synthetic.ratings, synthetic.movies)
    pd.testing.assert_frame_equal(synthetic.ratings, ratings)
    pd.testing.assert_frame_equal(synthetic.movies, movies)


def _frames(rows: list[tuple[int, int, float]], movies: list[tuple[int, str, str]]):
    ratings = pd.DataFrame(rows, columns=[USER_ID, MOVIE_ID, RATING])
    table = pd.DataFrame(movies, columns=[MOVIE_ID, TITLE, GENRES])
    table[YEAR] = table[TITLE].str.extract(r"\((\d{4})\)$", expand=False).astype(float)
    return ratings, table


HAND_MOVIES = [
    (10, "Ten (1990)", "Action|Comedy"),
    (20, "Twenty (2001)", "Comedy"),
    (30, "Thirty", "War"),  # no year, and no genre of the 14
    (40, "Forty (1985)", "Drama"),  # never rated
]
HAND_RATINGS = [(1, 10, 4.0), (2, 10, 2.0), (1, 20, 5.0), (2, 20, 3.0), (3, 30, 1.5)]


def test_ties_in_rating_count_go_to_the_lower_movie_id():
    ratings, movies = _frames(HAND_RATINGS, HAND_MOVIES)
    top = overview_of(ratings, movies, top=3).top_rated
    assert top[MOVIE_ID].tolist() == [10, 20, 30]
    assert top[NUM_RATINGS].tolist() == [2, 2, 1]
    assert top[AVE_RATING].tolist() == [3.0, 4.0, 1.5]


def test_per_genre_counts_and_means_by_hand():
    ratings, movies = _frames(HAND_RATINGS, HAND_MOVIES)
    by_genre = overview_of(ratings, movies).by_genre.set_index("genre")
    assert by_genre.index.tolist() == list(GENRE_LIST)
    assert by_genre.loc["Comedy", "num movies"] == 2
    assert by_genre.loc["Comedy", "ratings per genre"] == 4
    assert by_genre.loc["Comedy", "ave rating/genre"] == pytest.approx(3.5)
    assert by_genre.loc["Action", "ave rating/genre"] == pytest.approx(3.0)
    assert by_genre.loc["Drama", "num movies"] == 1
    assert by_genre.loc["Drama", "ratings per genre"] == 0
    assert math.isnan(by_genre.loc["Drama", "ave rating/genre"])
    assert by_genre["num movies"].sum() == 4  # War counts under none of the 14


def test_numbers_and_star_counts_by_hand():
    ratings, movies = _frames(HAND_RATINGS, HAND_MOVIES)
    summary = overview_of(ratings, movies)
    assert summary.numbers["ratings"] == 5
    assert summary.numbers["users"] == 3
    assert summary.numbers["movies"] == 4
    assert summary.numbers["rated_movies"] == 3
    assert summary.numbers["mean_rating"] == pytest.approx(15.5 / 5)
    assert summary.numbers["year_range"] == [1985, 2001]
    assert summary.numbers["density"] == pytest.approx(5 / 12)
    stars = dict(zip(summary.rating_counts["stars"], summary.rating_counts["ratings"]))
    assert stars == {1.5: 1, 2.0: 1, 3.0: 1, 4.0: 1, 5.0: 1}


def test_no_ratings_give_nan_mean_and_no_years_give_none():
    ratings = pd.DataFrame(columns=[USER_ID, MOVIE_ID, RATING]).astype(float)
    movies = pd.DataFrame({MOVIE_ID: [1], TITLE: ["Untitled"], GENRES: ["Drama"]})
    numbers = overview_of(ratings, movies).numbers
    assert math.isnan(numbers["mean_rating"])
    assert numbers["year_range"] is None
    assert numbers["rated_movies"] == 0


# ------------------------------------------------------------------ main_genre


def test_main_genre_is_the_rarest_of_the_14_listed():
    genres = pd.Series(
        [
            "Comedy|Action",  # Action: 2 movies, Comedy: 3
            "Comedy|Drama",  # three movies each: the lab's order breaks the tie
            "Comedy|Action|Animation",  # Animation: 1 movie
            "War|Drama|Film-Noir",  # War is not one of the 14
            "Actionable|Dramatic",  # whole names only
            "(no genres listed)",
            "IMAX",
            "Drama|Sci-Fi|Horror",  # one movie each: the lab's order breaks the tie
        ]
    )
    expected = ["Action", "Comedy", "Animation", "Drama", "Other", "Other", "Other", "Horror"]
    assert main_genre(genres).tolist() == expected


def test_only_the_commonest_main_genres_keep_a_colour():
    genres = pd.Series(["Drama"] * 3 + ["Comedy"] * 2 + ["Horror"])
    assert main_genre(genres, colours=2).tolist() == ["Drama"] * 3 + ["Comedy"] * 2 + ["Other"]


# ------------------------------------------------------------------ the embedding map


@pytest.fixture
def planted_vectors() -> np.ndarray:
    """[500, 8]: most variance along one known direction, some along a second."""
    rng = np.random.default_rng(3)
    first, second = np.eye(8)[2], np.eye(8)[5]
    return (
        rng.normal(0, 5.0, (500, 1)) * first
        + rng.normal(0, 2.0, (500, 1)) * second
        + rng.normal(0, 0.1, (500, 8))
        + 7.0  # an offset that PCA must remove
    )


def test_principal_plane_is_pca(planted_vectors):
    axes, points = principal_plane(planted_vectors)
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-12)  # orthonormal
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=1e-9)  # centred
    assert abs(points[:, 0] @ points[:, 1]) < 1e-6 * len(points)  # uncorrelated
    top_two = np.linalg.eigvalsh(np.cov(planted_vectors.T))[::-1][:2]
    np.testing.assert_allclose(points.var(axis=0, ddof=1), top_two, rtol=1e-9)
    assert np.argmax(np.abs(axes[0])) == 2 and np.argmax(np.abs(axes[1])) == 5


def test_principal_plane_signs_do_not_depend_on_the_input_sign(planted_vectors):
    axes, points = principal_plane(planted_vectors)
    flipped_axes, flipped_points = principal_plane(-planted_vectors)
    assert (axes[np.arange(2), np.abs(axes).argmax(axis=1)] > 0).all()
    np.testing.assert_allclose(flipped_axes, axes, atol=1e-12)
    np.testing.assert_allclose(flipped_points, -points, atol=1e-9)


def test_embedding_map_puts_each_movie_at_its_own_projection(planted_vectors):
    n = len(planted_vectors)
    genres = ["Comedy|Drama", "War", "Sci-Fi|Action", "Horror"] * (n // 4)
    items = pd.DataFrame(
        {
            MOVIE_ID: np.arange(n) + 100,
            TITLE: [f"Movie {i}" for i in range(n)],
            YEAR: (1950 + np.arange(n) % 60).astype(float),
            GENRES: genres,
        }
    )
    points = embedding_map(items, planted_vectors)
    projected = principal_plane(planted_vectors).points
    assert points[MOVIE_ID].tolist() == items[MOVIE_ID].tolist()
    np.testing.assert_allclose(points[["pc1", "pc2"]].to_numpy(), projected)
    assert points[MAIN_GENRE].head(4).tolist() == ["Comedy", "Other", "Action", "Horror"]
    assert str(points[YEAR].dtype) == "Int64"


def test_embedding_map_of_one_dimension_lies_on_a_line():
    items = pd.DataFrame({MOVIE_ID: [1, 2, 3], TITLE: list("abc"), YEAR: 2000.0, GENRES: "Drama"})
    points = embedding_map(items, np.array([[1.0], [2.0], [6.0]]))
    np.testing.assert_allclose(points["pc1"], [-2.0, -1.0, 3.0])
    assert (points["pc2"] == 0.0).all()


# ------------------------------------------------------------------ training rows


def test_training_preview_joins_each_rating_to_its_own_vectors():
    users = pd.DataFrame(
        [[7, 2, 4.5] + [float(g) for g in range(14)], [3, 1, 2.0] + [0.0] * 14],
        columns=list(USER_VECTOR_COLUMNS),
    )
    items = pd.DataFrame(
        [[100, 1999.0, 3.5] + [1] + [0] * 13, [200, 2004.4, 4.0] + [0] * 13 + [1]],
        columns=list(ITEM_VECTOR_COLUMNS),
    )
    ratings = pd.DataFrame({USER_ID: [3, 7, 7], MOVIE_ID: [200, 100, 200], RATING: [2.0, 5, 4]})
    user_rows, item_rows = training_preview(ratings, users, items, rows=2)
    assert user_rows["[userId]"].tolist() == [3, 7]
    assert user_rows["[rating count]"].tolist() == [1, 2]
    assert user_rows["Adventure"].tolist() == [0.0, 1.0]
    assert item_rows["[movieId]"].tolist() == [200, 100]
    assert item_rows[YEAR].tolist() == [2004, 1999]
    assert item_rows["Thriller"].tolist() == [1, 0]
    assert item_rows[TARGET_STARS].tolist() == [2.0, 5.0]
    assert "[year]" not in item_rows and "[Action]" not in user_rows  # fed: no brackets


# ------------------------------------------------------------------ pickers


def test_movie_labels_are_unique_and_sorted_case_blind():
    items = pd.DataFrame(
        {MOVIE_ID: [5, 6, 7, 8], TITLE: ["beta (2000)", "Hamlet", "Alpha (1990)", "Hamlet"]}
    )
    labels = movie_labels(items)
    assert list(labels.values()) == ["Alpha (1990)", "beta (2000)", "Hamlet · #6", "Hamlet · #8"]
    assert list(labels) == [7, 5, 6, 8]


def test_user_labels_count_and_mean():
    users = pd.DataFrame({USER_ID: [2, 9], "rating count": [29, 1], "rating ave": [3.948, 5.0]})
    assert user_labels(users) == {
        2: "user 2 · 29 ratings · mean 3.9 ★",
        9: "user 9 · 1 rating · mean 5.0 ★",
    }


def test_most_rated_movie_and_year_bounds():
    items = pd.DataFrame(
        {MOVIE_ID: [4, 8, 9], NUM_RATINGS: [3, 12, 12], YEAR: [1995, np.nan, 1931]}
    )
    assert most_rated_movie(items) == 8  # the first of the tied
    assert year_bounds(items) == (1931, 1995)
    assert year_bounds(items.assign(**{YEAR: np.nan})) == (0, 0)
