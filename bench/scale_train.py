"""Training throughput at scale, one worker process of a measurement.

``python -m bench.scale_train FOLDER --rows K --batch B`` loads a MovieLens-format
folder, builds the ``full`` preset's features (so its peak memory is a real worker's),
draws ``K`` training rows, and trains the lab network's fast recipe for 2 epochs on
them: in this process with ``model.fit`` when ``TF_CONFIG`` is unset, else as one worker
of that cluster (``MultiWorkerMirroredStrategy``, its shard of the K rows, ``B`` rows a
step). ``--model hybrid``: the hybrid model (whole catalogue) on every rating of a
sample of users holding about K ratings, ``B`` targets a worker a step. The second
epoch is timed (the first pays tracing and the cluster's start). Prints one JSON
object: rows (ratings) a second over all workers, ms a step where the steps are known,
this process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import peak_rss_mb
from recsys.config import preset_config, recipe_config
from recsys.dataset.movielens import load_movielens
from recsys.model.distributed import fit_on_cluster
from recsys.model.distributed.cluster import TF_CONFIG, cluster_from_env
from recsys.model.features import build_features
from recsys.model.scaling import Scalers

EPOCHS = 2  # the second is timed


def measure(folder: Path, rows: int, batch: int, seed: int = 0) -> dict:
    """Train ``rows`` rows of ``folder`` for ``EPOCHS`` epochs; time the last one."""
    cluster = cluster_from_env() if os.environ.get(TF_CONFIG) else None
    workers = 1 if cluster is None else cluster.workers
    training = build_features(load_movielens(folder), preset_config("full"))
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(training.y), min(rows, len(training.y)), replace=False))
    user_x, item_x, y = training.user_train[pick], training.item_train[pick], training.y[pick]
    del training
    scalers = Scalers.fit(user_x, item_x, y)
    user_x, item_x = scalers.user_inputs(user_x), scalers.item_inputs(item_x)
    y = scalers.scale_target(y)
    config = recipe_config("fast", preset="full", epochs=EPOCHS, batch_size=batch * workers)
    ends: list[float] = []

    def progress(_done, total, _text=""):
        if total:
            ends.append(time.perf_counter())

    if cluster is None:
        from recsys.model.lab import network  # TensorFlow is imported only to train

        network.fit(user_x, item_x, y, config, progress=progress)
        steps = -(-len(y) // batch)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-shard-") as folder_:
            shard = Path(folder_) / f"part-{cluster.index}.npy"
            fit_on_cluster(user_x, item_x, y, config, cluster, shard, progress=progress)
        steps = -(-(len(y) // workers) // batch)
    epoch_s = ends[-1] - ends[-2]
    return {
        "workers": workers,
        "rows": int(len(y)),
        "per_worker_batch": batch,
        "steps": steps,
        "epoch_s": epoch_s,
        "rows_per_s": steps * batch * workers / epoch_s,
        "step_ms": epoch_s / steps * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_hybrid(folder: Path, rows: int, batch: int, seed: int = 0) -> dict:
    """The hybrid model on every rating of a sample of users holding about ``rows``
    ratings (the whole catalogue's movies), ``EPOCHS`` epochs; the last one timed."""
    from recsys.columns import USER_ID
    from recsys.config import hybrid_config
    from recsys.dataset.tags import load_tags
    from recsys.model.distributed import fit_hybrid_on_cluster
    from recsys.model.distributed.shards import epoch_steps
    from recsys.model.hybrid.content import build_content

    cluster = cluster_from_env() if os.environ.get(TF_CONFIG) else None
    workers = 1 if cluster is None else cluster.workers
    dataset = load_movielens(folder)
    config = hybrid_config(epochs=EPOCHS, batch_size=batch)
    content = build_content(dataset.movies, load_tags(folder), config.min_token_df)
    ratings = dataset.ratings
    every = max(1, len(ratings) // rows)
    user_codes = np.unique(ratings[USER_ID].to_numpy(), return_inverse=True)[1]
    keep = np.random.default_rng(seed).permutation(user_codes.max() + 1)[user_codes] % every == 0
    sample = ratings[keep].reset_index(drop=True)
    del dataset, ratings
    ends: list[float] = []

    def progress(_done, total, _text=""):
        if total:
            ends.append(time.perf_counter())

    if cluster is None:
        from recsys.model.hybrid.network import fit_hybrid  # TensorFlow: only to train

        fit_hybrid(sample, content, config, progress=progress)
        steps = None
    else:
        with tempfile.TemporaryDirectory(prefix="bench-shard-") as folder_:
            shard = Path(folder_) / f"part-{cluster.index}.npy"
            fit_hybrid_on_cluster(sample, content, config, cluster, shard, progress=progress)
        codes = np.unique(sample[USER_ID].to_numpy(), return_inverse=True)[1]
        steps = epoch_steps(codes, workers, batch, config.target_fraction)
    epoch_s = ends[-1] - ends[-2]
    return {
        "workers": workers,
        "rows": int(len(sample)),
        "per_worker_batch": batch,
        "steps": steps,
        "epoch_s": epoch_s,
        "rows_per_s": len(sample) / epoch_s,
        "step_ms": None if steps is None else epoch_s / steps * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_train")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--model", choices=("lab", "hybrid"), default="lab")
    args = parser.parse_args(argv)
    run = measure_hybrid if args.model == "hybrid" else measure
    print(json.dumps(run(args.folder, args.rows, args.batch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
