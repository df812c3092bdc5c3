"""The numpy Recommender serves a trained bundle like Keras does (moved from
tests/model/test_bundle.py: the tests that load a Recommender and check its answers)."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import ITEM_VECTOR_COLUMNS, PREDICTED
from recsys.serving.catalogue import Catalogue
from recsys.serving.recommender import Recommender
from recsys.serving.scoring import lab_user_vector


def test_numpy_predictions_equal_keras_predictions(recommender):
    from recsys.model.lab.network import load_model, predict

    model = load_model(recommender.bundle / "model.keras")
    item_vecs = recommender.items[list(ITEM_VECTOR_COLUMNS)].to_numpy(float)
    lab = recommender.scoring
    scaled_items = lab.scalers.scale_items(item_vecs)[:, 1:]
    for genre_ratings in ({"Adventure": 5, "Fantasy": 5}, {"Horror": 1, "Drama": 4.5}):
        user = lab_user_vector(genre_ratings)
        scaled_user = lab.scalers.scale_users(user[None, :])[:, 3:]
        keras_stars = lab.scalers.unscale_target(
            predict(model, np.repeat(scaled_user, len(item_vecs), axis=0), scaled_items)
        )
        np.testing.assert_allclose(lab.predict_stars(user), keras_stars, atol=1e-5)
        np.testing.assert_allclose(
            recommender.new_user_scores(genre_ratings).stars, keras_stars, atol=1e-5
        )
    user_id = int(recommender.user_ids[0])
    rated = recommender.for_user(user_id).rated
    scaled_user = lab.scalers.scale_users(recommender.user_vector(user_id)[None])[:, 3:]
    keras_stars = lab.scalers.unscale_target(
        predict(model, np.repeat(scaled_user, len(item_vecs), axis=0), scaled_items)
    )
    rows = recommender.items.reset_index().set_index("movieId").loc[rated["movieId"], "index"]
    np.testing.assert_allclose(rated[PREDICTED], keras_stars[rows.to_numpy()], atol=1e-5)


def test_new_user_top_list_is_sorted_and_filtered(recommender):
    fan = {"Adventure": 5, "Fantasy": 5}
    top = recommender.for_new_user(fan, top=10)
    assert len(top) == 10
    assert top[PREDICTED].is_monotonic_decreasing
    everything = recommender.new_user_scores(fan).stars
    assert top[PREDICTED].iloc[0] == pytest.approx(everything.max())
    filtered = recommender.for_new_user(
        fan,
        top=20,
        include_genres=["Comedy"],
        exclude_genres=["Drama"],
        year_range=(2005, 2010),
        min_ratings=20,
    )
    assert len(filtered) > 0
    assert filtered["genres"].str.contains("Comedy").all()
    assert not filtered["genres"].str.contains("Drama").any()
    assert filtered["year"].between(2005, 2010).all()
    assert (filtered["num ratings"] >= 20).all()


def test_similar_movies_are_the_nearest_by_squared_distance(recommender):
    movie_id = recommender.find_movie("shrek")
    assert recommender.title_of(movie_id) == "Shrek (2001)"
    neighbours = recommender.similar(movie_id, k=5)
    emb = recommender.item_embeddings
    row = recommender.movie_row(movie_id)
    brute = ((emb - emb[row]) ** 2).sum(axis=1)
    brute[row] = np.inf
    expected = recommender.items["movieId"].to_numpy()[np.argsort(brute, kind="stable")[:5]]
    assert neighbours["movieId"].tolist() == expected.tolist()
    np.testing.assert_allclose(neighbours["distance"], np.sort(brute)[:5], atol=1e-5)


def test_nearest_table_matches_the_lab_double_loop(recommender):
    table = recommender.nearest_table(block=100)  # several blocks
    emb = recommender.item_embeddings.astype(float)
    titles = recommender.items["title"].to_numpy()
    for i in range(0, len(emb), 97):
        distance = ((emb - emb[i]) ** 2).sum(axis=1)
        distance[i] = np.inf
        assert table["movie2"].iat[i] == titles[np.argmin(distance)]


def test_existing_user_sees_actual_and_predicted(recommender):
    result = recommender.for_user(2, top=5)
    assert len(result.rated) == 22  # user 2 rated 22 of the lab set's movies
    assert result.rated[PREDICTED].is_monotonic_decreasing
    np.testing.assert_allclose(
        result.rated["error"], result.rated[PREDICTED] - result.rated["actual stars"]
    )
    assert result.rmse == pytest.approx(np.sqrt(np.mean(result.rated["error"] ** 2)))
    assert not set(result.unseen["movieId"]) & set(result.rated["movieId"])


def test_the_recommender_composes_bundle_towers_and_catalogue(recommender):
    decoded = recommender.decoded
    assert recommender.bundle == decoded.path
    assert recommender.manifest_hash == decoded.manifest_hash
    assert recommender.items is decoded.items
    assert isinstance(recommender.catalogue, Catalogue)
    assert recommender.item_embeddings is recommender.catalogue.item_embeddings
    lab = recommender.scoring
    scaled = lab.scalers.user_inputs(recommender.user_vector(2))
    np.testing.assert_array_equal(
        lab.user_embedding(recommender.user_vector(2)), lab.towers.users(scaled)
    )


def test_a_recommender_built_in_memory_answers_like_the_loaded_one(recommender):
    """The bench builds its Recommender from arrays, with no files and no manifest."""
    from dataclasses import replace

    in_memory = Recommender(replace(recommender.decoded, path=None, manifest={}))
    fan = {"Adventure": 5, "Fantasy": 5}
    assert in_memory.bundle is None
    assert in_memory.for_new_user(fan).equals(recommender.for_new_user(fan))
    assert in_memory.similar(recommender.find_movie("shrek")).equals(
        recommender.similar(recommender.find_movie("shrek"))
    )
