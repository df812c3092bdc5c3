"""The hybrid rating head's last step, fitted in closed form after the towers train.

The towers are trained for two jobs at once (ranking and stars), by stochastic steps on
a sampled part of each user's ratings. Their stars are then refined on every training
rating, with the towers frozen, by two ridge regressions of the residuals, alternated
``rounds`` times (numpy; a second or two on ml-latest-small):
- per movie: its star bias b_i moves by its mean residual (shrunk by
  ``ITEM_BIAS_SHRINK`` ratings) and it gets a vector w_i, the ridge regression
  (``ITEM_RIDGE``) of its residuals on its raters' taste vectors u; the stars then weigh
  u·(α·v_i + w_i) where the network alone weighed α·u·v_i;
- per user: the :class:`~recsys.model.hybrid.fold_in.FoldIn` (a shift c_u and a vector z_u),
  which serving repeats from the user's own ratings or picks, so it needs no table of
  users.
Values chosen on validation splits carved from the training side (see docs/model.md). The
ranking scores are not touched.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from recsys.model.hybrid.fold_in import FoldIn, apply_fold_in, ridge_by_group
from recsys.model.hybrid.inputs import rating_codes, user_inputs
from recsys.model.hybrid.layout import ServedLayout
from recsys.model.hybrid.neighbour_table import with_neighbours
from recsys.model.hybrid.params import HybridParams

ROUNDS = 2
ITEM_BIAS_SHRINK = 10.0
ITEM_RIDGE = 30.0


def refit_stars(
    params: HybridParams,
    users: np.ndarray,
    rows: np.ndarray,
    stars: np.ndarray,
    n_users: int,
    fold_in: FoldIn | None = None,
    rounds: int = ROUNDS,
) -> HybridParams:
    """``params`` with the rating head refitted on training ratings (user codes
    0..n_users-1, catalogue rows, stars) and ``fold_in`` (default :class:`FoldIn`()) set."""
    fold_in = FoldIn() if fold_in is None else fold_in
    stars = np.asarray(stars, "float64")
    baseline = (params.mu, params.baseline_bias)
    inputs = user_inputs(users, rows, stars, n_users, params.flags, baseline)
    tower_u, tower_bias = params.user_vectors(inputs)  # the towers are frozen
    at = ServedLayout(params.dim, params.star_dim)
    network_items = params.star_items  # α·v_i
    n_items = len(params.movie_ids)
    item_count = np.bincount(rows, minlength=n_items).astype("float64")
    refitted = replace(params, fold_in=fold_in)
    for _ in range(rounds):
        u, user_bias = apply_fold_in(refitted, tower_u, tower_bias, users, rows, stars)
        taste = u[users, at.fold_in_taste]  # what meets s_i in the stars: a'·u
        predicted = refitted.mu + user_bias[users] + refitted.star_bias[rows]
        residual = stars - predicted - refitted.pair_dots(u[users], rows)
        star_bias = refitted.star_bias + np.bincount(rows, residual, n_items) / (
            item_count + ITEM_BIAS_SHRINK
        )
        # w_i is fitted afresh each round: take back the current one's part first.
        current_w = refitted.star_items - network_items
        residual += np.einsum("ij,ij->i", taste, current_w[rows])
        residual -= (star_bias - refitted.star_bias)[rows]
        w = ridge_by_group(rows, n_items, taste, residual, ITEM_RIDGE)
        star_taste = (network_items + w).astype("float32")
        refitted = replace(refitted, star_bias=star_bias, star_taste=star_taste)
    return refitted


def refit_on_ratings(params: HybridParams, ratings: pd.DataFrame) -> HybridParams:
    """:func:`refit_stars` on a ratings frame (userId, movieId, rating), as the chief of a
    distributed training does with every training rating once the workers are done; the
    item-to-item table (``recsys.model.hybrid.neighbour_table``) too."""
    users, items, stars, n_users = rating_codes(ratings, params.index)
    params = refit_stars(params, users, items, stars, n_users)
    return with_neighbours(params, users, items, n_users, stars)
