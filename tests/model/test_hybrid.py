"""The hybrid model learns planted tastes, serves new users by genres and by picks, and
round-trips through its bundle (trained on synthetic data with planted genre tastes)."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import GENRE_LIST, GENRES, PREDICTED
from recsys.config import hybrid_config
from recsys.dataset.movielens import load_movielens
from recsys.dataset.synth import write_synthetic
from recsys.model.bundle import read_manifest
from recsys.model.hybrid.params import HybridParams
from recsys.model.hybrid.train import train_hybrid_bundle
from recsys.model.kinds import model_kind
from recsys.model.run import RunOptions
from recsys.serving.recommender import Recommender


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """(the served Recommender, the synthetic info, the training report)."""
    folder = tmp_path_factory.mktemp("hybrid_planted")
    info = write_synthetic(folder, n_users=400, n_movies=300, n_ratings=40_000, rng=7)
    artifacts_dir = tmp_path_factory.mktemp("hybrid_artifacts")
    dataset = load_movielens(folder)
    heard = []
    report = train_hybrid_bundle(
        dataset,
        hybrid_config(epochs=8),
        artifacts_dir,
        RunOptions(progress=lambda done, total, text="": heard.append((done, total, text))),
    )
    return Recommender.load(artifacts_dir), info, report, heard


def _share(table, genre: str) -> float:
    return float(table[GENRES].str.split("|").apply(lambda gs: genre in gs).mean())


@pytest.mark.parametrize("genre", ["Fantasy", "Horror"])
def test_a_genre_lover_gets_that_genre_at_the_top(planted, genre):
    recommender = planted[0]
    lover = {g: (5.0 if g == genre else 3.0) for g in GENRE_LIST}
    top = recommender.for_new_user(lover, top=10)
    assert _share(top, genre) >= 0.8, top[["title", GENRES]]
    assert recommender.items[genre].mean() < 0.5  # far above a random list's share


def test_existing_users_get_higher_stars_for_their_planted_genre(planted):
    recommender, info, _, _ = planted
    gaps = []
    for user_id in range(1, 41):
        genre = info.loved_genre(user_id)
        result = recommender.for_user(user_id, top=10)
        rated = result.rated
        loved = rated[GENRES].str.split("|").apply(lambda gs, g=genre: g in gs)
        if loved.any() and (~loved).any():
            gaps.append(rated.loc[loved, PREDICTED].mean() - rated.loc[~loved, PREDICTED].mean())
    assert np.mean(gaps) > 0.5  # the planted love adds 1.5 stars
    assert recommender.for_user(1, top=10).rated[PREDICTED].between(0.5, 5.0).all()


def test_the_bundle_says_hybrid_and_serves_the_whole_catalogue(planted):
    recommender, info, report, heard = planted
    manifest, _ = read_manifest(recommender.bundle)
    assert manifest["model"] == "hybrid" and report.model == "hybrid"
    assert set(manifest.files) == set(model_kind("hybrid").bundle_files)
    assert "scalers.json" not in manifest.files  # no lab inputs: no scalers fitted
    assert recommender.decoded.scalers is None
    assert len(recommender.items) == info.n_movies
    assert not hasattr(recommender.scoring, "predict_stars")  # the lab's towers only
    epochs = [(done, total) for done, total, _ in heard if total]
    assert epochs == [(e, 8) for e in range(1, 9)]
    lab_split_figures = {"train_mse", "test_mse", "test_rmse_stars"}
    assert not lab_split_figures & set(report.to_json())  # no lab split, no empty figures


def test_params_round_trip_through_their_arrays(planted):
    params = planted[0].scoring.params
    again = HybridParams.from_arrays(params.to_arrays())
    u, bias = params.new_user({"Horror": 5.0}, {1: 4.0})
    u2, bias2 = again.new_user({"Horror": 5.0}, {1: 4.0})
    np.testing.assert_allclose(u, u2)
    assert bias == pytest.approx(bias2)
    arrays = params.to_arrays()
    arrays["item_vecs"] = arrays["item_vecs"][:-1]
    with pytest.raises(ValueError):
        HybridParams.from_arrays(arrays)


def test_a_new_user_is_the_same_user_the_batch_path_builds(planted):
    """``new_user`` (one user, dense arithmetic) equals ``user_inputs`` + the tower."""
    from recsys.model.hybrid.fold_in import apply_fold_in
    from recsys.model.hybrid.inputs import user_inputs
    from recsys.model.hybrid.layout import N_GENRES

    params = planted[0].scoring.params
    rng = np.random.default_rng(0)
    for k in (0, 1, 5):
        picks = {int(m): float(rng.integers(1, 11) / 2) for m in rng.choice(params.movie_ids, k)}
        genres = {"Horror": 4.5, "Drama": 1.0} if k != 1 else {}
        u, bias = params.new_user(genres, picks)
        override = np.zeros((1, N_GENRES))
        for genre, stars in genres.items():
            override[0, GENRE_LIST.index(genre)] = stars
        rows = params.index.get_indexer(np.array(list(picks), dtype="int64"))
        users, stars = np.zeros(len(rows), dtype="int64"), np.array(list(picks.values()))
        inputs = user_inputs(
            users,
            rows,
            stars,
            1,
            params.flags,
            (params.mu, params.baseline_bias),
            genre_override=override,
        )
        u2, bias2 = params.user_vectors(inputs)
        if k:  # the stars' fold-in, from the picks as the user's ratings
            u2, bias2 = apply_fold_in(params, u2, bias2, users, rows, stars)
        np.testing.assert_allclose(u, u2[0], atol=1e-5)
        assert bias == pytest.approx(float(bias2[0]), abs=1e-5)


def test_an_explicit_epoch_count_is_exact_and_the_default_trains_enough_updates():
    assert hybrid_config().min_steps > 0 and hybrid_config().max_epochs >= hybrid_config().epochs
    assert hybrid_config(epochs=8).min_steps == 0
    assert hybrid_config(epochs=8, min_steps=100).min_steps == 100


def test_a_small_training_set_runs_more_epochs_up_to_the_cap(synthetic):
    """6,000 ratings make one or two updates an epoch: 2 epochs become more, at most 6."""
    from recsys.model.hybrid.content import build_content
    from recsys.model.hybrid.network import fit_hybrid

    content = build_content(synthetic.movies, None, 2)
    config = hybrid_config(epochs=2, min_steps=1000, max_epochs=6, dim=8, user_hidden=16)
    _, _, history = fit_hybrid(synthetic.ratings, content, config)
    assert history["epochs"] == 6 == len(history["rank_loss"])
    config = hybrid_config(epochs=2, min_steps=3, max_epochs=6, dim=8, user_hidden=16)
    _, _, history = fit_hybrid(synthetic.ratings, content, config)
    assert history["epochs"] in (2, 3) and len(history["rank_loss"]) == history["epochs"]


def test_the_learning_rate_falls_to_its_final_share_over_the_planned_epochs(synthetic):
    """Adam's rate, as the optimiser holds it each epoch: ``lr`` in the first epoch,
    ``lr_final`` × ``lr`` in the last one (epochs added for ``min_steps`` included),
    never rising; constant at 1."""
    from recsys.model.hybrid.content import build_content
    from recsys.model.hybrid.epochs import epoch_lr
    from recsys.model.hybrid.network import fit_hybrid

    content = build_content(synthetic.movies, None, 2)
    config = hybrid_config(
        epochs=2, min_steps=1000, max_epochs=5, lr=0.01, lr_final=0.2, dim=8, user_hidden=16
    )
    _, _, history = fit_hybrid(synthetic.ratings, content, config)
    rates = history["learning_rate"]
    assert len(rates) == 5 and rates[0] == pytest.approx(0.01) and rates[-1] == pytest.approx(0.002)
    assert all(later < earlier for earlier, later in zip(rates, rates[1:]))
    assert rates[2] == pytest.approx(0.006)  # halfway down the half cosine
    constant = hybrid_config(lr=0.01, lr_final=1.0)
    assert all(epoch_lr(constant, e, 7) == pytest.approx(0.01) for e in range(1, 8))
