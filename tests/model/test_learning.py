"""A trained model learns planted tastes: a Fantasy lover gets Fantasy movies first."""

from __future__ import annotations

import pytest

from recsys.columns import GENRE_LIST
from recsys.config import recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.dataset.synth import write_synthetic
from recsys.model.lab.train import train_bundle
from recsys.model.run import RunOptions
from recsys.serving.recommender import Recommender
from recsys.serving.scoring import lab_user_vector


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory) -> tuple[Recommender, list[tuple[float, float, str]]]:
    """A bundle trained on planted tastes, and what training told its progress callback."""
    folder = tmp_path_factory.mktemp("planted")
    write_synthetic(folder, n_users=400, n_movies=300, n_ratings=40_000, rng=7)
    artifacts_dir = tmp_path_factory.mktemp("planted_artifacts")
    config = recipe_config("fast", preset="full", epochs=6)
    heard = []
    train_bundle(
        load_movielens(folder),
        config,
        artifacts_dir,
        RunOptions(progress=lambda done, total, text="": heard.append((done, total, text))),
    )
    return Recommender.load(artifacts_dir), heard


@pytest.fixture(scope="module")
def planted(planted_run) -> Recommender:
    return planted_run[0]


def _lover(genre: str) -> dict[str, float]:
    """Loves ``genre``, lukewarm (3 stars) about every other genre."""
    return {g: (5.0 if g == genre else 3.0) for g in GENRE_LIST}


@pytest.mark.parametrize("genre", ["Fantasy", "Horror"])
def test_a_genre_lover_gets_that_genre_at_the_top(planted, genre):
    top = planted.for_new_user(_lover(genre), top=10)
    share = top["genres"].str.split("|").apply(lambda gs: genre in gs).mean()
    base_rate = planted.items[genre].mean()
    assert share >= 0.8, top[["title", "genres"]]
    assert base_rate < 0.5  # so 80% is far above what a random list would hold


def test_loving_a_genre_raises_its_movies_predictions(planted):
    fantasy = planted.items["Fantasy"].to_numpy() > 0
    stars = planted.scoring.predict_stars
    fan = stars(lab_user_vector(_lover("Fantasy")))
    hater = stars(lab_user_vector({**_lover("Drama"), "Fantasy": 1.0}))
    assert fan[fantasy].mean() - fan[~fantasy].mean() > 0.3
    assert hater[fantasy].mean() < hater[~fantasy].mean()


def test_training_reports_stages_then_each_epoch_with_its_loss(planted_run):
    heard = planted_run[1]
    stages = [text for _done, total, text in heard if total == 0]
    epochs = [(done, total, text) for done, total, text in heard if total > 0]
    assert stages == ["building features", "training", "writing the bundle"]
    assert [(done, total) for done, total, _ in epochs] == [(e, 6) for e in range(1, 7)]
    assert epochs[0][2].startswith("epoch 1/6, loss ")
