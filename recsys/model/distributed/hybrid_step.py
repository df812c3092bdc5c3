"""The hybrid model trained on TensorFlow's ``MultiWorkerMirroredStrategy`` (TensorFlow).

Every worker holds both towers and reads its own users' ratings (``UserShard``). Each
step, each worker builds a batch of the recipe's size from its users with the
one-process code (``hybrid.network.epoch_batches``: the epoch's split of each user's
ratings, the pooled histories, the padding) and runs the one-process update
(``Trainer.train_step``: in-batch softmax with the logQ correction, plus the star loss)
under ``strategy.run``; Adam's ``apply_gradients`` sums the workers' gradients
(all-reduce) before every worker applies the same update.

- In-batch negatives: each worker's softmax sees its own batch, ``config.batch_size``
  targets, as in one process; the global batch is ``workers × batch_size``
  (docs/scaling.md says why).
- Each worker's loss is its batch's mean, so the all-reduce sums ``workers`` means:
  ``workers ×`` the mean gradient. Adam's update does not change when every gradient is
  scaled by one constant (up to its ε), so it is the update of the mean.
- The step is compiled with an input signature of unknown lengths, so it is traced
  once however many movies a batch needs: each worker then issues its collectives in
  the same order as the others (a retrace on one worker only would not).
- Every worker runs ``shard.steps`` steps an epoch from an endless stream of its
  batches (a new split of its users' ratings each time the last one is used up).

The towers are built under the strategy's scope, then copied into a plain (one-process)
trainer for the bundle. TensorFlow comes through ``recsys.model._tf``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from recsys.config import HybridConfig
from recsys.model._tf import set_seed, tf
from recsys.model.distributed.cluster import Cluster, report_joined
from recsys.model.distributed.shards import UserShard
from recsys.model.distributed.strategy import joined_cluster
from recsys.model.hybrid.content import ContentTokens
from recsys.model.hybrid.epochs import epoch_lr, planned_epochs
from recsys.model.hybrid.network import Trainer, epoch_batches, fitted_model, step_signature
from recsys.progress import Progress


def fit_hybrid_distributed(
    shard: UserShard,
    content: ContentTokens,
    config: HybridConfig,
    cluster: Cluster,
    *,
    progress: Progress | None = None,
):
    """Train the hybrid model on this worker's users, in step with the cluster that
    ``TF_CONFIG`` describes. Returns (HybridParams, the Keras towers, history) as
    ``hybrid_network.fit_hybrid`` does, the same on every worker. A lost worker raises
    ClusterError."""
    set_seed(config.seed)
    with joined_cluster(cluster) as strategy:
        with strategy.scope():
            trainer = Trainer(content, config, shard.counts, shard.baseline)
        rng = np.random.default_rng([config.seed, cluster.index])
        batches = _endless_batches(trainer, shard, rng)
        step = _synchronised_step(strategy, trainer)
        planned = planned_epochs(config, shard.steps)
        history: dict = {"rank_loss": [], "rating_loss": [], "learning_rate": []}
        start = time.perf_counter()
        for epoch in range(1, planned + 1):
            trainer.optimizer.learning_rate = epoch_lr(config, epoch, planned)
            history["learning_rate"].append(float(trainer.optimizer.learning_rate.numpy()))
            losses = np.zeros(2)
            for _ in range(shard.steps):
                losses += step(*next(batches)).numpy()
                report_joined()  # the cluster has trained together: it is up
            rank_loss, rating_loss = losses / shard.steps
            history["rank_loss"].append(float(rank_loss))
            history["rating_loss"].append(float(rating_loss))
            if progress is not None:
                text = f"epoch {epoch}/{planned}, rank {rank_loss:.3f}, stars² {rating_loss:.3f}"
                progress(epoch, planned, text)
        history["seconds"] = time.perf_counter() - start
        history["epochs"] = planned
    plain = Trainer(content, config, shard.counts, shard.baseline)
    plain.item_tower.set_weights(trainer.item_tower.get_weights())
    plain.user_tower.set_weights(trainer.user_tower.get_weights())
    plain.alpha.assign(trainer.alpha.numpy())
    params, both = fitted_model(plain, content, config, shard.counts, shard.baseline)
    return params, both, history


def _synchronised_step(strategy, trainer: Trainer):
    """One update on every worker; the workers' mean [rank loss, star loss]. Traced
    once: every input's first dimension is left unknown."""

    @tf.function(input_signature=step_signature())
    def step(*batch):
        losses = strategy.run(lambda *b: tf.stack(trainer.train_step(*b)), args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)

    return step


def _endless_batches(trainer: Trainer, shard: UserShard, rng) -> Iterator[tuple]:
    """This worker's batches, epoch after epoch of its users' ratings."""
    users, items, stars, n_users = shard.ratings()
    while True:
        yield from epoch_batches(trainer, users, items, stars, n_users, rng, shard.baseline)
