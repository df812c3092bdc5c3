"""The served model as the evaluation meets it: a Recommender built in memory from a
hybrid model trained here, holding what ``recsys.model.hybrid.train`` writes into a
bundle (the parameters' arrays, the movies, their embeddings, the users and ratings).

The ``onepick`` and ``similar`` protocols then score the very paths the app calls:
``Recommender.new_user_scores`` for a new user's picks and ``Recommender.similar``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, USER_ID, USER_VECTOR_COLUMNS
from recsys.config import HYBRID
from recsys.evaluation.protocols import EvaluationData
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.train import ITEMS_CSV_COLUMNS
from recsys.serving.bundle import DecodedBundle
from recsys.serving.recommender import Recommender


def served_recommender(params: HybridParams, data: EvaluationData) -> Recommender:
    """A Recommender over ``data``'s movies (its rows in ``data.training.items`` order),
    as a bundle of this hybrid model would serve it."""
    training = data.training
    items = training.items[ITEMS_CSV_COLUMNS].copy()
    items[MOVIE_ID] = items[MOVIE_ID].astype("int64")
    users = training.users[list(USER_VECTOR_COLUMNS)].copy()
    users[USER_ID] = users[USER_ID].astype("int64")
    rows = pd.Index(params.movie_ids).get_indexer(items[MOVIE_ID])
    embeddings = np.ascontiguousarray(params.item_vecs[rows, : params.dim], dtype="float32")
    decoded = DecodedBundle(
        path=None,
        manifest={"model": HYBRID},
        manifest_hash="evaluation",
        weights=params.to_arrays(),
        scalers=data.scalers,
        items=items,
        users=users,
        ratings=data.train_ratings,
        history={},
        item_embeddings=embeddings,
    )
    return Recommender(decoded)
