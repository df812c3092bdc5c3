"""A protocol's prepared data: the split, the features and scalers, the network inputs.

- ``lab``: the lab's own protocol, kept for parity. Features and scalers come from every
  rating, then the (repeated) rows are split 80/20 at random
  (``recsys.model.lab.train.lab_split``). Flattering: held-out ratings shape the features,
  and copies of a repeated rating can fall on both sides.
- ``holdout``: 20% of each user's ratings (rounded down) are held out at random before
  anything else is computed. The preset's movie selection, item and user vectors, the
  scalers and the repeated rows come from the training ratings only.
- ``temporal``: as ``holdout``, but each user's latest 20% by timestamp are held out
  (ties in time are broken at random).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import FeatureConfig
from recsys.dataset.movielens import MovieLens
from recsys.evaluation.splits import split_ratings
from recsys.model.features import TrainingSet, build_training_set
from recsys.model.scaling import Scalers

_RATING_COLUMNS = [USER_ID, MOVIE_ID, RATING]


@dataclass(frozen=True)
class EvaluationData:
    """One protocol's split, with everything the models need.

    training: the TrainingSet built from the training side (item/user vectors, rows).
    scalers: fit on training rows only (holdout, temporal) or every row (lab).
    user_x: [n_rows, 14] and item_x: [n_rows, 16] scaled network inputs; y_scaled:
    [n_rows] targets in scaled [-1, 1] units.
    train_ratings: userId, movieId, rating (stars): what the baselines fit on, and
    every user's known history.
    test_ratings: userId, movieId, rating (stars): what every model is scored on;
    only users and movies that the training side knows.
    network_ratings: the ratings the hybrid network trains on (train_ratings, less
    the cold-start users' picks under ``coldstart``).
    counts: ratings, train_ratings, train_rows, test_ratings, held_out,
    held_out_dropped, items, users (the evaluation JSON's ``counts``).
    """

    protocol: str
    training: TrainingSet
    scalers: Scalers
    user_x: np.ndarray
    item_x: np.ndarray
    y_scaled: np.ndarray
    train_ratings: pd.DataFrame
    test_ratings: pd.DataFrame
    counts: dict
    network_ratings: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.network_ratings is None:
            object.__setattr__(self, "network_ratings", self.train_ratings)


def prepare_holdout(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    protocol: str,
    feature_config: FeatureConfig,
    rng: int | np.random.Generator | None = None,
) -> EvaluationData:
    """Split first, then build every feature and scaler from the training ratings only."""
    split = split_ratings(ratings, protocol, rng)
    training = build_training_set(split.train, movies, feature_config)
    scalers = Scalers.fit(training.user_train, training.item_train, training.y)
    # A held-out rating is scored only if training knows its movie (the selection, made
    # on training counts, may drop it) and its user (who may have no kept rating left).
    known_movie = split.test[MOVIE_ID].isin(training.items[MOVIE_ID].astype("int64"))
    known_user = split.test[USER_ID].isin(training.users[USER_ID].astype("int64"))
    known = known_movie & known_user
    test_ratings = split.test.loc[known, _RATING_COLUMNS].reset_index(drop=True)
    counts = {
        "ratings": int(len(ratings)),
        "train_ratings": int(len(training.ratings)),
        "train_rows": int(len(training.y)),
        "test_ratings": int(len(test_ratings)),
        "held_out": int(len(split.test)),
        "held_out_dropped": int((~known).sum()),
        "items": int(len(training.items)),
        "users": int(len(training.users)),
    }
    return EvaluationData(
        protocol=protocol,
        training=training,
        scalers=scalers,
        user_x=scalers.user_inputs(training.user_train),
        item_x=scalers.item_inputs(training.item_train),
        y_scaled=scalers.scale_target(training.y),
        train_ratings=training.ratings[_RATING_COLUMNS].reset_index(drop=True),
        test_ratings=test_ratings,
        counts=counts,
    )


def prepare_lab(dataset: MovieLens, feature_config: FeatureConfig) -> EvaluationData:
    """The lab protocol: features and scalers from every rating, then the lab's row split.

    Baselines fit on the lab's training rows (repeats included) and everything is
    scored on its test rows, so they share the repetition leak but not the feature leak.
    """
    from recsys.model.lab.train import lab_split  # sklearn's model selection: only when used

    training = build_training_set(dataset.ratings, dataset.movies, feature_config)
    split = lab_split(training)
    rows = split.rows  # the row indices each side took, drawn once in lab_split_rows
    counts = {
        "ratings": int(len(dataset.ratings)),
        "train_ratings": int(len(rows.train)),
        "train_rows": int(len(rows.train)),
        "test_ratings": int(len(rows.test)),
        "held_out": int(len(rows.test)),
        "held_out_dropped": 0,
        "items": int(len(training.items)),
        "users": int(len(training.users)),
    }
    return EvaluationData(
        protocol="lab",
        training=training,
        scalers=split.scalers,
        user_x=split.user_train,
        item_x=split.item_train,
        y_scaled=split.y_train,
        train_ratings=_row_ratings(training, rows.train),
        test_ratings=_row_ratings(training, rows.test),
        counts=counts,
    )


def _row_ratings(training: TrainingSet, rows: np.ndarray) -> pd.DataFrame:
    """userId, movieId, rating (stars) of the given training rows (repeats included)."""
    columns = {
        USER_ID: training.user_train[rows, 0].astype("int64"),
        MOVIE_ID: training.item_train[rows, 0].astype("int64"),
        RATING: training.y[rows],
    }
    return pd.DataFrame(columns)
