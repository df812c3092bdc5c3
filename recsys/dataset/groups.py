"""Ratings grouped by user: each rating's position among its user's ratings."""

from __future__ import annotations

import numpy as np


def position_in_user(
    user_codes: np.ndarray, rng: np.random.Generator, by: np.ndarray | None = None
) -> np.ndarray:
    """[n] each rating's 0-based position within its user's ratings.

    Ordered by ``by`` (e.g. timestamps) when given, ties and everything else at random
    (one ``rng.random(n)`` draw). Vectorised: one lexsort, no loop over users.
    """
    user_codes = np.asarray(user_codes)
    n = len(user_codes)
    keys = (rng.random(n),) if by is None else (rng.random(n), by)
    order = np.lexsort((*keys, user_codes))
    sorted_codes = user_codes[order]
    starts = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]
    sizes = np.diff(np.r_[starts, n])
    position = np.empty(n, dtype="int64")
    position[order] = np.arange(n) - np.repeat(starts, sizes)
    return position
