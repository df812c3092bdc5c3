"""Training on a cluster: who is in it (``cluster``), each worker's rows on disk
(``shards``), and each model kind's synchronised step on TensorFlow's
``MultiWorkerMirroredStrategy`` (``lab_step``, ``hybrid_step``).

This package's own functions are the two entry points, one per model kind: each writes
this worker's shard, then trains in step with the others (TensorFlow is imported only
then), and what the manifest records about how a training was spread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recsys.config import TrainConfig
from recsys.errors import UsageError
from recsys.model.distributed.cluster import Cluster
from recsys.model.distributed.shards import (
    UserShard,
    epoch_steps,
    read_layout,
    removed_after,
    shard_rows,
    user_shard_rows,
    write_shard,
    write_user_shard,
)
from recsys.progress import Progress


def check_global_batch(config: TrainConfig, workers: int) -> None:
    """The global batch must split evenly over the workers."""
    if config.batch_size % workers:
        raise UsageError(
            f"--batch-size {config.batch_size} does not split over {workers} workers; "
            f"pass a multiple of {workers}"
        )


def fit_on_cluster(
    user_x,
    item_x,
    y,
    config: TrainConfig,
    cluster: Cluster,
    shard: Path,
    *,
    progress: Progress | None = None,
):
    """Write this worker's shard of the train rows, then train with the others.

    Returns ``recsys.model.lab.network.FitResult`` (on every worker, the same weights).
    """
    check_global_batch(config, cluster.workers)
    rows = shard_rows(len(y), cluster.workers, cluster.index)
    write_shard(shard, user_x[rows], item_x[rows], np.asarray(y)[rows])
    from recsys.model.distributed import lab_step  # TensorFlow is imported only to train

    with removed_after(shard):
        layout = read_layout(shard, user_x.shape[1], len(y) // cluster.workers)
        return lab_step.fit_distributed(layout, config, cluster, progress=progress)


def training_record(config: TrainConfig, cluster: Cluster | None) -> dict:
    """What the manifest says about how the training was spread (None: one process)."""
    workers = 1 if cluster is None else cluster.workers
    return {
        "workers": workers,
        "strategy": "one process" if cluster is None else "MultiWorkerMirroredStrategy",
        "global_batch": config.batch_size,
        "per_worker_batch": config.batch_size // max(workers, 1),
        "lr": config.lr,
    }


def fit_hybrid_on_cluster(
    ratings, content, config, cluster: Cluster, shard: Path, *, progress: Progress | None = None
):
    """Write this worker's users' ratings as its shard, then train the hybrid model with
    the others (``recsys.model.distributed.hybrid_step``). ``config.batch_size`` is each
    worker's batch: the global batch is ``workers ×`` it.

    ratings: userId, movieId, rating (stars), every rating; content: the catalogue's
    tokens. Returns (HybridParams, the Keras towers, history) as ``fit_hybrid`` does.
    """
    from recsys.model.hybrid.inputs import item_baseline_bias, rating_codes

    users, items, stars, n_users = rating_codes(ratings, content.index)
    n_items = len(content.movie_ids)
    counts = np.bincount(items, minlength=n_items)
    baseline = item_baseline_bias(users, items, stars, n_users, n_items)
    mine = user_shard_rows(users, cluster.workers, cluster.index)
    write_user_shard(shard, users[mine], items[mine], stars[mine])
    steps = epoch_steps(users, cluster.workers, config.batch_size, config.target_fraction)
    from recsys.model.distributed import hybrid_step  # TensorFlow is imported only to train

    with removed_after(shard):
        return hybrid_step.fit_hybrid_distributed(
            UserShard(shard, counts, baseline, steps), content, config, cluster, progress=progress
        )


def hybrid_training_record(config, cluster: Cluster | None) -> dict:
    """What the hybrid's manifest says about how the training was spread: each worker
    takes the recipe's batch, so the global batch grows with the workers."""
    workers = 1 if cluster is None else cluster.workers
    return {
        "workers": workers,
        "strategy": "one process" if cluster is None else "MultiWorkerMirroredStrategy",
        "global_batch": config.batch_size * workers,
        "per_worker_batch": config.batch_size,
        "lr": config.lr,
    }
