"""How each training epoch shows a user to the hybrid model (numpy only).

Every epoch re-splits each user's ratings into what the user tower sees and what it
must rank, so the tower learns full histories, a few picked movies and, for some users,
genre ratings alone: the ways the New user page meets a person.
"""

from __future__ import annotations

import numpy as np

from recsys.config import HybridConfig
from recsys.dataset.groups import position_in_user
from recsys.model.hybrid.inputs import CENTER
from recsys.model.hybrid.layout import DENSE


def epoch_split(users: np.ndarray, n_users: int, config: HybridConfig, rng: np.random.Generator):
    """Per rating, for one epoch: (input, pooled, target); per user: genre-only or not.
    Most users show ``input_fraction`` of their ratings; ``few_share`` show 1..few_max;
    ``genre_only_share`` show only the genre ratings of 1..genre_only_max (nothing
    pooled): so the tower learns new users from sliders and a few picks, too.
    """
    rank = position_in_user(users, rng)
    per_user = np.bincount(users, minlength=n_users)
    full_share = 1.0 - config.few_share - config.genre_only_share
    mode = rng.choice(3, size=n_users, p=[full_share, config.few_share, config.genre_only_share])
    shown = np.select(
        [mode == 0, mode == 1],
        [
            np.floor(per_user * config.input_fraction).astype("int64"),
            rng.integers(1, config.few_max + 1, n_users),
        ],
        rng.integers(1, config.genre_only_max + 1, n_users),
    )
    shown = np.minimum(shown, per_user - 1)  # leave at least one target
    is_input = rank < shown[users]
    pooled = is_input & (mode[users] != 2) & (rank < config.history_cap)
    n_target = np.maximum(np.ceil(per_user * config.target_fraction), 1).astype("int64")
    is_target = ~is_input & (rank < shown[users] + n_target[users])
    return is_input, pooled, is_target, mode == 2


def slider_users(dense, genre_only, users, items, is_input, flags, config, rng):
    """Make the genre-only users look like a user of the sliders, in place of ``dense``.

    Each keeps a random ``genre_keep`` of their rated genres (one at least) and shows no
    count or offset, as ``HybridParams.new_user`` without picks. Returns their targets:
    every unshown rating of a movie in a genre they like (≥ ``like_genre_stars``, or any
    movie if they like none) and in no genre they dislike (< ``dislike_genre_stars``),
    thinned to about ``target_fraction`` of their ratings.
    """
    rated = dense[:, DENSE.rated] > 0
    keep = rated & (rng.random(rated.shape) < config.genre_keep)
    keep = np.where(keep.any(1, keepdims=True), keep, rated)
    keep &= genre_only[:, None]
    rows = np.flatnonzero(genre_only)
    centred = np.where(keep, dense[:, DENSE.centred], 0.0)
    dense[rows, DENSE.centred], dense[rows, DENSE.rated] = centred[rows], keep[rows]
    n_kept = np.maximum(keep.sum(1), 1)
    # The mean: that of the set genres; no count and no offset.
    dense[rows, DENSE.mean_column] = (centred.sum(1) / n_kept)[rows]
    dense[rows, DENSE.history] = 0.0
    stars = centred + CENTER
    liked = keep & (stars >= config.like_genre_stars)
    disliked = keep & (stars < config.dislike_genre_stars)
    item_flags = flags[items] > 0
    has_liked = (item_flags & liked[users]).any(1) | ~liked[users].any(1)
    wanted = genre_only[users] & ~is_input & has_liked & ~(item_flags & disliked[users]).any(1)
    n_users = len(dense)
    per_user = np.bincount(users, minlength=n_users)
    n_wanted = np.bincount(users, weights=wanted, minlength=n_users)
    n_target = np.maximum(np.ceil(per_user * config.target_fraction), 1)
    chance = np.minimum(1.0, n_target / np.maximum(n_wanted, 1))
    return wanted & (rng.random(len(users)) < chance[users])


def planned_epochs(config: HybridConfig, steps_per_epoch: int) -> int:
    """``config.epochs``, or more (up to ``config.max_epochs``) when epochs of
    ``steps_per_epoch`` updates would make fewer than ``config.min_steps`` in all."""
    wanted = min(-(-config.min_steps // max(steps_per_epoch, 1)), config.max_epochs)
    return max(config.epochs, wanted)


def epoch_lr(config: HybridConfig, epoch: int, planned: int) -> float:
    """Adam's rate in ``epoch`` (1..``planned``): ``config.lr`` falling along a half cosine
    to ``config.lr_final`` × ``config.lr`` in the last epoch."""
    done = (epoch - 1) / max(planned - 1, 1)
    falling = 0.5 * (1 + np.cos(np.pi * done))
    return float(config.lr * (config.lr_final + (1 - config.lr_final) * falling))
