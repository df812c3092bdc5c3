"""Each rating's position among its user's ratings (splits, coldstart and training use it)."""

from __future__ import annotations

import numpy as np

from recsys.dataset.groups import position_in_user


def test_positions_number_each_users_ratings_from_zero():
    users = np.array([3, 1, 3, 3, 1, 7])
    position = position_in_user(users, np.random.default_rng(0))
    for user in np.unique(users):
        assert sorted(position[users == user]) == list(range((users == user).sum()))


def test_positions_follow_by_then_chance():
    users = np.array([1, 1, 1, 2, 2])
    times = np.array([30, 10, 20, 5, 5])
    position = position_in_user(users, np.random.default_rng(0), by=times)
    assert position[:3].tolist() == [2, 0, 1]  # in time order
    ties = {
        tuple(position_in_user(users, np.random.default_rng(s), by=times)[3:]) for s in range(20)
    }
    assert ties == {(0, 1), (1, 0)}  # equal times: either order, at random
