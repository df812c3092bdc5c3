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
    table = nt.fit_neighbour_table(
        users, items, 40, 12, weighting="ease", lam=5.0, top_k=4, min_count=1
    )
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
    table = nt.fit_neighbour_table(users, items, 3, 4, weighting="ease", lam=1.0, top_k=5)
    assert len(table.row(1)[0]) == 0 and len(table.row(3)[0]) == 0
    assert table.row(0)[0].tolist() == [2] and table.row(2)[0].tolist() == [0]


def _hand_counts():
    """4 users, 3 movies: users 0 and 1 rated movies 0 and 1, user 2 movies 0 and 2,
    user 3 movie 1. So c(0) = c(1) = 3, c(2) = 1, c(0, 1) = 2, c(0, 2) = 1, c(1, 2) = 0."""
    users = np.array([0, 0, 1, 1, 2, 2, 3])
    items = np.array([0, 1, 0, 1, 0, 2, 1])
    return users, items


def test_the_asymmetric_cosine_matches_a_hand_computed_row():
    users, items = _hand_counts()
    table = nt.fit_neighbour_table(
        users,
        items,
        4,
        3,
        weighting="cosine",
        alpha=0.75,
        shrink=0.0,
        top_k=5,
        min_count=1,
        similar_top_k=0,
    )
    # s(0, 1) = 2 / (3^0.75 · 3^0.25) = 2/3; s(0, 2) = 1 / (3^0.75 · 1^0.25); the row is
    # divided by its largest, s(0, 1).
    columns, weights = table.row(0)
    assert columns.tolist() == [1, 2]
    np.testing.assert_allclose(weights, [1.0, (1 / 3**0.75) / (2 / 3)], rtol=1e-6)
    # Movie 2's only co-rater is movie 0; movies 1 and 2 share no rater.
    assert table.row(2)[0].tolist() == [0] and 2 not in table.row(1)[0]
    # With a shrinkage h the same counts give 2 / (3 + h) and 1 / (3^0.75 + h).
    shrunk = nt.fit_neighbour_table(
        users,
        items,
        4,
        3,
        weighting="cosine",
        alpha=0.75,
        shrink=2.0,
        top_k=5,
        min_count=1,
        similar_top_k=0,
    )
    np.testing.assert_allclose(shrunk.row(0)[1], [1.0, (1 / (3**0.75 + 2)) / (2 / 5)], rtol=1e-6)
    assert table.similar is None


def test_alpha_moves_the_row_from_the_co_rating_counts_to_the_obscure_movies():
    users, items = _hand_counts()

    def first_of_row_0(alpha: float) -> int:
        table = nt.fit_neighbour_table(
            users,
            items,
            4,
            3,
            weighting="cosine",
            alpha=alpha,
            shrink=0.0,
            min_count=1,
            similar_top_k=0,
        )
        return int(table.row(0)[0][0])

    assert first_of_row_0(1.0) == 1  # c(0, 1) = 2 > c(0, 2) = 1: the co-rating count
    assert first_of_row_0(0.0) == 2  # c(0, 2)/c(2) = 1 > c(0, 1)/c(1) = 2/3: the lift


def test_the_cosine_rows_are_the_same_whatever_the_block():
    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 50, 400), rng.integers(0, 20, 400)
    x = nt.rated_matrix(users, items, 50, 20)
    whole = nt.asymmetric_cosine_rows(x, 0.6, 3.0, top_k=5, block=1024)
    blocks = nt.asymmetric_cosine_rows(x, 0.6, 3.0, top_k=5, block=3)
    for one, other in zip(whole, blocks, strict=True):
        np.testing.assert_array_equal(one, other)
    assert (np.diff(whole[0]) <= 5).all()


def test_both_tables_count_only_liked_ratings_when_given_the_stars():
    users, items = _hand_counts()
    # User 2 rated movie 2 at 2★: with the stars, movies 0 and 2 share no liked rater.
    stars = np.array([5.0, 4.0, 4.5, 5.0, 5.0, 2.0, 4.0])
    table = nt.fit_neighbour_table(users, items, 4, 3, stars=stars, weighting="cosine", min_count=1)
    assert table.row(0)[0].tolist() == [1] and len(table.row(2)[0]) == 0
    assert table.similar_row(0)[0].tolist() == [1]
    every = nt.fit_neighbour_table(users, items, 4, 3, weighting="cosine", min_count=1)
    assert 2 in every.row(0)[0] and 2 in every.similar_row(0)[0]


def test_similar_movies_have_their_own_table_and_an_older_bundle_falls_back():
    users, items = _hand_counts()
    table = nt.fit_neighbour_table(
        users,
        items,
        4,
        3,
        weighting="cosine",
        alpha=0.0,
        shrink=0.0,
        similar_alpha=1.0,
        similar_shrink=0.0,
        min_count=1,
    )
    assert table.row(0)[0].tolist() == [2, 1]  # the term's α = 0: the obscure first
    assert table.similar_row(0)[0].tolist() == [1, 2]  # Similar's α = 1: the co-counts
    again = nt.NeighbourTable.from_arrays(table.to_arrays(), 3)
    assert again.similar_row(0)[0].tolist() == [1, 2]
    older = {k: v for k, v in table.to_arrays().items() if not k.startswith("similar_")}
    before = nt.NeighbourTable.from_arrays(older, 3)
    assert before.similar is None and before.similar_row(0)[0].tolist() == [2, 1]
    with pytest.raises(ValueError):  # half a table is refused
        nt.NeighbourTable.from_arrays({**older, "similar_indptr": np.zeros(4, "int64")}, 3)


def test_similar_movies_put_the_co_liked_movies_of_its_kind_first():
    """Movie 0 is a horror film. Its fans liked comedy 1 most (3 of them), horror 2 less
    (2 of them), and horror 3 not at all: with the genres, 2 comes before 1, and 3, of
    its kind but loved by none of its fans, never enters."""
    users = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
    items = np.array([0, 1, 2, 0, 1, 2, 0, 1, 3, 1])
    flags = np.array([[1, 0], [0, 1], [1, 0], [1, 0]], "float32")  # (horror, comedy)
    fit = dict(similar_alpha=1.0, similar_shrink=0.0, weighting="cosine", min_count=1)
    plain = nt.fit_neighbour_table(users, items, 4, 4, **fit)
    assert plain.similar_row(0)[0].tolist() == [1, 2]  # the co-like counts alone
    kin = nt.fit_neighbour_table(users, items, 4, 4, flags=flags, **fit)
    assert kin.similar_row(0)[0].tolist() == [2, 1]
    off = nt.fit_neighbour_table(users, items, 4, 4, flags=flags, similar_kinship=0.0, **fit)
    assert off.similar_row(0)[0].tolist() == [1, 2]
    assert kin.row(0)[0].tolist() == plain.row(0)[0].tolist()  # the pick term is untouched
    short = nt.fit_neighbour_table(users, items, 4, 4, flags=flags, similar_top_k=1, **fit)
    assert short.similar_row(0)[0].tolist() == [2]  # reordered first, then cut


def test_a_users_term_weighs_each_pick_by_its_stars_and_a_low_one_pulls_down():
    indptr = np.array([0, 2, 3, 3])
    table = nt.NeighbourTable(
        indptr,
        np.array([1, 2, 2], "int32"),
        np.array([0.5, 0.25, 1.0], "float32"),
        scale=2.0,
        pivot=2.5,
    )
    np.testing.assert_allclose(table.term(np.array([0]), np.array([5.0])), [0, 1.0, 0.5])
    np.testing.assert_allclose(table.term(np.array([1]), np.array([0.5])), [0, 0, -1.6])
    both = table.term(np.array([0, 1]), np.array([5.0, 2.5]))  # the pivot weighs nothing
    np.testing.assert_allclose(both, [0, 1.0, 0.5])
    terms = table.terms(np.array([0, 1]), np.array([0, 1]), np.array([5.0, 0.5]), 2)
    np.testing.assert_allclose(terms.toarray(), [[0, 1.0, 0.5], [0, 0, -1.6]])


def test_an_existing_users_rare_ratings_weigh_more_and_a_new_users_picks_do_not():
    # Rows 0 and 1 point at movies 2 and 3 alike; movie 0 is rated 100 times, movie 1 4.
    table = nt.NeighbourTable(
        np.array([0, 1, 2, 2, 2]),
        np.array([2, 3], "int32"),
        np.array([1.0, 1.0], "float32"),
        scale=1.0,
        pivot=2.5,
        history_rarity=0.5,
    )
    log_counts = np.log1p(np.array([100.0, 4.0, 20.0, 20.0]))
    weights = table.history_weights(log_counts)
    median = np.median(log_counts[:2])  # over the rows that have neighbours
    np.testing.assert_allclose(weights, np.exp(0.5 * (median - log_counts)))
    assert weights[1] > 1 > weights[0]
    rated, stars = np.array([0, 1]), np.array([5.0, 5.0])
    as_history = table.term(rated, stars, weights[rated])
    assert as_history[3] > as_history[2]  # the rare movie's neighbour ranks first
    as_picks = table.term(rated, stars)
    assert as_picks[3] == as_picks[2]  # a new user's picks weigh by their stars alone
    np.testing.assert_allclose(
        table.terms(np.zeros(2, "int64"), rated, stars, 1, weights[rated]).toarray()[0],
        as_history,
    )
    contributions = table.contributions(rated, stars, 4, weights[rated])
    np.testing.assert_allclose(contributions.sum(axis=0), as_history)
    none = dataclasses.replace(table, history_rarity=0.0)
    np.testing.assert_array_equal(none.history_weights(log_counts), np.ones(4))


def test_the_table_round_trips_and_a_bundle_without_it_has_no_term():
    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 30, 200), rng.integers(0, 10, 200)
    table = nt.fit_neighbour_table(users, items, 30, 10, top_k=3, min_count=1)
    again = nt.NeighbourTable.from_arrays(table.to_arrays(), 10)
    np.testing.assert_array_equal(again.matrix().toarray(), table.matrix().toarray())
    assert again.similar is not None and again.nbytes == table.nbytes
    assert (again.scale, again.pivot, again.popularity_relief, again.history_rarity) == (
        table.scale,
        table.pivot,
        table.popularity_relief,
        table.history_rarity,
    )
    assert table.history_rarity == nt.HISTORY_RARITY > 0
    assert nt.NeighbourTable.from_arrays({}, 10) is None
    arrays = table.to_arrays()
    # A bundle from before the history's rarity weight (three scalars) keeps its lists.
    older = {**arrays, "neighbour_scalars": arrays["neighbour_scalars"][:3]}
    assert nt.NeighbourTable.from_arrays(older, 10).history_rarity == 0.0
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays({**arrays, "neighbour_scalars": np.ones(2)}, 10)
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays(arrays, 9)  # does not fit the movies
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays(
            {**arrays, "neighbour_columns": arrays["neighbour_columns"] + 10}, 10
        )
    with pytest.raises(ValueError):
        nt.NeighbourTable.from_arrays({"neighbour_indptr": arrays["neighbour_indptr"]}, 10)


def test_the_table_at_ml_32m_scale_fits_in_200_mb():
    """87,585 movies, the 20,000 most-rated covered, 200 neighbours each for the term and
    50 for Similar movies (the bound: both tables together)."""
    n_movies, covered = 87_585, 20_000
    per_table = (n_movies + 1) * 8
    nbytes = 2 * per_table + covered * (nt.TOP_K + nt.SIMILAR_TOP_K) * (4 + 4)
    assert nbytes <= 200e6
    table = nt.fit_neighbour_table(
        np.arange(40) % 8, np.arange(40) % 10, 8, 50, top_k=3, similar_top_k=2, max_items=6
    )
    assert (np.diff(table.indptr) > 0).sum() <= 6  # no row beyond the covered movies
    assert (np.diff(table.similar.indptr) > 0).sum() <= 6
    assert table.nbytes <= 2 * 51 * 8 + 6 * (3 + 2) * 8


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


def test_an_existing_users_list_weighs_their_ratings_by_rarity_and_a_new_users_does_not(
    paired,
):
    """The served paths: an existing user's ratings rank with the history's rarity
    weight; the same movies given as a new user's picks rank without it."""
    rec, _ = paired
    params = rec.scoring.params
    user_id = int(rec.user_ids[0])
    scores, own = rec.scores_for_user(user_id)
    rated = params.index.get_indexer(own[MOVIE_ID].to_numpy("int64"))
    stars = own[RATING].to_numpy("float64")
    u, _ = params.histories(np.zeros(len(own), "int64"), own[MOVIE_ID].to_numpy(), stars, 1)
    weighed = params.rank_with_history(u[0], rated, stars, history=True)
    plain = params.rank_with_history(u[0], rated, stars)
    assert not np.allclose(weighed, plain)
    np.testing.assert_allclose(scores.rank, weighed)
    picks = dict(zip(own[MOVIE_ID].tolist()[:5], stars.tolist()[:5], strict=True))
    v, _ = params.new_user({}, picks)
    rows = params.index.get_indexer(np.array(list(picks), "int64"))
    expected = params.rank_with_history(v, rows, np.array(list(picks.values())))
    np.testing.assert_allclose(rec.new_user_scores({}, picks).rank, expected)
