"""Each worker's shard of the training rows, on disk, and the distributed fit around it.

A shard is one ``.npy`` file of float32 rows ``[user inputs | item inputs | target]``
(scaled units). Worker ``i`` of ``N`` takes the lab split's train rows ``i, i + N, …``;
it writes its shard once, before training (to a temporary name, then renamed), and
TensorFlow reads it back a batch at a time (``tf.data.FixedLengthRecordDataset`` past the
``.npy`` header), so no worker loads more than its own rows, nor all of them at once.
No TensorFlow here: ``recsys.model.distributed`` trains.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.config import TrainConfig
from recsys.errors import UsageError
from recsys.model.cluster import JOIN_TIMEOUT_S, Cluster
from recsys.progress import Progress

SHARDS_FOLDER = ".shards"  # inside the artifacts folder; ignored by the bundle code


@dataclass(frozen=True)
class ShardFile:
    """A shard on disk: ``rows`` rows of ``user_width + item_width + 1`` float32s after a
    ``header_bytes`` ``.npy`` header. ``min_rows`` is the smallest shard's row count, so
    that every worker runs the same number of steps per epoch."""

    path: Path
    rows: int
    user_width: int
    item_width: int
    header_bytes: int
    min_rows: int

    @property
    def width(self) -> int:
        return self.user_width + self.item_width + 1


def shard_rows(n_rows: int, workers: int, index: int) -> np.ndarray:
    """Worker ``index``'s rows of ``n_rows``: every ``workers``-th from ``index``."""
    return np.arange(index, n_rows, workers)


def write_shard(path: Path, user_x, item_x, y) -> None:
    """Write ``[user_x | item_x | y]`` as float32 ``.npy`` atomically (temp, rename)."""
    rows = np.concatenate(
        [np.asarray(user_x), np.asarray(item_x), np.asarray(y).reshape(-1, 1)], axis=1
    ).astype("<f4")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            np.save(stream, np.ascontiguousarray(rows), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_layout(path: Path, user_width: int, min_rows: int) -> ShardFile:
    """The shard's row count and header size, read from its ``.npy`` header."""
    with open(path, "rb") as stream:
        version = np.lib.format.read_magic(stream)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read(stream)
        header = stream.tell()
    if fortran or dtype != np.dtype("<f4") or len(shape) != 2:
        raise UsageError(f"{path}: not a shard of float32 rows")
    return ShardFile(path, shape[0], user_width, shape[1] - user_width - 1, header, min_rows)


def shard_path(artifacts_dir: Path, key: str, cluster: Cluster) -> Path:
    """``<artifacts>/.shards/<key>/part-00001-of-00002.npy``."""
    name = f"part-{cluster.index:05d}-of-{cluster.workers:05d}.npy"
    return artifacts_dir / SHARDS_FOLDER / key / name


def shard_key(fingerprint: str, config: TrainConfig) -> str:
    """Names the training set a shard was cut from (the data and the preset)."""
    return hashlib.sha256(f"{fingerprint}|{config.preset}".encode()).hexdigest()[:16]


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
    join_timeout: float = JOIN_TIMEOUT_S,
):
    """Write this worker's shard of the train rows, then train with the others.

    Returns ``recsys.model.network.FitResult`` (on every worker, the same weights).
    """
    check_global_batch(config, cluster.workers)
    rows = shard_rows(len(y), cluster.workers, cluster.index)
    write_shard(shard, user_x[rows], item_x[rows], np.asarray(y)[rows])
    layout = read_layout(shard, user_x.shape[1], len(y) // cluster.workers)
    from recsys.model import distributed  # TensorFlow is imported only to train

    return distributed.fit_distributed(
        layout, config, cluster, progress=progress, join_timeout=join_timeout
    )


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
