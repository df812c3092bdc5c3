"""The ``coldstart`` protocol: how well a model serves a user it never trained on.

20% of the users are held out entirely. Each reveals 5 random ratings, as the movies a
new user picks on the New user page (their genre ratings are those picks' averages);
every other rating of theirs is scored. The networks train on the other users only and
meet a held-out user through their picks, with no retraining. The baselines and EASE
fit on the other users' ratings plus the picks: for them, taking in a new user is
computing that user's own mean, bias or history row. Models that need retraining to
know a new user (SVD, KNNBaseline, ALS) are left out, and the JSON says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import FeatureConfig
from recsys.dataset.groups import position_in_user
from recsys.evaluation.protocols import EvaluationData
from recsys.model.features import build_training_set
from recsys.model.scaling import Scalers

COLD_FRACTION = 0.2
PICKS = 5
EXCLUDED = {
    "svd": "needs retraining to know a new user",
    "knn_baseline": "needs retraining to know a new user",
    "als": "fold-in of a new user is not implemented here",
}
_COLUMNS = [USER_ID, MOVIE_ID, RATING]


def cold_users(ratings: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """The ``COLD_FRACTION`` of the users held out whole, drawn with ``rng``."""
    everyone = np.unique(ratings[USER_ID].to_numpy("int64"))
    return rng.choice(everyone, size=int(COLD_FRACTION * len(everyone)), replace=False)


def prepare_coldstart(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    feature_config: FeatureConfig,
    rng: int | np.random.Generator | None = None,
    picks: int = PICKS,
) -> EvaluationData:
    """Hold out 20% of the users; reveal ``picks`` ratings of each; score the rest.

    The training set (vectors, the preset's movies, scalers) comes from the other
    users' ratings plus the picks; the lab network's rows and the hybrid network's
    ratings are the other users' only.
    """
    rng = np.random.default_rng(rng)
    user_ids = ratings[USER_ID].to_numpy("int64")
    cold = cold_users(ratings, rng)
    is_cold = np.isin(user_ids, cold)
    revealed = is_cold & (position_in_user(user_ids, rng) < picks)
    known = ratings[~is_cold | revealed]
    training = build_training_set(known, movies, feature_config)
    warm_rows = ~np.isin(training.user_train[:, 0].astype("int64"), cold)
    scalers = Scalers.fit(
        training.user_train[warm_rows], training.item_train[warm_rows], training.y[warm_rows]
    )
    test = ratings[is_cold & ~revealed]
    in_preset = test[MOVIE_ID].isin(training.items[MOVIE_ID].astype("int64"))
    has_picks = test[USER_ID].isin(training.users[USER_ID].astype("int64"))
    test_ratings = test.loc[in_preset & has_picks, _COLUMNS].reset_index(drop=True)
    train_ratings = training.ratings[_COLUMNS].reset_index(drop=True)
    network_ratings = train_ratings[~train_ratings[USER_ID].isin(cold)].reset_index(drop=True)
    counts = {
        "ratings": int(len(ratings)),
        "train_ratings": int(len(training.ratings)),
        "train_rows": int(warm_rows.sum()),
        "test_ratings": int(len(test_ratings)),
        "held_out": int(len(test)),
        "held_out_dropped": int(len(test) - len(test_ratings)),
        "items": int(len(training.items)),
        "users": int(len(training.users)),
        "cold_users": int(len(cold)),
        "picks_per_user": int(picks),
    }
    return EvaluationData(
        protocol="coldstart",
        training=training,
        scalers=scalers,
        user_x=scalers.user_inputs(training.user_train[warm_rows]),
        item_x=scalers.item_inputs(training.item_train[warm_rows]),
        y_scaled=scalers.scale_target(training.y[warm_rows]),
        train_ratings=train_ratings,
        test_ratings=test_ratings,
        counts=counts,
        network_ratings=network_ratings,
    )
