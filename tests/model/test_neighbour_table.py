"""The item-to-item table: EASE's closed form, top-k per movie, stored in the bundle; a
pick brings the movies its fans love into the list and into Similar movies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recsys.columns import FOUND_BY, FOUND_BY_FANS, MOVIE_ID, RATING, USER_ID
from recsys.config import hybrid_config
from recsys.dataset.movielens import load_movielens
from recsys.dataset.synth import write_synthetic
from recsys.model.hybrid import neighbour_table as nt
from recsys.model.hybrid.params import HybridParams
from recsys.model.hybrid.train import train_hybrid_bundle
from recsys.serving.recommender import Recommender

# ---------------------------------------------------------------------------- the table


def _dense_ease(users, items, n_users, n_items, lam):
    x = np.zeros((n_users, n_items))
    x[users, items] = 1.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(n_items))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def test_the_weights_are_eases_closed_form_with_each_rows_largest_kept():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 40, 300), rng.integers(0, 12, 300)
    table = nt.fit_neighbour_table(users, items, 40, 12, lam=5.0, top_k=4, min_count=1)
    expected = _dense_ease(users, items, 40, 12, 5.0)
    dense = table.matrix().toarray()
    for row in range(12):
        columns, weights = table.row(row)
        best = np.sort(expected[row][expected[row] > 0])[::-1][:4]
        np.testing.assert_allclose(weights, best, rtol=1e-3)
        assert (np.diff(weights) <= 0).all()
        np.testing.assert_allclose(expected[row, columns], weights, rtol=1e-3)
        assert row not in columns
    assert ((dense > 0).sum(axis=1) <= 4).all()


def test_only_the_most_rated_movies_are_covered():
    counts = np.array([5, 1, 9, 9, 2, 7])
    assert nt.covered_items(counts, min_count=2, max_items=3).tolist() == [2, 3, 5]
    users = np.array([0, 0, 1, 1, 2])
    items = np.array([0, 2, 0, 2, 1])  # movie 1 rated once: no row, no column
    table = nt.fit_neighbour_table(users, items, 3, 4, lam=1.0, top_k=5)
    assert len(table.row(1)[0]) == 0 and len(table.row(3)[0]) == 0
    assert table.row(0)[0].tolist() == [2] and table.row(2)[0].tolist() == [0]


def test_a_users_term_weighs_each_pick_by_its_stars_and_a_low_one_pulls_down():
    indptr = np.array([0, 2, 3, 3])
    table = nt.NeighbourTable(
        indptr, np.array([1, 2, 2], "int32"), np.array([0.5, 0.25, 1.0], "float32"),
        scale=2.0, pivot=2.5,
    )  # fmt: skip
    np.testing.assert_allclose(table.term(np.array([0]), np.array([5.0])), [0, 1.0, 0.5])
    np.testing.assert_allclose(table.term(np.array([1]), np.array([0.5])), [0, 0, -1.6])
    both = table.term(np.array([0, 1]), np.array([5.0, 2.5]))  # the pivot weighs nothing
    np.testing.assert_allclose(both, [0, 1.0, 0.5])
    terms = table.terms(np.array([0, 1]), np.array([0, 1]), np.array([5.0, 0.5]), 2)
    np.testing.assert_allclose(terms.toarray(), [[0, 1.0, 0.5], [0, 0, -1.6]])


def test_the_table_round_trips_and_a_bundle_without_it_has_no_term():
    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 30, 200), rng.integers(0, 10, 200)
    table = nt.fit_neighbour_table(users, items, 30, 10, lam=3.0, top_k=3, min_count=1)
    again = nt.NeighbourTable.from_arrays(table.to_arrays(), 10)
    np.testing.assert_array_equal(again.matrix().toarray(), table.matrix().toarray())
    assert (again.scale, again.pivot, again.popularity_relief) == (
        table.scale, table.pivot, table.popularity_relief,
    )  # fmt: skip
    assert nt.NeighbourTable.from_arrays({}, 10) is None
    arrays = table.to_arrays()
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays(arrays, 9)  # does not fit the movies
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays(
            {**arrays, "neighbour_columns": arrays["neighbour_columns"] + 10}, 10
        )
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays({"neighbour_indptr": arrays["neighbour_indptr"]}, 10)


def test_the_table_at_ml_32m_scale_fits_in_200_mb():
    """87,585 movies, the 20,000 most-rated covered, 200 neighbours each (the bound)."""
    n_movies, covered, k = 87_585, 20_000, nt.TOP_K
    nbytes = (n_movies + 1) * 8 + covered * k * (4 + 4)
    assert nbytes <= 200e6
    table = nt.fit_neighbour_table(
        np.arange(40) % 8, np.arange(40) % 10, 8, 50, lam=1.0, top_k=3, max_items=6
    )
    assert (np.diff(table.indptr) > 0).sum() <= 6  # no row beyond the covered movies
    assert table.nbytes <= 51 * 8 + 6 * 3 * 8


# ---------------------------------------------------------------------------- planted pairs

N_PAIRS, FANS = 6, 30


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """A bundle trained on synthetic ratings where each of ``N_PAIRS`` little-known
    movie pairs is loved together by its own ``FANS`` users and rated by nobody else,
    and the pairs."""
    folder = tmp_path_factory.mktemp("paired")
    write_synthetic(folder, n_users=400, n_movies=300, n_ratings=30_000, rng=11)
    dataset = load_movielens(folder)
    ratings = dataset.ratings
    counts = ratings[MOVIE_ID].value_counts()
    quiet = counts.index[len(counts) // 2 : len(counts) // 2 + 2 * N_PAIRS].to_numpy()
    pairs = quiet.reshape(N_PAIRS, 2)
    rng = np.random.default_rng(3)
    kept = ratings[~ratings[MOVIE_ID].isin(quiet)]
    planted = []
    for a, b in pairs:
        fans = rng.choice(ratings[USER_ID].unique(), FANS, replace=False)
        for movie in (a, b):
            planted.append(pd.DataFrame({USER_ID: fans, MOVIE_ID: movie, RATING: 5.0}))
    extra = pd.concat(planted, ignore_index=True).drop_duplicates([USER_ID, MOVIE_ID])
    extra["timestamp"] = int(ratings["timestamp"].max()) if "timestamp" in ratings else 0
    extra = extra[kept.columns].astype(kept.dtypes.to_dict())
    merged = pd.concat([kept, extra], ignore_index=True)
    dataset = dataclasses.replace(dataset, ratings=merged.reset_index(drop=True))
    artifacts = tmp_path_factory.mktemp("paired_artifacts")
    config = hybrid_config(epochs=4, dim=16, user_hidden=32, item_hidden=32)
    train_hybrid_bundle(dataset, config, artifacts)
    return Recommender.load(artifacts), pairs


def test_a_pick_brings_its_partner_into_the_top_ten_and_into_similar_movies(paired):
    rec, pairs = paired
    for a, b in pairs:
        for pick, partner in ((a, b), (b, a)):
            top = rec.for_new_user({}, {int(pick): 5.0}, top=10)
            assert int(partner) in top[MOVIE_ID].tolist(), (pick, partner)
            similar = rec.similar(int(pick), 10).set_index(MOVIE_ID)
            assert int(partner) in similar.index
            # The page says how each row was found: the partner came from its fans.
            assert similar.loc[int(partner), FOUND_BY] == FOUND_BY_FANS


def test_without_the_table_the_partners_are_not_found(paired):
    """The same bundle's model with the table left out (a bundle from before it): the
    pick no longer brings its partner in, so the table is what does."""
    rec, pairs = paired
    params = rec.scoring.params
    arrays = {k: v for k, v in params.to_arrays().items() if not k.startswith("neighbour_")}
    bare = HybridParams.from_arrays(arrays)
    assert bare.neighbours is None
    found = 0
    for a, b in pairs:
        u, _ = bare.new_user({}, {int(a): 5.0})
        rank = bare.rank_with_history(u, np.array([bare.index.get_loc(int(a))]), np.array([5.0]))
        rank[bare.index.get_loc(int(a))] = -np.inf
        found += bare.index.get_loc(int(b)) in np.argsort(-rank)[:10]
    assert found < N_PAIRS // 2
