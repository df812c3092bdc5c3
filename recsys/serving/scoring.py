"""What each kind of model scores, behind one small interface the Recommender uses
(``Scoring``); ``scoring_for`` picks the kind's scorer from ``SCORINGS`` by the
bundle's manifest.

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
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np
import pandas as pd

from recsys.columns import (
    GENRE_LIST,
    ITEM_FEATURES,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    RATING,
    USER_FEATURES,
    USER_VECTOR_COLUMNS,
)
from recsys.genres import validate_genre_ratings
from recsys.model.hybrid.inputs import genre_averages
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.towers import ITEM_TOWER, LAYERS, USER_TOWER, Towers, weight_key
from recsys.model.scaling import Scalers
from recsys.serving.bundle import model_kind
from recsys.serving.new_user import NewUser

if TYPE_CHECKING:
    from recsys.serving.bundle import DecodedBundle
    from recsys.serving.catalogue import Catalogue

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
    stars = np.fromiter((rated_movies or {}).values(), dtype="float64")
    return _lab_vector(validate_genre_ratings(genre_ratings), stars, picked_flags)


def _lab_vector(
    genre_ratings: Mapping[str, float], stars: np.ndarray, picked_flags: np.ndarray | None
) -> np.ndarray:
    """``lab_user_vector`` of checked genre stars and the picks' ``stars``."""
    vector = np.zeros(len(USER_VECTOR_COLUMNS))
    vector[1] = NEW_USER_RATING_COUNT
    if len(stars):
        start = USER_VECTOR_COLUMNS.index(GENRE_LIST[0])
        vector[start : start + len(GENRE_LIST)] = genre_averages(stars, picked_flags)
    for genre, value in genre_ratings.items():
        vector[USER_VECTOR_COLUMNS.index(genre)] = value
    return vector


class Scoring(Protocol):
    """What the Recommender asks of a model kind's scorer.

    ``whole_catalogue``: the model trains on every movie of the dataset (so its
    training subset is the dataset). ``ranks_by_stars``: its list order is its predicted
    stars (otherwise a separate ranking score, so the shown stars need not fall in order).
    """

    whole_catalogue: ClassVar[bool]
    ranks_by_stars: ClassVar[bool]

    @classmethod
    def from_bundle(cls, decoded: DecodedBundle, catalogue: Catalogue) -> Scoring:
        """The scorer of a decoded bundle; ValueError or KeyError when its arrays do not
        fit (the Recommender turns them into the one-line BundleError)."""
        ...

    def new_user(self, user: NewUser, unset: Iterable[str] = ()) -> Scores:
        """Scores for a checked new user; ``unset`` genres count as not rated."""
        ...

    def existing_user(
        self, user_vector: np.ndarray, own: pd.DataFrame, unset: Iterable[str] = ()
    ) -> Scores:
        """Scores for a user of the training data (their lab vector and own ratings)."""
        ...

    def pick_terms(self, rated_rows, stars, rows, history: bool = False) -> np.ndarray | None:
        """[len(rows), len(rated_rows)] each rated movie's item-to-item term in each of
        item ``rows``' scores (``history``: an existing user's ratings, as they rank);
        None for a model without one."""
        ...

    def fans_rows(self, row: int) -> np.ndarray | None:
        """The item rows of what the fans of item ``row`` love; None without a table."""
        ...


def check_lab_shapes(
    weights: Mapping[str, np.ndarray], scalers: Scalers, embeddings: np.ndarray, n_items: int
) -> None:
    """Refuse arrays whose shapes the lab's towers cannot run (a forged or mismatched
    bundle), when the bundle loads rather than as a ValueError at the first request.

    Each tower's kernels chain ([inputs, units] → [units, …]) from the network's inputs
    (14 user, 16 item) to one shared embedding width; biases are [units]; the scalers
    cover the full vectors (17 each); ``embeddings`` is [n_items, embedding width].
    Raises ValueError (turned into BundleError by ``Recommender.load``).
    """
    widths = {}
    for tower, inputs in ((USER_TOWER, len(USER_FEATURES)), (ITEM_TOWER, len(ITEM_FEATURES))):
        width = inputs
        for layer in LAYERS:
            kernel = np.shape(weights[weight_key(tower, layer, "kernel")])
            bias = np.shape(weights[weight_key(tower, layer, "bias")])
            if len(kernel) != 2 or kernel[0] != width or bias != (kernel[1],):
                key = weight_key(tower, layer, "kernel")
                raise ValueError(f"{key} has shape {kernel} (bias {bias}); expected {width} rows")
            width = kernel[1]
        widths[tower] = width
    if widths[USER_TOWER] != widths[ITEM_TOWER]:
        raise ValueError(f"the towers' embedding widths differ: {widths}")
    for name, values, size in (
        ("user_mean", scalers.user_mean, len(USER_VECTOR_COLUMNS)),
        ("user_scale", scalers.user_scale, len(USER_VECTOR_COLUMNS)),
        ("item_mean", scalers.item_mean, len(ITEM_VECTOR_COLUMNS)),
        ("item_scale", scalers.item_scale, len(ITEM_VECTOR_COLUMNS)),
    ):
        if np.shape(values) != (size,):
            raise ValueError(f"scaler {name} has shape {np.shape(values)}, expected ({size},)")
    expected = (n_items, widths[ITEM_TOWER])
    if np.shape(embeddings) != expected:
        raise ValueError(f"item embeddings have shape {np.shape(embeddings)}, expected {expected}")


class LabScoring:
    """The lab's network: the numpy towers over the lab's scaled vectors. It trains on
    its preset's movies only, and ranks by its predicted stars."""

    whole_catalogue: ClassVar[bool] = False
    ranks_by_stars: ClassVar[bool] = True

    def __init__(self, towers: Towers, scalers: Scalers, item_embeddings: np.ndarray, flags):
        self.towers, self.scalers = towers, scalers
        self.item_embeddings = item_embeddings
        self.flags = flags  # [n_items, 14] bool

    @classmethod
    def from_bundle(cls, decoded: DecodedBundle, catalogue: Catalogue) -> LabScoring:
        weights, embeddings = decoded.weights, catalogue.item_embeddings
        check_lab_shapes(weights, decoded.scalers, embeddings, len(catalogue))
        return cls(Towers(weights), decoded.scalers, embeddings, catalogue.genre_flags)

    def user_embedding(self, user_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled user vectors → [n, d] embeddings (unit length)."""
        return self.towers.users(self.scalers.user_inputs(user_vectors))

    def item_embedding(self, item_vectors: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled item vectors → [n, d] embeddings (unit length)."""
        return self.towers.items(self.scalers.item_inputs(item_vectors))

    def predict_stars(self, user_vector: np.ndarray) -> np.ndarray:
        """[n_items] predicted stars for one unscaled [17] user vector."""
        embedding = self.user_embedding(user_vector)[0]
        return self.scalers.unscale_target(self.item_embeddings @ embedding)

    def _stars(self, user_vector: np.ndarray) -> Scores:
        stars = self.predict_stars(user_vector)
        return Scores(stars, stars.__getitem__)

    def pick_terms(self, rated_rows, stars, rows, history: bool = False) -> None:
        """The lab's network has no item-to-item term."""
        return None

    def fans_rows(self, row: int) -> None:
        """The lab's network has no item-to-item table."""
        return None

    def new_user(self, user: NewUser, unset: Iterable[str] = ()) -> Scores:
        vector = _lab_vector(user.genre_ratings, user.stars, self.flags[user.rows])
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
    """The hybrid model: its numpy user tower, ranking score and rating head. It trains
    on every movie of the dataset, and ranks by its ranking score.

    Its catalogue rows follow ``params.movie_ids``; ``rows`` maps the Recommender's
    item rows onto them.
    """

    whole_catalogue: ClassVar[bool] = True
    ranks_by_stars: ClassVar[bool] = False

    def __init__(self, params: HybridParams, item_movie_ids: np.ndarray):
        self.params = params
        rows = params.index.get_indexer(np.asarray(item_movie_ids, "int64"))
        if (rows < 0).any():
            raise ValueError("items.csv holds movies that the hybrid weights do not")
        # The same order (as training writes it): score every row without a gather.
        self.rows = None if np.array_equal(rows, np.arange(len(params.movie_ids))) else rows

    @classmethod
    def from_bundle(cls, decoded: DecodedBundle, catalogue: Catalogue) -> HybridScoring:
        params = HybridParams.from_arrays(decoded.weights)  # checks the arrays as they load
        return cls(params, catalogue.movie_ids(np.arange(len(catalogue))))

    def _scores(self, u: np.ndarray, user_bias: float, rated, stars, history: bool) -> Scores:
        """Scores of user vector ``u`` whose rated or picked catalogue rows (the model's,
        -1 = not served) and stars add the item-to-item term (``history``: an existing
        user's ratings)."""
        rated = np.asarray(rated, dtype="int64")
        stars = np.asarray(stars, dtype="float64")
        known = rated >= 0
        rank = self.params.rank_with_history(u, rated[known], stars[known], self.rows, history)

        def stars_at(rows: np.ndarray) -> np.ndarray:
            return self.params.stars(u, user_bias, self._own(rows))[0]

        return Scores(rank, stars_at)

    def _own(self, rows: np.ndarray) -> np.ndarray:
        """The model's catalogue rows of the Recommender's item ``rows``."""
        rows = np.asarray(rows, dtype="int64")
        return rows if self.rows is None else self.rows[rows]

    def pick_terms(self, rated_rows, stars, rows, history: bool = False) -> np.ndarray | None:
        """[len(rows), len(rated_rows)] what each rated or picked movie's item-to-item
        term adds to each of item ``rows``' scores (``history``: an existing user's
        ratings, weighed as they rank); None without the table."""
        table = self.params.neighbours
        if table is None:
            return None
        n = len(self.params.movie_ids)
        own = self._own(rated_rows)
        emphasis = self.params.history_emphasis(own) if history else None
        return table.contributions(own, stars, n, emphasis)[:, self._own(rows)].T

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

    def _user(
        self, genre_ratings, picks: Mapping[int, float], rows, stars, unset, history=False
    ) -> Scores:
        """Scores of a user told by genre stars and ``picks`` (the model's catalogue
        ``rows`` of them, -1 = not served, and their ``stars``; ``history``: they are an
        existing user's ratings)."""
        u, user_bias = self.params.new_user(genre_ratings, picks, unset, rows)
        return self._scores(u, user_bias, rows, stars, history)

    def new_user(self, user: NewUser, unset: Iterable[str] = ()) -> Scores:
        rows = user.rows if self.rows is None else self.rows[user.rows]
        return self._user(user.genre_ratings, user.picks, rows, user.stars, unset)

    def existing_user(
        self, user_vector: np.ndarray, own: pd.DataFrame, unset: Iterable[str] = ()
    ) -> Scores:
        movie_ids, stars = own[MOVIE_ID].to_numpy("int64"), own[RATING].to_numpy("float64")
        rated = self.params.index.get_indexer(movie_ids)
        if unset:  # the same tower as a new user who picked every movie the user rated
            picks = dict(zip(movie_ids.tolist(), stars.tolist(), strict=True))
            return self._user({}, picks, rated, stars, unset, history=True)
        users = np.zeros(len(own), dtype="int64")
        u, user_bias = self.params.histories(users, movie_ids, stars, 1)
        return self._scores(u[0], float(user_bias[0]), rated, stars, history=True)


# The scorer of each model kind, by the name its bundles' manifests carry.
SCORINGS: dict[str, type[Scoring]] = {"lab": LabScoring, "hybrid": HybridScoring}


def scoring_for(decoded: DecodedBundle, catalogue: Catalogue) -> Scoring:
    """The scorer of the kind ``decoded``'s manifest names (a bundle from before the
    hybrid model names none: the lab's)."""
    kind = model_kind(decoded.manifest)
    try:
        scoring = SCORINGS[kind]
    except KeyError:
        raise ValueError(f"model kind {kind!r} cannot be served") from None
    return scoring.from_bundle(decoded, catalogue)
