"""The model kinds, one registry entry each: the name, the label people read, how a
config is made from the command line's or the app's choices, how a bundle is trained
(``train``) and how a non-chief worker of a cluster trains, the files of its bundle, how
a training is named and passed to a child process, and its bound on epochs.

Adding a third model kind means adding one entry to ``KINDS`` (its package beside
``lab/`` and ``hybrid/`` supplies the functions). Importing this module imports no
training code: each kind's trainer is a reference to a function that is imported when
it is called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys.config import HYBRID, MODELS, HybridConfig, TrainConfig, hybrid_config, recipe_config
from recsys.errors import UsageError
from recsys.model.bundle.verify import BUNDLE_FILES
from recsys.model.run import RunOptions

if TYPE_CHECKING:
    from recsys.dataset.movielens import MovieLens
    from recsys.model.report import TrainReport

__all__ = [
    "HYBRID_FILES",
    "KINDS",
    "LAB",
    "LAB_FILES",
    "ModelKind",
    "RunOptions",
    "default_training",
    "kind_of",
    "model_kind",
    "train",
    "training_label",
]

LAB = "lab"

# Each kind's bundle files (beside manifest.json): the lab's network writes every name a
# bundle's file may have (recsys.model.bundle.verify.BUNDLE_FILES).
LAB_FILES = BUNDLE_FILES
HYBRID_FILES = tuple(name for name in LAB_FILES if name != "scalers.json")  # no lab inputs

# (dataset, config, artifacts folder, options): a trainer's and a worker's signature.
Trainer = Callable[["MovieLens", Any, Path, RunOptions], "TrainReport"]
Worker = Callable[["MovieLens", Any, Path, RunOptions], dict]


def _imported_on_call(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported when first called (training code pulls in TensorFlow)."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name
    return call


@dataclass(frozen=True)
class ModelKind:
    """One model kind.

    ``make_config(recipe=, preset=, seed=, epochs=, lr=, batch_size=)`` takes every choice
    the command line offers and uses its own (None keeps a default); ``choices(config)``
    is the kind's own ones (beyond seed, epochs, lr and batch size) that made ``config``,
    as ``make_config``'s keywords. ``trainer(dataset, config, artifacts, options)`` writes
    a bundle and returns its TrainReport; ``worker`` (the same arguments) is a non-chief
    worker's part of a distributed training. ``describe(config)`` names a training for
    people; ``most_epochs(config)``: the most epochs it may run. ``global_batch``: the
    config's batch is split over the workers (it must divide evenly), rather than each
    worker's.
    """

    name: str
    label: str
    config_type: type
    make_config: Callable[..., Any]
    choices: Callable[[Any], dict[str, Any]]
    trainer: Trainer
    worker: Worker
    bundle_files: tuple[str, ...]
    global_batch: bool
    describe: Callable[[Any], str]
    most_epochs: Callable[[Any], int]

    def argv(self, config) -> list[str]:
        """``train``'s arguments that make exactly ``config``; UsageError when the
        command line cannot say it (a field it has no flag for)."""
        choices = self.choices(config)
        argv = ["--model", self.name]
        for key, value in choices.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        argv += ["--seed", str(config.seed)]
        base = self.make_config(**choices)
        chosen = {"lr": config.lr, "batch_size": config.batch_size, "seed": config.seed}
        if self.make_config(**choices, **chosen) != config:  # the epochs are the config's own
            chosen["epochs"] = config.epochs
            argv += ["--epochs", str(config.epochs)]
        if config.lr != base.lr:
            argv += ["--lr", repr(float(config.lr))]
        if config.batch_size != base.batch_size:
            argv += ["--batch-size", str(config.batch_size)]
        if self.make_config(**choices, **chosen) != config:
            raise UsageError("this training has settings the command line cannot pass")
        return argv


def _lab_config(*, recipe: str | None = None, preset: str | None = None, **overrides):
    return recipe_config(recipe or "fast", preset=preset, **overrides)


def _hybrid_config(*, recipe: str | None = None, preset: str | None = None, **overrides):
    return hybrid_config(**overrides)  # the recipe and the preset are the lab network's


KINDS: dict[str, ModelKind] = {
    HYBRID: ModelKind(
        name=HYBRID,
        label="Hybrid",
        config_type=HybridConfig,
        make_config=_hybrid_config,
        choices=lambda config: {},
        trainer=_imported_on_call("recsys.model.hybrid.train", "train_hybrid_bundle"),
        worker=_imported_on_call("recsys.model.hybrid.train", "train_hybrid_worker"),
        bundle_files=HYBRID_FILES,
        global_batch=False,
        describe=lambda config: f"the hybrid model, {config.epochs} epochs",
        most_epochs=lambda config: config.max_epochs,  # more on a small training set
    ),
    LAB: ModelKind(
        name=LAB,
        label="Lab's network",
        config_type=TrainConfig,
        make_config=_lab_config,
        choices=lambda config: {"recipe": config.recipe, "preset": config.preset},
        trainer=_imported_on_call("recsys.model.lab.train", "train_bundle"),
        worker=_imported_on_call("recsys.model.lab.train", "train_worker"),
        bundle_files=LAB_FILES,
        global_batch=True,
        describe=lambda config: (
            f"the lab's network ({config.recipe} recipe, {config.preset} preset, "
            f"{config.epochs} epochs)"
        ),
        most_epochs=lambda config: config.epochs,
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


def default_training():
    """What the app's first start and ``train`` with no flags train: ``MODELS[0]``'s
    default config."""
    return model_kind(MODELS[0]).make_config()


def training_label(config) -> str:
    """``"the hybrid model, 20 epochs"`` or ``"the lab's network (fast recipe, lab preset,
    12 epochs)"``: how the app names a training."""
    return kind_of(config).describe(config)


def train(dataset: MovieLens, config, artifacts: Path, options: RunOptions | None = None):
    """Train the kind that ``config`` configures on ``dataset`` into a new bundle in
    ``artifacts``; its TrainReport (see ``RunOptions`` for how it runs)."""
    return kind_of(config).trainer(dataset, config, artifacts, options or RunOptions())
