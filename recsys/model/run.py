"""``RunOptions``: how a training runs, the same for every model kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recsys.errors import UsageError

if TYPE_CHECKING:
    from recsys.model.distributed.cluster import Cluster
    from recsys.progress import Progress


@dataclass(frozen=True)
class RunOptions:
    """How a training runs, whatever the kind: who hears its progress, whether it waits
    for another training's lock (True, False or seconds), whether it is served even when
    the quality gate finds it clearly worse, and the cluster it trains on (None: one
    process)."""

    progress: Progress | None = None
    wait: float | bool = False
    force: bool = False
    cluster: Cluster | None = None


def worker_cluster(options: RunOptions) -> Cluster:
    """The cluster a non-chief worker trains on; UsageError when ``options`` has none."""
    if options.cluster is None:
        raise UsageError("a worker's part of a training needs the cluster it belongs to")
    return options.cluster
