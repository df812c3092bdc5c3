"""The lab network trained on TensorFlow's ``MultiWorkerMirroredStrategy`` (TensorFlow).

Every worker holds the whole network; each step, each worker takes a batch of
``global batch / N`` rows from its own shard, computes its gradients, and the strategy
sums them over the workers (all-reduce) before every worker applies the same update.

Keras 3's ``model.fit`` does not run under this strategy (TensorFlow 2.21, Keras 3.15:
"Attempt to convert a value (PerReplica…) to a Tensor"), so the step is written out:
``strategy.run`` over ``distribute_datasets_from_function``, Keras layers and optimiser.
The loss of a step is the global batch's mean squared error, as ``model.fit`` reports it
in one process; the learning rate decays per epoch as there.

TensorFlow comes through ``recsys.model._tf``; the cluster's strategy from ``strategy``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from recsys.config import TrainConfig
from recsys.model._tf import keras, set_seed, tf
from recsys.model.distributed.cluster import Cluster, report_joined
from recsys.model.distributed.shards import ShardFile
from recsys.model.distributed.strategy import joined_cluster
from recsys.model.lab.network import FitResult, build_model
from recsys.progress import Progress

SHUFFLE_ROWS = 65_536  # the shuffle buffer, in rows of a worker's shard


def _shard_dataset(shard: ShardFile, batch: int, seed: int) -> tf.data.Dataset:
    """Endless shuffled batches ``((user [b, u], item [b, i]), y [b, 1])`` of one shard,
    read from disk a record at a time."""
    width, users = shard.width, shard.user_width
    data = tf.data.FixedLengthRecordDataset(
        str(shard.path), record_bytes=4 * width, header_bytes=shard.header_bytes
    )
    data = data.shuffle(min(shard.rows, SHUFFLE_ROWS), seed=seed, reshuffle_each_iteration=True)
    data = data.repeat().batch(batch, drop_remainder=True)

    def decode(raw):
        rows = tf.reshape(tf.io.decode_raw(raw, tf.float32), [-1, width])
        return (rows[:, :users], rows[:, users : width - 1]), rows[:, width - 1 :]

    return data.map(decode).prefetch(tf.data.AUTOTUNE)


def fit_distributed(
    shard: ShardFile,
    config: TrainConfig,
    cluster: Cluster,
    *,
    progress: Progress | None = None,
) -> FitResult:
    """Train the lab network on this worker's shard, in step with the cluster that
    ``TF_CONFIG`` describes. ``config.batch_size`` is the global batch.

    Returns a plain (one-process) Keras model with the trained weights, the per-epoch
    loss (scaled units) and the seconds spent training. A lost worker raises
    ClusterError.
    """
    with joined_cluster(cluster) as strategy:
        set_seed(config.seed)
        local_batch = config.batch_size // strategy.num_replicas_in_sync
        steps = max(1, -(-shard.min_rows // local_batch))
        with strategy.scope():
            model = build_model(shard.user_width, shard.item_width)
            optimizer = keras.optimizers.Adam(learning_rate=config.lr)
            optimizer.build(model.trainable_variables)
        data = strategy.distribute_datasets_from_function(
            lambda _context: _shard_dataset(shard, local_batch, config.seed + cluster.index)
        )
        run = _train_steps(strategy, model, optimizer, config.batch_size)
        history: list[float] = []
        start = time.perf_counter()
        _epochs(_Loop(run, iter(data), steps, optimizer), config, history, progress)
        seconds = time.perf_counter() - start
    plain = build_model(shard.user_width, shard.item_width)
    plain.set_weights([w.numpy() for w in model.weights])
    history_dict = {"loss": history}
    return FitResult(model=plain, history=history_dict, epochs_run=len(history), seconds=seconds)


def _train_steps(strategy, model, optimizer, global_batch: int):
    """A compiled call that runs ``k`` synchronised steps; the sum of their losses."""

    def replica_step(inputs, y):
        with tf.GradientTape() as tape:
            predicted = model(inputs, training=True)
            loss = tf.reduce_sum(tf.square(predicted - y)) / global_batch
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def run(iterator, k):
        total = tf.constant(0.0)
        for _ in tf.range(k):
            losses = strategy.run(replica_step, args=next(iterator))
            total += strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)
        return total

    return run


@dataclass(frozen=True)
class _Loop:
    """What the epochs drive: the compiled steps, the data, the steps per epoch."""

    run: object
    iterator: object
    steps: int
    optimizer: keras.optimizers.Optimizer


def _epochs(loop: _Loop, config: TrainConfig, history: list[float], progress) -> None:
    """``config.epochs`` epochs of ``loop.steps`` steps, ``steps_per_execution`` per call;
    the learning rate decays per epoch as the one-process fit's scheduler does."""
    chunk = max(1, config.steps_per_execution)
    for epoch in range(config.epochs):
        if config.lr_decay:
            loop.optimizer.learning_rate.assign(config.lr * config.lr_decay**epoch)
        total, done = 0.0, 0
        while done < loop.steps:
            k = min(chunk, loop.steps - done)
            total += float(loop.run(loop.iterator, tf.constant(k)))
            done += k
            report_joined()  # the cluster has trained together: it is up
        history.append(total / loop.steps)
        if progress is not None:
            text = f"epoch {epoch + 1}/{config.epochs}, loss {history[-1]:.4f}"
            progress(epoch + 1, config.epochs, text)
