"""The hybrid model's Keras towers and their training loop (TensorFlow, training only).

Item tower: the mean of a learned vector per content token in each group (genres,
year bucket, title words, tags) and the year → Dense(relu) → [v (d), p, b], plus a
learned movie-id embedding that is dropped at random while training, so that the
content path alone gives a sound vector to a movie with few or no ratings.
User tower: the dense genre inputs and two pools of the item vectors the user rated →
Dense(relu) → Dense → :class:`UserHead` → [u (d), b_u, π_u, g_u (14), r_u (k)]; see
``recsys.model.hybrid.params`` for how the scores use them. One loss: softmax over the batch's
target movies (in-batch negatives; another target of the same user or the same movie
is masked; logQ-corrected) + rating_weight × MSE. Each step runs the user tower once
per distinct user of the batch, and the item tower over the movies the batch needs
(its targets and pooled histories) only.
TensorFlow comes through ``recsys.model._tf``.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.config import HybridConfig
from recsys.model._tf import keras, set_seed, tf
from recsys.model.hybrid.content import GROUPS, ContentTokens
from recsys.model.hybrid.epochs import epoch_lr, epoch_split, planned_epochs, slider_users
from recsys.model.hybrid.inputs import (
    genre_deviation,
    item_baseline_bias,
    item_side,
    rating_codes,
    user_inputs,
)
from recsys.model.hybrid.layout import DENSE, N_GENRES, N_HEAD, TowerLayout
from recsys.model.hybrid.neighbour_table import with_neighbours
from recsys.model.hybrid.params import HybridParams
from recsys.model.hybrid.stars import refit_stars
from recsys.progress import Progress

ITEM_TOWER_NAME = "hybrid_item_tower"
NEEDED_STEP = 1024  # the movies a step needs are padded to a multiple of this
USER_TOWER_NAME = "hybrid_user_tower"


@keras.saving.register_keras_serializable(package="recsys")
class TokenPool(keras.layers.Layer):
    """The mean of a learned table's rows over each row's non-zero ids (0 = padding)."""

    def __init__(self, vocab_size: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.dim = vocab_size, dim
        self.table = self.add_weight(
            shape=(vocab_size + 1, dim),
            initializer=keras.initializers.RandomNormal(0.0, 0.05),
            name="table",
        )

    def call(self, ids):
        mask = keras.ops.cast(ids > 0, "float32")[..., None]
        summed = keras.ops.sum(keras.ops.take(self.table, ids, axis=0) * mask, axis=-2)
        return summed / keras.ops.maximum(keras.ops.sum(mask, axis=-2), 1.0)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim}


@keras.saving.register_keras_serializable(package="recsys")
class UserHead(keras.layers.Layer):
    """The user tower's last step: [u, b_u, raw π, raw s] and the dense inputs →
    [u, b_u, β + softplus(raw π), softplus(raw s)·w ⊙ c], c the centred genre stars
    (the first ``n_genres`` dense inputs) and w a learned weight per genre."""

    def __init__(self, dim: int, n_genres: int, pop_prior: float, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.n_genres, self.pop_prior = dim, n_genres, pop_prior
        self.genre_weight = self.add_weight(
            shape=(n_genres,), initializer=keras.initializers.Constant(1.0), name="genre_weight"
        )
        self.star_genre_weight = self.add_weight(
            shape=(n_genres,),
            initializer=keras.initializers.Constant(0.5),
            name="star_genre_weight",
        )

    def call(self, inputs):
        out, dense = inputs
        at = TowerLayout(self.dim)
        pop = self.pop_prior + keras.ops.softplus(out[:, at.raw_pop])
        strength = keras.ops.softplus(out[:, at.raw_strength])
        genre = strength * self.genre_weight * dense[:, DENSE.centred]
        stars_by_genre = self.star_genre_weight * genre_deviation(dense)  # as serving's
        taste_and_bias = out[:, : at.user_bias + 1]
        parts = [taste_and_bias, pop, genre, out[:, at.raw_rating], stars_by_genre]
        return keras.ops.concatenate(parts, -1)

    def get_config(self):
        extra = {"dim": self.dim, "n_genres": self.n_genres, "pop_prior": self.pop_prior}
        return {**super().get_config(), **extra}


def build_towers(content: ContentTokens, config: HybridConfig) -> tuple[keras.Model, keras.Model]:
    """(item tower, user tower) as Keras models; see the module docstring."""
    token_inputs = [
        keras.Input((content.tokens[g].shape[1],), dtype="int32", name=f"{g}_tokens")
        for g in GROUPS
    ]
    year_input = keras.Input((1,), name="year")
    id_input = keras.Input((1,), dtype="int32", name="movie_code")  # 0 = no id vector
    pooled = [
        TokenPool(len(content.vocab[g]), config.token_dim, name=f"{g}_pool")(x)
        for g, x in zip(GROUPS, token_inputs)
    ]
    joined = keras.layers.Concatenate()([*pooled, year_input])
    hidden = keras.layers.Dense(config.item_hidden, activation="relu", name="item_hidden")(joined)
    width = config.dim + 2 + config.star_dim
    content_out = keras.layers.Dense(width, name="item_content_out")(hidden)
    id_out = TokenPool(len(content.movie_ids), width, name="movie_id")(id_input)
    item_out = keras.layers.Add(name="item_out")([content_out, id_out])
    item_tower = keras.Model([*token_inputs, year_input, id_input], item_out, name=ITEM_TOWER_NAME)

    dense_input = keras.Input((DENSE.width,), name="user_dense")
    plain_input = keras.Input((config.dim,), name="pool_plain")
    like_input = keras.Input((config.dim,), name="pool_like")
    x = keras.layers.Concatenate()([dense_input, plain_input, like_input])
    x = keras.layers.Dense(config.user_hidden, activation="relu", name="user_hidden")(x)
    x = keras.layers.Dense(config.dim + N_HEAD + config.star_dim, name="user_out")(x)
    n_genres = content.flags.shape[1]
    user_out = UserHead(config.dim, n_genres, config.pop_prior, name="user_head")([x, dense_input])
    user_tower = keras.Model([dense_input, plain_input, like_input], user_out, name=USER_TOWER_NAME)
    return item_tower, user_tower


class Batch(NamedTuple):
    """One training step's inputs, as ``epoch_batches`` yields them (padded: a padded
    example has weight 0 and rating 0).

    needed: [m] int32 the catalogue rows the item tower runs over (targets and pooled
    histories). dense: [users, 31] float32 each distinct user's dense inputs
    (``layout.DENSE``). pool_index: [cap, 2] int32 (the user's place in ``dense``, the
    pooled movie's place in ``needed``); plain_value, like_value: [cap] float32 the two
    pools' weights. row_user: [batch] int32 each example's user (its place in
    ``dense``); target: [batch] int32 its movie's place in ``needed``; rating: [batch]
    float32 its stars; weight: [batch] float32 its weight in the ranking loss.
    """

    needed: np.ndarray
    dense: np.ndarray
    pool_index: np.ndarray
    plain_value: np.ndarray
    like_value: np.ndarray
    row_user: np.ndarray
    target: np.ndarray
    rating: np.ndarray
    weight: np.ndarray


def step_signature() -> list:
    """The step's inputs (a ``Batch``), each first dimension unknown."""
    spec = tf.TensorSpec
    return list(
        Batch(
            needed=spec([None], tf.int32),
            dense=spec([None, DENSE.width], tf.float32),
            pool_index=spec([None, 2], tf.int32),
            plain_value=spec([None], tf.float32),
            like_value=spec([None], tf.float32),
            row_user=spec([None], tf.int32),
            target=spec([None], tf.int32),
            rating=spec([None], tf.float32),
            weight=spec([None], tf.float32),
        )
    )


# ---------------------------------------------------------------------------- the step's pieces


def no_negative_mask(row_user, target, weight):
    """[batch, batch] True where column j is no negative for example i: another target
    of the same user, the same movie again, or a padded example (weight 0); never the
    example's own target."""
    same = tf.equal(row_user[:, None], row_user[None, :]) | tf.equal(target[:, None], target)
    return (same & ~tf.eye(tf.shape(target)[0], dtype=tf.bool)) | (weight <= 0)[None, :]


def pooled_users(taste, pool_index, plain_value, like_value, n_users):
    """([n_users, d] plain, [n_users, d] like): each user's two weighted sums of the taste
    vectors ``taste`` [m, d] of the movies they rated, ``pool_index`` rows (user, movie)."""
    picked = tf.gather(taste, pool_index[:, 1])
    plain = tf.math.unsorted_segment_sum(picked * plain_value[:, None], pool_index[:, 0], n_users)
    like = tf.math.unsorted_segment_sum(picked * like_value[:, None], pool_index[:, 0], n_users)
    return plain, like


def logq_correction(log_count, logq: float):
    """[1, batch] what each target's logit loses for its popularity, logQ-style: the
    sampling of in-batch negatives by their count, ``logq`` × log(1 + n)."""
    return logq * log_count[None, :]


def ranking_loss(logits, mask, weight):
    """The weighted mean softmax cross-entropy of each example's own target (the
    diagonal) against the batch's others, ``mask``'s columns left out."""
    logits = tf.where(mask, -1e9, logits)
    labels = tf.range(tf.shape(logits)[0])
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    return tf.reduce_sum(weight * ce) / tf.reduce_sum(weight)


def stars_loss(predicted, rating):
    """The mean squared error in stars over the real examples (a padded one has rating 0)."""
    real = tf.cast(rating > 0, "float32")
    return tf.reduce_sum(real * tf.square(predicted - rating)) / tf.reduce_sum(real)


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    """x padded with zero rows to n rows (a padded example has weight 0)."""
    if len(x) == n:
        return x
    return np.concatenate([x, np.zeros((n - len(x), *x.shape[1:]), x.dtype)])


class Trainer:
    """One training run's state: the towers, the optimiser, and ``step``, the compiled
    :meth:`train_step` (a distributed run calls ``train_step`` under ``strategy.run``)."""

    def __init__(self, content: ContentTokens, config: HybridConfig, counts, baseline):
        self.config, self.content = config, content
        self.item_tower, self.user_tower = build_towers(content, config)
        self.id_code = np.where(counts > 0, np.arange(len(counts)) + 1, 0).astype("int32")
        self.id_code_t = tf.constant(self.id_code[:, None])
        # Warm start: a rated movie's id row starts at its centred log popularity.
        table = self.item_tower.get_layer("movie_id").table
        start = table.numpy()
        rated = self.id_code > 0
        start[self.id_code[rated], config.dim] = np.log1p(counts[rated]) - np.log1p(counts).mean()
        table.assign(start)
        self.alpha = tf.Variable(0.0, name="alpha")
        self.variables = [
            *self.item_tower.trainable_variables,
            *self.user_tower.trainable_variables,
            self.alpha,
        ]
        self.optimizer = keras.optimizers.Adam(config.lr)
        self.item_inputs = [tf.constant(content.tokens[g]) for g in GROUPS]
        self.item_inputs.append(tf.constant(content.year))
        self.log_count = tf.constant(np.log1p(counts), "float32")
        self.flags = tf.constant(content.flags, "float32")
        self.mu = tf.constant(baseline[0], "float32")
        self.baseline_bias = tf.constant(baseline[1], "float32")
        # Adam's slots exist before the step is traced, and every input's first dimension
        # is left unknown: one trace a run (a few seconds on 2 cores), not one for the
        # variables' creation and another for each new batch shape.
        self.optimizer.build(self.variables)
        self.step = tf.function(self.train_step, input_signature=step_signature())

    def item_side(self, needed):
        """The item tower over the catalogue rows ``needed``, each movie's id vector
        dropped at random (``config.id_dropout``): [m, d + 2 + k] [v | p | b | q]."""
        id_code = tf.gather(self.id_code_t, needed)
        keep = tf.cast(tf.random.uniform(tf.shape(id_code)) >= self.config.id_dropout, "int32")
        item_inputs = [tf.gather(x, needed) for x in self.item_inputs]
        return self.item_tower([*item_inputs, id_code * keep], training=True)

    def ranking_logits(self, rows, target, target_p, target_v):
        """[batch, batch] in-batch ranking logits of the users' tower rows ``rows`` (one
        per example) against the batch's targets (catalogue rows; their p and v),
        logQ-corrected."""
        at = TowerLayout(self.config.dim)
        u, pop, genre = rows[:, at.taste], rows[:, at.head_pop], rows[:, at.head_genre]
        log_count = tf.gather(self.log_count, target)
        logits = tf.matmul(u, target_v, transpose_b=True) + target_p[None, :]
        logits += tf.matmul(genre, tf.gather(self.flags, target), transpose_b=True)
        logits += pop[:, None] * log_count[None, :] - logq_correction(log_count, self.config.logq)
        return logits

    def predicted_stars(self, rows, u, offset, target, target_b, target_q, target_v):
        """[batch] μ + offset + b_u + b_i (+ b⁰_i) + α·u·v_i + [r_u | genre stars]·[q_i | f_i]
        for the users' tower rows ``rows`` (their taste vectors ``u``) and the targets."""
        at = TowerLayout(self.config.dim)
        dots = tf.reduce_sum(u * target_v, axis=1)
        item_bias = target_b + tf.gather(self.baseline_bias, target)
        base = self.mu + offset + rows[:, at.user_bias] + item_bias
        star_items = tf.concat([target_q, tf.gather(self.flags, target)], axis=1)
        star_dots = tf.reduce_sum(rows[:, at.head_stars] * star_items, 1)
        return base + self.alpha * dots + star_dots

    def train_step(self, *batch):
        """One update on a ``Batch``. The item tower runs over ``needed`` (catalogue rows)
        only; the pools and targets index into it."""
        batch = Batch(*batch)
        config, at = self.config, TowerLayout(self.config.dim)
        local = batch.target
        target = tf.gather(batch.needed, local)
        n_users = tf.shape(batch.dense)[0]
        mask = no_negative_mask(batch.row_user, target, batch.weight)
        with tf.GradientTape() as tape:
            out = self.item_side(batch.needed)
            v, p = out[:, at.item_taste], out[:, at.item_rank_bias]
            b, q = out[:, at.item_star_bias], out[:, at.item_rating]
            plain, like = pooled_users(
                v, batch.pool_index, batch.plain_value, batch.like_value, n_users
            )
            user_out = self.user_tower([batch.dense, plain, like], training=True)
            target_v = tf.gather(v, local)
            rows = tf.gather(user_out, batch.row_user)
            logits = self.ranking_logits(rows, target, tf.gather(p, local), target_v)
            rank_loss = ranking_loss(logits, mask, batch.weight)
            u = rows[:, at.taste]
            offset = tf.gather(batch.dense[:, DENSE.offset_column], batch.row_user)
            predicted = self.predicted_stars(
                rows, u, offset, target, tf.gather(b, local), tf.gather(q, local), target_v
            )
            rate_loss = stars_loss(predicted, batch.rating)
            reg = config.l2 * (tf.reduce_sum(tf.square(u)) + tf.reduce_sum(tf.square(target_v)))
            loss = rank_loss + config.rating_weight * rate_loss + reg
        grads = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(zip(grads, self.variables))
        return rank_loss, rate_loss

    def item_outputs(self) -> np.ndarray:
        """[n, d + 2 + k] every movie's [v, p, b, q] with its id vector (no dropout)."""
        inputs = [*(self.content.tokens[g] for g in GROUPS), self.content.year]
        inputs.append(self.id_code[:, None])
        return np.asarray(self.item_tower.predict(inputs, batch_size=4096, verbose=0))

    def user_layers(self):
        def layer(name):
            kernel, bias = self.user_tower.get_layer(name).get_weights()
            return kernel.astype("float32"), bias.astype("float32")

        return layer("user_hidden"), layer("user_out")


def epoch_batches(trainer: Trainer, users, items, stars, n_users, rng, baseline):
    """One epoch's padded batches, in random order. Each batch runs the user tower once
    per distinct user in it (at most ``min(batch_size, n_users)``)."""
    config = trainer.config
    is_input, pooled, is_target, genre_only = epoch_split(users, n_users, config, rng)
    flags = trainer.content.flags
    shown = (users[is_input], items[is_input], stars[is_input])
    inputs = user_inputs(*shown, n_users, flags, baseline, pooled=pooled[is_input])
    dense = inputs.dense.copy()
    slider = slider_users(dense, genre_only, users, items, is_input, flags, config, rng)
    targets = np.flatnonzero((is_target & ~genre_only[users]) | slider)
    targets = targets[rng.permutation(len(targets))]
    weight = np.where(stars >= config.like_stars, 1.0, config.neg_weight).astype("float32")
    batch = config.batch_size
    user_cap = min(batch, n_users)
    cap = user_cap * config.history_cap
    for start in range(0, len(targets), batch):
        rows = targets[start : start + batch]
        distinct, row_user = np.unique(users[rows], return_inverse=True)
        plain = inputs.plain[distinct].tocoo()
        like = inputs.like[distinct].tocoo()  # the same pattern as plain
        needed, local = np.unique(np.concatenate([items[rows], plain.col]), return_inverse=True)
        size = -(-len(needed) // NEEDED_STEP) * NEEDED_STEP  # few shapes: few retraces
        index = np.zeros((cap, 2), "int32")
        plain_value, like_value = np.zeros(cap, "float32"), np.zeros(cap, "float32")
        index[: plain.nnz, 0], index[: plain.nnz, 1] = plain.row, local[len(rows) :]
        plain_value[: plain.nnz], like_value[: plain.nnz] = plain.data, like.data
        yield Batch(
            needed=_pad(needed.astype("int32"), size),
            dense=_pad(dense[distinct], user_cap),
            pool_index=index,
            plain_value=plain_value,
            like_value=like_value,
            row_user=_pad(row_user.astype("int32"), batch),
            target=_pad(local[: len(rows)].astype("int32"), batch),
            rating=_pad(stars[rows].astype("float32"), batch),
            weight=_pad(weight[rows], batch),
        )


def fit_hybrid(
    ratings: pd.DataFrame,
    content: ContentTokens,
    config: HybridConfig,
    progress: Progress | None = None,
) -> tuple[HybridParams, keras.Model, dict]:
    """Train on ``ratings`` (userId, movieId, rating in stars) over ``content``'s movies.

    Runs ``config.epochs`` epochs, or more (up to ``config.max_epochs``) when the first
    epoch shows that they would make fewer than ``config.min_steps`` updates. Returns
    (the numpy parameters, a Keras model of both towers for the bundle, the per-epoch
    losses {"rank_loss", "rating_loss"}, "seconds" and "epochs", the number run).
    """
    set_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    users, items, stars, n_users = rating_codes(ratings, content.index)
    n_items = len(content.movie_ids)
    counts = np.bincount(items, minlength=n_items)
    baseline = item_baseline_bias(users, items, stars, n_users, n_items)
    trainer = Trainer(content, config, counts, baseline)
    history: dict[str, list[float]] = {"rank_loss": [], "rating_loss": [], "learning_rate": []}
    start = time.perf_counter()
    planned, epoch = config.epochs, 0
    while epoch < planned:
        epoch += 1
        trainer.optimizer.learning_rate = epoch_lr(config, epoch, planned)
        history["learning_rate"].append(float(trainer.optimizer.learning_rate.numpy()))
        losses = [
            trainer.step(*batch)
            for batch in epoch_batches(trainer, users, items, stars, n_users, rng, baseline)
        ]
        if epoch == 1:  # a small training set runs more epochs, to make min_steps updates
            planned = planned_epochs(config, len(losses))
        rank_loss, rating_loss = np.mean([[float(a), float(b)] for a, b in losses], axis=0)
        history["rank_loss"].append(float(rank_loss))
        history["rating_loss"].append(float(rating_loss))
        if progress is not None:
            text = f"epoch {epoch}/{planned}, rank {rank_loss:.3f}, stars² {rating_loss:.3f}"
            progress(epoch, planned, text)
    history["epochs"] = planned
    params, both = fitted_model(trainer, content, config, counts, baseline)
    params = refit_stars(params, users, items, stars, n_users)
    params = with_neighbours(params, users, items, n_users, stars)
    history["seconds"] = time.perf_counter() - start
    return params, both, history


def fitted_model(trainer: Trainer, content, config, counts, baseline):
    """(the numpy parameters, a Keras model of both towers) of a trained ``trainer``."""
    out = trainer.item_outputs()
    at = TowerLayout(config.dim)
    taste = out[:, at.item_taste]
    params = HybridParams(
        movie_ids=content.movie_ids,
        item_vecs=item_side(taste, counts, content.flags, config.star_dim + N_GENRES),
        rank_bias=out[:, at.item_rank_bias].astype("float64"),
        star_bias=out[:, at.item_star_bias].astype("float64") + baseline[1],
        counts=counts,
        baseline_bias=baseline[1],
        flags=content.flags,
        user_layers=trainer.user_layers(),
        star_vecs=np.concatenate([out[:, at.item_rating], content.flags], 1).astype("float32"),
        star_genre_weight=trainer.user_tower.get_layer("user_head").star_genre_weight.numpy(),
        genre_weight=trainer.user_tower.get_layer("user_head").genre_weight.numpy(),
        mu=baseline[0],
        alpha=float(trainer.alpha.numpy()),
        pop_prior=config.pop_prior,
    )
    both = keras.Model(
        [*trainer.item_tower.inputs, *trainer.user_tower.inputs],
        [trainer.item_tower.outputs[0], trainer.user_tower.outputs[0]],
        name="hybrid_two_tower",
    )
    return params, both
