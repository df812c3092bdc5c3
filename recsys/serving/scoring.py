"""What each kind of model scores, behind one small interface the Recommender uses.

For a user, a model gives two [n_items] arrays over the catalogue: ``rank`` (the list
order, higher first) and ``stars`` (predicted ratings, for display and RMSE).
- The lab's network ranks by its predicted stars; a new user's vector is the lab's
  (rating count 3, genre stars); picked movies fill the genres the sliders leave unset
  with the picks' average stars, as the lab's user vector averages a user's ratings.
- The hybrid model ranks by its ranking score (with the popularity prior) and shows the
  stars of its rating head; a new user's genre stars and picks feed its user tower.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cached_property

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST, MOVIE_ID, RATING, USER_VECTOR_COLUMNS
from recsys.genres import validate_genre_ratings
from recsys.model.hybrid.inputs import genre_averages
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.towers import Towers
from recsys.model.scaling import Scalers

# The lab's example new user: rating count 3, rating ave 0.
NEW_USER_RATING_COUNT = 3.0


class Scores:
    """[n_items] ranking scores (higher first), and predicted stars: all of them
    (``stars``) or those of a few rows (``stars_at``), computed only when asked."""

    def __init__(self, rank: np.ndarray, stars_at: Callable[[np.ndarray], np.ndarray]):
        self.rank = rank
        self.stars_at = stars_at

    @cached_property
    def stars(self) -> np.ndarray:
        return self.stars_at(np.arange(len(self.rank)))


def lab_user_vector(
    genre_ratings: Mapping[str, float],
    rated_movies: Mapping[int, float] | None = None,
    picked_flags: np.ndarray | None = None,
) -> np.ndarray:
    """The lab's new-user vector [17]: id 0, rating count 3, rating ave 0, genre stars.

    Picked movies (``rated_movies`` with their [k, 14] ``picked_flags``) fill each genre
    with their average stars, as the lab's user vector averages a user's ratings; a
    slider set by hand wins.
    """
    vector = np.zeros(len(USER_VECTOR_COLUMNS))
    vector[1] = NEW_USER_RATING_COUNT
    if rated_movies:
        start = USER_VECTOR_COLUMNS.index(GENRE_LIST[0])
        stars = np.fromiter(rated_movies.values(), dtype="float64", count=len(rated_movies))
        vector[start : start + len(GENRE_LIST)] = genre_averages(stars, picked_flags)
    for genre, stars in validate_genre_ratings(genre_ratings).items():
        vector[USER_VECTOR_COLUMNS.index(genre)] = stars
    return vector


class LabScoring:
    """The lab's network: the numpy towers over the lab's scaled vectors."""

    kind = "lab"

    def __init__(self, towers: Towers, scalers: Scalers, item_embeddings: np.ndarray, flags):
        self.towers, self.scalers = towers, scalers
        self.item_embeddings = item_embeddings
        self.flags = flags  # [n_items, 14] bool

    def _stars(self, user_vector: np.ndarray) -> Scores:
        embedding = self.towers.users(self.scalers.user_inputs(user_vector))[0]
        stars = self.scalers.unscale_target(self.item_embeddings @ embedding)
        return Scores(stars, stars.__getitem__)

    def pick_terms(self, rated_rows, stars, rows) -> None:
        """The lab's network has no item-to-item term."""
        return None

    def fans_rows(self, row: int) -> None:
        """The lab's network has no item-to-item table."""
        return None

    def new_user(self, genre_ratings, rated_movies, rows, unset: Iterable[str] = ()) -> Scores:
        vector = lab_user_vector(genre_ratings, rated_movies, self.flags[rows])
        return self._stars(_unset(vector, unset))

    def existing_user(
        self, user_vector: np.ndarray, own: pd.DataFrame, unset: Iterable[str] = ()
    ) -> Scores:
        return self._stars(_unset(user_vector, unset))


def _unset(user_vector: np.ndarray, genres: Iterable[str]) -> np.ndarray:
    """The lab's user vector with ``genres`` not rated (0 stars)."""
    columns = [USER_VECTOR_COLUMNS.index(genre) for genre in genres]
    if not columns:
        return user_vector
    vector = np.array(user_vector, dtype="float64")
    vector[columns] = 0.0
    return vector


class HybridScoring:
    """The hybrid model: its numpy user tower, ranking score and rating head.

    Its catalogue rows follow ``params.movie_ids``; ``rows`` maps the Recommender's
    item rows onto them.
    """

    kind = "hybrid"

    def __init__(self, params: HybridParams, item_movie_ids: np.ndarray):
        self.params = params
        rows = params.index.get_indexer(np.asarray(item_movie_ids, "int64"))
        if (rows < 0).any():
            raise ValueError("items.csv holds movies that the hybrid weights do not")
        # The same order (as training writes it): score every row without a gather.
        self.rows = None if np.array_equal(rows, np.arange(len(params.movie_ids))) else rows

    def _scores(self, u: np.ndarray, user_bias: float, rated, stars) -> Scores:
        """Scores of user vector ``u`` whose rated or picked catalogue rows (the model's,
        -1 = not served) and stars add the item-to-item term."""
        rated = np.asarray(rated, dtype="int64")
        stars = np.asarray(stars, dtype="float64")
        known = rated >= 0
        rank = self.params.rank_with_history(u, rated[known], stars[known], self.rows)

        def stars_at(rows: np.ndarray) -> np.ndarray:
            return self.params.stars(u, user_bias, self._own(rows))[0]

        return Scores(rank, stars_at)

    def _own(self, rows: np.ndarray) -> np.ndarray:
        """The model's catalogue rows of the Recommender's item ``rows``."""
        rows = np.asarray(rows, dtype="int64")
        return rows if self.rows is None else self.rows[rows]

    def pick_terms(self, rated_rows, stars, rows) -> np.ndarray | None:
        """[len(rows), len(rated_rows)] what each rated or picked movie's item-to-item
        term adds to each of item ``rows``' scores; None without the table."""
        table = self.params.neighbours
        if table is None:
            return None
        n = len(self.params.movie_ids)
        return table.contributions(self._own(rated_rows), stars, n)[:, self._own(rows)].T

    def fans_rows(self, row: int) -> np.ndarray | None:
        """The item rows of what the fans of item ``row`` love: its row of Similar
        movies' table (of the term's in a bundle from before it), largest weight first;
        None without the tables."""
        table = self.params.neighbours
        if table is None:
            return None
        columns = table.similar_row(int(self._own([row])[0]))[0].astype("int64")
        if self.rows is None:
            return columns
        inverse = np.full(len(self.params.movie_ids), -1, dtype="int64")
        inverse[self.rows] = np.arange(len(self.rows))
        mine = inverse[columns]
        return mine[mine >= 0]

    def new_user(self, genre_ratings, rated_movies, rows, unset: Iterable[str] = ()) -> Scores:
        picks = rated_movies or {}
        if rows is None:
            ids = np.fromiter(picks, dtype="int64", count=len(picks))
            rows = self.params.index.get_indexer(ids)
        elif self.rows is not None:
            rows = np.where(rows >= 0, self.rows[rows], -1)
        stars = np.fromiter(picks.values(), dtype="float64", count=len(picks))
        u, user_bias = self.params.new_user(genre_ratings, picks, unset, rows)
        return self._scores(u, user_bias, rows, stars)

    def existing_user(
        self, user_vector: np.ndarray, own: pd.DataFrame, unset: Iterable[str] = ()
    ) -> Scores:
        if unset:  # the same tower as a new user who picked every movie the user rated
            rated = dict(zip(own[MOVIE_ID].tolist(), own[RATING].tolist(), strict=True))
            return self.new_user({}, rated, None, unset)
        users = np.zeros(len(own), dtype="int64")
        movie_ids, stars = own[MOVIE_ID].to_numpy("int64"), own[RATING].to_numpy("float64")
        u, user_bias = self.params.histories(users, movie_ids, stars, 1)
        rated = self.params.index.get_indexer(movie_ids)
        return self._scores(u[0], float(user_bias[0]), rated, stars)
