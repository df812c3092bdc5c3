"""Validation runs: a protocol run on the training side of its own test split.

``evaluate --validation`` is where hyperparameters are chosen. For seed s, the test
split that a plain run with seed s scores (the held-out ratings, or the held-out users
with everything they rated) is dropped first, with their tags; the protocol then runs on
what is left, drawing its own split from another random stream. The reported test
numbers never shaped a choice made this way.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, USER_ID
from recsys.errors import UsageError
from recsys.evaluation.coldstart import cold_users
from recsys.evaluation.picks import held_out_users
from recsys.evaluation.splits import split_ratings

# The inner split's random stream: [seed, this], never the test split's seed alone.
VALIDATION_STREAM = 2


class ValidationSide(NamedTuple):
    """The training side of a protocol's test split, and the tags it may use."""

    ratings: pd.DataFrame
    tags: pd.DataFrame | None
    split_rng: np.random.Generator  # draws the validation split


def training_side(ratings: pd.DataFrame, protocol: str, seed: int) -> pd.DataFrame:
    """``ratings`` less the test side that ``protocol`` draws with ``seed``."""
    if protocol in ("holdout", "temporal"):
        return split_ratings(ratings, protocol, seed).train
    if protocol == "coldstart":
        held = cold_users(ratings, np.random.default_rng(seed))
    elif protocol in ("onepick", "similar"):
        held = held_out_users(ratings, np.random.default_rng(seed))
    else:
        raise UsageError(f"--validation: the {protocol} protocol has no validation split")
    return ratings[~np.isin(ratings[USER_ID].to_numpy("int64"), held)]


def validation_side(
    ratings: pd.DataFrame, tags: pd.DataFrame | None, protocol: str, seed: int
) -> ValidationSide:
    """The ratings and tags a validation run of ``protocol`` with ``seed`` works on."""
    kept = training_side(ratings, protocol, seed)
    if tags is not None and len(tags):
        test = ratings.drop(index=kept.index)
        key = pd.MultiIndex.from_frame(tags[[USER_ID, MOVIE_ID]].astype("int64"))
        held = pd.MultiIndex.from_frame(test[[USER_ID, MOVIE_ID]].astype("int64"))
        tags = tags[~key.isin(held)]
    return ValidationSide(kept, tags, np.random.default_rng([seed, VALIDATION_STREAM]))
