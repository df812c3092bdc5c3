"""The lab network trained on TensorFlow's ``MultiWorkerMirroredStrategy`` (TensorFlow).

Every worker holds the whole network; each step, each worker takes a batch of
``global batch / N`` rows from its own shard, computes its gradients, and the strategy
sums them over the workers (all-reduce) before every worker applies the same update.

Keras 3's ``model.fit`` does not run under this strategy (TensorFlow 2.21, Keras 3.15:
"Attempt to convert a value (PerReplica…) to a Tensor"), so the step is written out:
``strategy.run`` over ``distribute_datasets_from_function``, Keras layers and optimiser.
The loss of a step is the global batch's mean squared error, as ``model.fit`` reports it
in one process; the learning rate decays per epoch as there.

The only other module that imports TensorFlow (through ``recsys.model.network``).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

from recsys.config import TrainConfig
from recsys.errors import one_line
from recsys.model.cluster import Cluster, ClusterError, report_joined
from recsys.model.network import FitResult, build_model, keras, set_seed, tf
from recsys.model.shards import ShardFile
from recsys.progress import Progress

COLLECTIVE_TIMEOUT_S = 300  # a peer silent this long during a step is given up
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


@contextmanager
def joined_cluster(cluster: Cluster):
    """The strategy of the cluster in ``TF_CONFIG``, made before any other TensorFlow op
    (as the strategy requires); TensorFlow's errors inside become ClusterError, in one
    line. A worker that never comes is the supervisor's to end
    (``recsys.model.cluster.supervise_worker``): TensorFlow would wait an hour for it,
    holding Python's lock."""
    strategy = _strategy(cluster)
    try:
        yield strategy
    except tf.errors.OpError as err:
        raise ClusterError(f"worker {cluster.index} lost the cluster: {_reason(err)}") from None


def _strategy(cluster: Cluster) -> tf.distribute.MultiWorkerMirroredStrategy:
    """The strategy, which starts this worker's gRPC server; ClusterError in one line if
    the server cannot listen on its port (another process took it) or TF_CONFIG is bad."""
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=COLLECTIVE_TIMEOUT_S,
    )
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except tf.errors.OpError as err:
        if "gRPC server" not in (err.message or ""):
            raise ClusterError(f"could not join the cluster in TF_CONFIG: {_reason(err)}") from None
        address = cluster.addresses[cluster.index]
        port = address.rpartition(":")[2]
        raise ClusterError(
            f"worker {cluster.index} could not listen on port {port} ({address} in TF_CONFIG): "
            "another process holds it, or it is not this user's to open; no bundle was written"
        ) from None
    except (RuntimeError, ValueError) as err:
        raise ClusterError(f"could not join the cluster in TF_CONFIG: {one_line(err)}") from None


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


def _reason(err: tf.errors.OpError) -> str:
    """TensorFlow's message, first line only, at most 200 characters."""
    first = (err.message or type(err).__name__).strip().splitlines()[0]
    return one_line(first if len(first) <= 200 else first[:199] + "…")


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
