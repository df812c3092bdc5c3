"""Which ratings train and which are held out, per user (``holdout`` and ``temporal``).

The ``lab`` protocol splits rows instead: ``recsys.model.lab.train.lab_split_rows``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import TIMESTAMP, USER_ID
from recsys.dataset.groups import position_in_user
from recsys.errors import UsageError

TEST_FRACTION = 0.2


class Split(NamedTuple):
    """Training and held-out ratings; rows keep their index labels in ``ratings``."""

    train: pd.DataFrame
    test: pd.DataFrame


def split_ratings(
    ratings: pd.DataFrame,
    protocol: str,
    rng: int | np.random.Generator | None = None,
    test_fraction: float = TEST_FRACTION,
) -> Split:
    """Hold out ``floor(test_fraction × n_u)`` of each user's ratings.

    ``holdout`` picks them at random; ``temporal`` takes the latest by timestamp, ties
    broken at random. Rounding down keeps most of a small user's ratings in training
    (a user with 4 or fewer ratings keeps them all at 0.2). Every rating lands in
    exactly one side. Vectorised: one lexsort, no loop over users.
    """
    if protocol not in ("holdout", "temporal"):
        raise UsageError(f"split_ratings: unknown protocol {protocol!r} (holdout or temporal)")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    rng = np.random.default_rng(rng)
    user_codes, _ = pd.factorize(ratings[USER_ID], sort=False)
    by = ratings[TIMESTAMP].to_numpy() if protocol == "temporal" else None
    position = position_in_user(user_codes, rng, by=by)
    per_user = np.bincount(user_codes)
    # The tiny epsilon keeps e.g. 0.2 × 15 = 3.0000000000000004 from rounding to 3 wrongly
    # the other way; floor is what we want.
    held_out = np.floor(per_user * test_fraction + 1e-9).astype("int64")
    is_test = position >= per_user[user_codes] - held_out[user_codes]
    return Split(train=ratings[~is_test], test=ratings[is_test])
