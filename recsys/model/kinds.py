"""The model kinds, one registry entry each: the name, the label people read, how a
config is made from the command line's or the app's choices, how a bundle is trained
(``train``) and how a non-chief worker of a cluster trains, and the files of a bundle.

Adding a third model kind means adding one entry to ``KINDS`` (its package beside
``lab/`` and ``hybrid/`` supplies the functions). Importing this module imports no
training code: each kind's trainer is imported when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys.config import HYBRID, HybridConfig, TrainConfig, hybrid_config, recipe_config
from recsys.errors import UsageError
from recsys.model.bundle import BUNDLE_FILES

if TYPE_CHECKING:
    from recsys.dataset.movielens import MovieLens
    from recsys.model.distributed.cluster import Cluster
    from recsys.model.lab.train import TrainReport
    from recsys.progress import Progress

LAB = "lab"


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


@dataclass(frozen=True)
class ModelKind:
    """One model kind. ``make_config(recipe=, preset=, seed=, epochs=, lr=,
    batch_size=)`` takes every choice the command line offers and uses its own (None
    keeps a default); ``trainer(dataset, config, artifacts, options)`` writes a bundle
    and returns its TrainReport; ``worker(dataset, config, artifacts, cluster)`` is a
    non-chief worker's part of a distributed training. ``global_batch``: the config's
    batch is split over the workers (it must divide evenly), rather than each worker's."""

    name: str
    label: str
    config_type: type
    make_config: Callable[..., Any]
    trainer: Callable[[MovieLens, Any, Path, RunOptions], TrainReport]
    worker: Callable[[MovieLens, Any, Path, Cluster], dict]
    bundle_files: tuple[str, ...]
    global_batch: bool


def _lab_config(*, recipe: str | None = None, preset: str | None = None, **overrides):
    return recipe_config(recipe or "fast", preset=preset, **overrides)


def _hybrid_config(*, recipe: str | None = None, preset: str | None = None, **overrides):
    return hybrid_config(**overrides)  # the recipe and the preset are the lab network's


def _train_lab(dataset, config, artifacts, options: RunOptions):
    from recsys.model.lab.train import train_bundle

    return train_bundle(
        dataset,
        config,
        artifacts,
        progress=options.progress,
        wait=options.wait,
        force=options.force,
        cluster=options.cluster,
    )


def _train_hybrid(dataset, config, artifacts, options: RunOptions):
    from recsys.model.hybrid.train import train_hybrid_bundle

    return train_hybrid_bundle(
        dataset,
        dataset.tags,
        config,
        artifacts,
        progress=options.progress,
        wait=options.wait,
        force=options.force,
        cluster=options.cluster,
    )


def _lab_worker(dataset, config, artifacts, cluster):
    from recsys.model.lab.train import train_worker

    return train_worker(dataset, config, artifacts, cluster)


def _hybrid_worker(dataset, config, artifacts, cluster):
    from recsys.model.hybrid.train import train_hybrid_worker

    return train_hybrid_worker(dataset, dataset.tags, config, artifacts, cluster)


KINDS: dict[str, ModelKind] = {
    HYBRID: ModelKind(
        name=HYBRID,
        label="Hybrid",
        config_type=HybridConfig,
        make_config=_hybrid_config,
        trainer=_train_hybrid,
        worker=_hybrid_worker,
        bundle_files=BUNDLE_FILES,
        global_batch=False,
    ),
    LAB: ModelKind(
        name=LAB,
        label="Lab's network",
        config_type=TrainConfig,
        make_config=_lab_config,
        trainer=_train_lab,
        worker=_lab_worker,
        bundle_files=BUNDLE_FILES,
        global_batch=True,
    ),
}


def model_kind(name: str) -> ModelKind:
    """The kind called ``name``; UsageError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise UsageError(f"no model kind {name!r}; use one of {', '.join(KINDS)}") from None


def kind_of(config) -> ModelKind:
    """The kind whose config ``config`` is."""
    for kind in KINDS.values():
        if isinstance(config, kind.config_type):
            return kind
    raise UsageError(f"no model kind is configured by {type(config).__name__}")


def train(dataset: MovieLens, config, artifacts: Path, options: RunOptions | None = None):
    """Train the kind that ``config`` configures on ``dataset`` into a new bundle in
    ``artifacts``; its TrainReport (see ``RunOptions`` for how it runs)."""
    return kind_of(config).trainer(dataset, config, artifacts, options or RunOptions())
