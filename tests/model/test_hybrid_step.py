"""The hybrid's training step, piece by piece, each against a value worked out by hand
(as TFRS tests its loss layers), and the named layouts that the pieces read."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from recsys.config import hybrid_config
from recsys.model._tf import tf
from recsys.model.hybrid.content import build_content
from recsys.model.hybrid.inputs import genre_dense, genre_deviation, rating_codes
from recsys.model.hybrid.layout import DENSE, N_GENRES, TowerLayout
from recsys.model.hybrid.network import (
    Batch,
    Trainer,
    epoch_batches,
    logq_correction,
    no_negative_mask,
    pooled_users,
    ranking_loss,
    stars_loss,
    step_signature,
)


def _genres(**values: float) -> np.ndarray:
    """[14] zeros but for the given genre columns (g0, g1, …)."""
    row = np.zeros(N_GENRES, "float32")
    for name, value in values.items():
        row[int(name[1:])] = value
    return row


def test_the_dense_inputs_sit_where_the_layout_names_them():
    genre = _genres(g0=5.0)[None, :]  # one genre rated 5 stars, the others not
    dense = genre_dense(genre, np.array([4.0]), np.array([3]), np.array([0.2]))
    assert dense.shape == (1, DENSE.width)
    assert dense[0, DENSE.centred][:2].tolist() == [1.5, 0.0]  # 5 − 3.5, not rated
    assert dense[0, DENSE.rated][:2].tolist() == [1.0, 0.0]
    assert dense[0, DENSE.mean_column] == pytest.approx(0.5)  # 4 − 3.5
    assert dense[0, DENSE.log_count][0] == pytest.approx(math.log(4))
    assert dense[0, DENSE.offset_column] == pytest.approx(0.2)


def test_one_genre_deviation_for_numpy_and_keras():
    genre = np.stack([_genres(g0=5.0, g1=2.0), _genres(g2=4.0)])
    dense = genre_dense(genre, np.array([4.0, 3.5]), np.array([2, 0]), np.zeros(2))
    # (stars − 3.5) − (mean − 3.5) where rated: 5 − 4 = 1, 2 − 4 = −2; 4 − 3.5; 0 elsewhere
    expected = np.stack([_genres(g0=1.0, g1=-2.0), _genres(g2=0.5)])
    np.testing.assert_allclose(genre_deviation(dense), expected, atol=1e-6)
    np.testing.assert_allclose(genre_deviation(tf.constant(dense)).numpy(), expected, atol=1e-6)


def test_another_target_of_the_same_user_or_movie_or_padding_is_no_negative():
    mask = no_negative_mask(
        row_user=tf.constant([0, 0, 1]),
        target=tf.constant([5, 6, 5]),
        weight=tf.constant([1.0, 1.0, 0.0]),  # the third example is padding
    )
    expected = [
        [False, True, True],  # same user; same movie (and padding)
        [True, False, True],  # same user; padding
        [True, False, True],  # same movie; padding (its own column too)
    ]
    assert mask.numpy().tolist() == expected


def test_each_user_pools_the_taste_vectors_of_the_movies_it_rated():
    taste = tf.constant([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    index = tf.constant([[0, 0], [0, 1], [1, 2]])  # (user, movie)
    plain, like = pooled_users(
        taste, index, tf.constant([0.5, 0.5, 1.0]), tf.constant([1.0, -1.0, 2.0]), 2
    )
    np.testing.assert_allclose(plain.numpy(), [[0.5, 1.0], [3.0, 3.0]])
    np.testing.assert_allclose(like.numpy(), [[1.0, -2.0], [6.0, 6.0]])


def test_the_logq_correction_takes_logq_times_the_log_count():
    correction = logq_correction(tf.constant([0.0, math.log(2)]), 1.5)
    np.testing.assert_allclose(correction.numpy(), [[0.0, 1.5 * math.log(2)]], rtol=1e-6)


def test_the_ranking_loss_is_the_weighted_softmax_of_each_own_target():
    logits = tf.constant([[2.0, 0.0], [1.0, 1.0]])
    free = tf.constant([[False, False], [False, False]])
    both = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    assert float(ranking_loss(logits, free, tf.constant([1.0, 1.0]))) == pytest.approx(both)
    masked = tf.constant([[False, True], [False, False]])  # row 0 has no negative left
    weighted = 3 * math.log(2) / 4
    loss = ranking_loss(logits, masked, tf.constant([1.0, 3.0]))
    assert float(loss) == pytest.approx(weighted, rel=1e-6)


def test_the_stars_loss_leaves_out_padded_examples():
    loss = stars_loss(tf.constant([4.0, 3.0, 9.0]), tf.constant([5.0, 2.0, 0.0]))
    assert float(loss) == pytest.approx(1.0)  # (1² + 1²) / 2; the padded 9 vs 0 not counted


def _tower_row(layout: TowerLayout, *, u, bias, pop, genre, stars) -> np.ndarray:
    """One user's tower output [u | b_u | π | g | r_u | genre stars], by the layout."""
    row = np.zeros(layout.dim + 2 + N_GENRES + len(stars), "float32")
    row[layout.taste], row[layout.user_bias], row[layout.head_pop] = u, bias, pop
    row[layout.head_genre], row[layout.head_stars] = genre, stars
    return row


def test_the_ranking_logits_add_taste_bias_genres_and_popularity_less_logq():
    layout = TowerLayout(1)
    no_stars = np.zeros(N_GENRES)
    rows = tf.constant(
        [
            _tower_row(layout, u=1.0, bias=0.0, pop=0.5, genre=_genres(g0=1.0), stars=no_stars),
            _tower_row(layout, u=2.0, bias=0.0, pop=0.0, genre=_genres(), stars=no_stars),
        ]
    )
    trainer = SimpleNamespace(
        config=SimpleNamespace(dim=1, logq=1.0),
        log_count=tf.constant([0.0, 1.0]),
        flags=tf.constant(np.stack([_genres(g0=1.0), _genres()])),
    )
    logits = Trainer.ranking_logits(
        trainer, rows, tf.constant([0, 1]), tf.constant([0.1, 0.2]), tf.constant([[1.0], [3.0]])
    )
    # u·v + p + g·f + π·log n − logq·log n
    expected = [[1 + 0.1 + 1, 3 + 0.2 + 0.5 - 1], [2 + 0.1, 6 + 0.2 - 1]]
    np.testing.assert_allclose(logits.numpy(), expected, rtol=1e-6)


def test_the_predicted_stars_add_the_biases_the_taste_and_the_rating_head():
    layout = TowerLayout(1)
    stars = np.concatenate([[2.0], _genres(g0=0.5)])  # r_u (k = 1), then genre stars
    row = _tower_row(layout, u=1.0, bias=0.2, pop=0.0, genre=_genres(), stars=stars)
    trainer = SimpleNamespace(
        config=SimpleNamespace(dim=1),
        mu=tf.constant(3.0),
        alpha=tf.constant(0.5),
        baseline_bias=tf.constant([0.3]),
        flags=tf.constant(_genres(g0=1.0)[None, :]),
    )
    rows = tf.constant(row[None, :])
    predicted = Trainer.predicted_stars(
        trainer,
        rows,
        rows[:, layout.taste],
        offset=tf.constant([0.25]),
        target=tf.constant([0]),
        target_b=tf.constant([0.1]),
        target_q=tf.constant([[1.0]]),
        target_v=tf.constant([[3.0]]),
    )
    # μ + offset + b_u + (b_i + b⁰_i) + α·u·v + r_u·q + genre stars·f
    expected = 3.0 + 0.25 + 0.2 + (0.1 + 0.3) + 0.5 * 1 * 3 + (2 * 1 + 0.5 * 1)
    assert float(predicted[0]) == pytest.approx(expected, rel=1e-6)


def test_every_batch_fits_the_steps_signature(synthetic):
    config = hybrid_config(epochs=1, batch_size=256, dim=8, star_dim=2)
    content = build_content(synthetic.movies, synthetic.tags, config.min_token_df)
    users, items, stars, n_users = rating_codes(synthetic.ratings, content.index)
    counts = np.bincount(items, minlength=len(content.movie_ids))
    baseline = (float(stars.mean()), np.zeros(len(counts)))
    trainer = Trainer(content, config, counts, baseline)
    rng = np.random.default_rng(0)
    batches = list(epoch_batches(trainer, users, items, stars, n_users, rng, baseline))
    assert batches
    signature = Batch(*step_signature())
    for batch in batches:
        assert isinstance(batch, Batch)
        for name, array, spec in zip(Batch._fields, batch, signature, strict=True):
            assert spec.is_compatible_with(tf.constant(array)), name
    rank_loss, stars_loss_value = trainer.step(*batches[0])
    assert np.isfinite(float(rank_loss)) and np.isfinite(float(stars_loss_value))
