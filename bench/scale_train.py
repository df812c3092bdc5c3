"""Training throughput of the lab network at scale, one worker process of a measurement.

``python -m bench.scale_train FOLDER --rows K --batch B`` loads a MovieLens-format
folder, builds the ``full`` preset's features (so its peak memory is a real worker's),
draws ``K`` training rows, and trains the fast recipe for 2 epochs on them: in this
process with ``model.fit`` when ``TF_CONFIG`` is unset, else as one worker of that
cluster (``MultiWorkerMirroredStrategy``, its shard of the K rows, ``B`` rows a step).
The second epoch is timed (the first pays tracing and the cluster's start). Prints one
JSON object: rows a second (all workers' rows), ms a step, this process's peak memory.
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
from recsys.model.cluster import TF_CONFIG, cluster_from_env
from recsys.model.features import build_features
from recsys.model.scaling import Scalers
from recsys.model.shards import fit_on_cluster

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
        from recsys.model import network  # TensorFlow is imported only to train

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_train")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.folder, args.rows, args.batch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
