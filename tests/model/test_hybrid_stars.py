"""The hybrid rating head's closed-form step: per-group ridge regressions, the refit of
the movies' side after training, and the fold-in of a user's own ratings at serving."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recsys.model.hybrid.fold_in import FoldIn, ridge_by_group, ridge_fit
from recsys.model.hybrid.layout import DENSE, N_GENRES, N_HEAD
from recsys.model.hybrid.params import HybridParams
from recsys.model.hybrid.stars import refit_stars

DIM = 8


def _random_params(rng: np.random.Generator, n_items: int = 60) -> HybridParams:
    """A small hybrid model with random weights (no refit, no fold-in)."""
    flags = (rng.random((n_items, N_GENRES)) < 0.2).astype("float32")
    taste = rng.normal(0, 0.5, (n_items, DIM)).astype("float32")
    counts = rng.integers(0, 50, n_items)
    zeros = np.zeros_like(flags)
    item_vecs = np.concatenate([taste, np.log1p(counts)[:, None], flags, zeros], axis=1)
    hidden, n_in, n_out = 16, DENSE.width + 2 * DIM, DIM + N_HEAD
    return HybridParams(
        movie_ids=np.arange(1, n_items + 1),
        item_vecs=item_vecs.astype("float32"),
        rank_bias=rng.normal(0, 0.1, n_items),
        star_bias=np.zeros(n_items),
        counts=counts,
        baseline_bias=np.zeros(n_items),
        flags=flags,
        user_layers=(
            (rng.normal(0, 0.2, (n_in, hidden)).astype("float32"), np.zeros(hidden, "float32")),
            (rng.normal(0, 0.2, (hidden, n_out)).astype("float32"), np.zeros(n_out, "float32")),
        ),
        genre_weight=np.ones(N_GENRES, "float32"),
        star_vecs=flags,
        star_genre_weight=np.ones(N_GENRES, "float32"),
        mu=3.5,
        alpha=0.1,
        pop_prior=0.5,
    )


def _planted_ratings(rng, n_users: int, n_items: int, per_user: int = 30):
    """Ratings with planted movie biases and user shifts the random towers know nothing of."""
    item_effect, user_effect = rng.normal(0, 0.8, n_items), rng.normal(0, 0.5, n_users)
    users = np.repeat(np.arange(n_users), per_user)
    rows = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    stars = np.clip(
        3.5 + item_effect[rows] + user_effect[users] + rng.normal(0, 0.3, len(rows)), 0.5, 5
    )
    return users, rows, np.round(stars * 2) / 2


def _rmse(params, users, rows, stars, n_users):
    u, bias = params.histories(users, params.movie_ids[rows], stars, n_users)
    return float(np.sqrt(np.mean((params.pair_stars(u[users], bias[users], rows) - stars) ** 2)))


def test_ridge_by_group_solves_each_group_in_primal_and_dual_form():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=9)
    groups = np.array([2, 0, 2, 0, 0, 0, 2, 0, 0])  # group 1 has no rows; group 2 has 3 = m
    groups[6] = 3  # group 3: 1 row, fewer than m: the dual form
    out = ridge_by_group(groups, 5, x, y, 2.0)
    for g in range(5):
        at = groups == g
        expected = np.linalg.solve(x[at].T @ x[at] + 2.0 * np.eye(3), x[at].T @ y[at])
        np.testing.assert_allclose(out[g], expected if at.any() else 0.0, atol=1e-10)
    one = ridge_by_group(np.zeros(2, "int64"), 1, x[:2], y[:2], 2.0)[0]  # one group, dual
    expected = np.linalg.solve(x[:2].T @ x[:2] + 2.0 * np.eye(3), x[:2].T @ y[:2])
    np.testing.assert_allclose(one, expected, atol=1e-10)


def test_a_ridge_without_a_ridge_on_repeated_rows_is_their_least_squares_fit():
    """No ridge and two identical rows: the system is singular; the fit still answers."""
    x = np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]])
    w = ridge_fit(x, np.array([1.0, 3.0]), 0.0)
    np.testing.assert_allclose(x @ w, [2.0, 2.0], atol=1e-8)  # the mean of the two


def test_the_refit_learns_what_the_towers_missed_and_leaves_the_ranking_alone():
    rng = np.random.default_rng(1)
    params = _random_params(rng)
    users, rows, stars = _planted_ratings(rng, 80, len(params.movie_ids))
    refitted = refit_stars(params, users, rows, stars, 80)
    assert refitted.fold_in == FoldIn() and refitted.star_taste is not None
    before, after = _rmse(params, users, rows, stars, 80), _rmse(refitted, users, rows, stars, 80)
    assert after < 0.6 * before, (before, after)
    u, _ = params.histories(users, params.movie_ids[rows], stars, 80)
    u2, _ = refitted.histories(users, params.movie_ids[rows], stars, 80)
    np.testing.assert_allclose(refitted.rank_scores(u2), params.rank_scores(u), rtol=1e-6)


def test_a_new_users_picks_above_the_model_raise_every_other_movies_stars():
    rng = np.random.default_rng(2)
    params = replace(_random_params(rng), fold_in=FoldIn())
    plain = replace(params, fold_in=None)
    picks = {int(m): 5.0 for m in params.movie_ids[:8]}
    others = np.arange(8, len(params.movie_ids))
    raised = params.stars(*params.new_user({}, picks), others)
    unchanged = plain.stars(*plain.new_user({}, picks), others)
    assert np.mean(raised - unchanged) > 0.2
    low = {m: 1.0 for m in picks}
    assert np.mean(params.stars(*params.new_user({}, low), others) - unchanged) < -0.2


def test_one_pick_moves_the_stars_less_than_many_of_the_same():
    rng = np.random.default_rng(3)
    params = replace(_random_params(rng), fold_in=FoldIn())
    others = np.arange(30, len(params.movie_ids))

    def mean_stars(n_picks: int) -> float:
        picks = {int(m): 5.0 for m in params.movie_ids[:n_picks]}
        return float(np.mean(params.stars(*params.new_user({}, picks), others)))

    assert mean_stars(1) < mean_stars(30)


def test_the_refit_and_fold_in_round_trip_through_the_arrays():
    rng = np.random.default_rng(4)
    params = _random_params(rng)
    users, rows, stars = _planted_ratings(rng, 40, len(params.movie_ids))
    refitted = refit_stars(params, users, rows, stars, 40, FoldIn(ridge=3.0))
    again = HybridParams.from_arrays(refitted.to_arrays())
    assert again.fold_in == FoldIn(ridge=3.0)
    picks = {1: 4.0, 7: 2.0, 9: 5.0}
    np.testing.assert_allclose(
        again.stars(*again.new_user({"Drama": 4.0}, picks)),
        refitted.stars(*refitted.new_user({"Drama": 4.0}, picks)),
        rtol=1e-6,
    )
    arrays = refitted.to_arrays()
    arrays["star_taste"] = arrays["star_taste"][:, :-1]
    with pytest.raises(ValueError, match="rating head"):
        HybridParams.from_arrays(arrays)
    arrays = refitted.to_arrays()
    arrays["fold_in"] = arrays["fold_in"][:-1]
    with pytest.raises(ValueError, match="fold-in"):
        HybridParams.from_arrays(arrays)
