"""What a training reports, whatever the kind: ``TrainReport`` (the chief's, and the
command line's ``--json``) and ``worker_report`` (a non-chief worker's line)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recsys.model.distributed.cluster import Cluster


@dataclass(frozen=True)
class TrainReport:
    """What a training produced; ``to_json`` is the CLI's ``--json`` output.

    ``metrics``: the figures only this kind measures (the lab's split: ``train_mse``,
    ``test_mse``, ``test_rmse_stars``); a kind without them reports none, rather than
    empty ones.
    """

    model: str
    counts: dict
    train_rows: int
    test_rows: int
    seconds: float
    fit_seconds: float
    epochs_run: int
    bundle: Path
    gate: dict | None = None  # the quality gate's verdict (recsys.model.bundle.gate)
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def served(self) -> bool:
        """Whether the new bundle was made the served one of its kind."""
        return self.gate is None or bool(self.gate.get("serve", True))

    def to_json(self) -> dict:
        return {
            "model": self.model,
            **self.counts,
            "train_rows": self.train_rows,
            "test_rows": self.test_rows,
            **self.metrics,
            "seconds": self.seconds,
            "fit_seconds": self.fit_seconds,
            "epochs_run": self.epochs_run,
            "bundle": str(self.bundle),
            "served": self.served,
            "gate": self.gate,
        }


def worker_report(cluster: Cluster, train_rows: int, fit_seconds: float, epochs_run: int) -> dict:
    """What a non-chief worker prints when its part of a training is done."""
    return {
        "worker": cluster.index,
        "workers": cluster.workers,
        "train_rows": int(train_rows),
        "fit_seconds": fit_seconds,
        "epochs_run": epochs_run,
    }
