"""Each worker's shard of the training rows, on disk: the file format, who gets which rows.

The lab network: a shard is one ``.npy`` file of float32 rows ``[user inputs | item
inputs | target]`` (scaled units); worker ``i`` of ``N`` takes the lab split's train rows
``i, i + N, …``, and TensorFlow reads them back a batch at a time
(``tf.data.FixedLengthRecordDataset`` past the ``.npy`` header). The hybrid model: a
shard holds every rating ``[user, movie row, stars]`` of the users whose code is ``i``
modulo ``N`` (a user's history stays whole for the pools), memory-mapped back. Each
worker writes its shard once, before training (to a temporary name, then renamed), and
removes it when the training ends. No TensorFlow here: the package's entry points
(``recsys.model.distributed``) write the shards, and ``lab_step`` and ``hybrid_step`` train.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.errors import UsageError
from recsys.model.distributed.cluster import Cluster

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
    """``<artifacts>/.shards/<key>/part-00001-of-00002.npy``. UsageError, in one line, if
    ``.shards`` or its ``<key>`` folder is a symbolic link: the shard would be written,
    and removed after the training, wherever the link points."""
    name = f"part-{cluster.index:05d}-of-{cluster.workers:05d}.npy"
    for folder in (artifacts_dir / SHARDS_FOLDER, artifacts_dir / SHARDS_FOLDER / key):
        if folder.is_symlink():
            raise UsageError(
                f"{folder}: is a symbolic link; training writes its shards there and "
                "follows no link: remove it (a folder is made in its place)"
            )
    return artifacts_dir / SHARDS_FOLDER / key / name


def shard_key(fingerprint: str, training_set: str) -> str:
    """Names the training set a shard was cut from (the data, and the lab's preset or
    the model)."""
    return hashlib.sha256(f"{fingerprint}|{training_set}".encode()).hexdigest()[:16]


@contextmanager
def removed_after(shard: Path):
    """Remove the shard when its training ends, and its folders once empty: a shard is
    cut afresh by every run, so keeping it would only fill the disk (a worker that is
    killed leaves its own, which the next run of the same training set overwrites)."""
    try:
        yield
    finally:
        shard.unlink(missing_ok=True)
        for folder in (shard.parent, shard.parent.parent):
            try:
                folder.rmdir()
            except OSError:  # not empty (another worker's shard) or gone
                break


# ------------------------------------------------------------------ the hybrid model

FLOAT32_EXACT = 2**24  # ids below this are exact in a float32 shard


@dataclass(frozen=True)
class UserShard:
    """One worker's part of the hybrid model's training data, and what all share.

    path: ``.npy`` float32 rows ``[user code, catalogue row, stars]`` of this worker's
    users (every rating of each), read back memory-mapped. ``counts`` [n_items] ratings
    per movie and ``baseline`` (μ, b⁰ [n_items], stars) are the whole data's, so every
    worker builds the same towers; ``steps``: updates per epoch, the same on every worker.
    """

    path: Path
    counts: np.ndarray
    baseline: tuple[float, np.ndarray]
    steps: int

    def ratings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(user codes local to the shard [n], catalogue rows [n], stars [n], n users)."""
        rows = np.load(self.path, mmap_mode="r")
        users = np.unique(rows[:, 0].astype("int64"), return_inverse=True)[1]
        n_users = int(users.max()) + 1 if len(users) else 0
        return users, rows[:, 1].astype("int64"), rows[:, 2].astype("float64"), n_users


def user_shard_rows(user_codes: np.ndarray, workers: int, index: int) -> np.ndarray:
    """Worker ``index``'s rating rows: every rating of the users whose code is ``index``
    modulo ``workers`` (a user's history stays whole, for the user tower's pools)."""
    return np.flatnonzero(np.asarray(user_codes) % workers == index)


def epoch_steps(user_codes: np.ndarray, workers: int, batch: int, target_fraction: float) -> int:
    """Updates per epoch on every worker: the smallest shard's expected targets (each
    user ranks about ``target_fraction`` of their ratings, one at least) over ``batch``,
    so that no worker waits at an all-reduce that another never reaches."""
    per_user = np.bincount(np.asarray(user_codes))
    targets = np.maximum(np.ceil(per_user * target_fraction), 1)
    owner = np.arange(len(per_user)) % workers
    per_worker = np.bincount(owner, weights=targets, minlength=workers)
    return max(1, int(np.ceil(per_worker.min() / batch)))


def write_user_shard(path: Path, users: np.ndarray, items: np.ndarray, stars: np.ndarray) -> None:
    """``[user code, catalogue row, stars]`` as a float32 ``.npy`` (temp, rename)."""
    if len(users) and max(int(users.max()), int(items.max())) >= FLOAT32_EXACT:
        raise UsageError(f"more than {FLOAT32_EXACT:,} users or movies do not fit a shard")
    write_shard(path, np.asarray(users)[:, None], np.asarray(items)[:, None], stars)
