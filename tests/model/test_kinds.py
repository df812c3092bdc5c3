"""The model-kind registry: one entry per kind, and one ``train`` for every kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from recsys.config import MODELS, HybridConfig, TrainConfig, hybrid_config, recipe_config
from recsys.errors import UsageError
from recsys.model.kinds import (
    KINDS,
    RunOptions,
    default_training,
    kind_of,
    model_kind,
    train,
    training_label,
)


def test_every_model_has_one_entry_the_default_first():
    assert tuple(KINDS) == MODELS
    assert all(kind.name == name for name, kind in KINDS.items())


def test_an_unknown_kind_is_a_usage_error_naming_the_known_ones():
    with pytest.raises(UsageError, match="hybrid, lab"):
        model_kind("svd")


def test_a_config_names_its_kind():
    assert kind_of(hybrid_config()) is KINDS["hybrid"]
    assert kind_of(recipe_config("lab")) is KINDS["lab"]
    with pytest.raises(UsageError):
        kind_of(object())


def test_each_kind_makes_its_config_from_the_same_choices():
    choices = {"recipe": "lab", "preset": "full", "seed": 3, "epochs": 2, "lr": None}
    lab = model_kind("lab").make_config(batch_size=None, **choices)
    hybrid = model_kind("hybrid").make_config(batch_size=None, **choices)
    assert isinstance(lab, TrainConfig) and isinstance(hybrid, HybridConfig)
    assert (lab.recipe, lab.preset, lab.seed, lab.epochs) == ("lab", "full", 3, 2)
    assert lab.lr == recipe_config("lab").lr  # None keeps the recipe's
    assert (hybrid.seed, hybrid.epochs, hybrid.min_steps) == (3, 2, 0)


@pytest.mark.parametrize(
    ("config", "module", "trainer"),
    [
        (recipe_config("fast"), "recsys.model.lab.train", "train_bundle"),
        (hybrid_config(), "recsys.model.hybrid.train", "train_hybrid_bundle"),
    ],
)
def test_train_runs_the_configs_kind_with_the_run_options(
    monkeypatch, synthetic, config, module, trainer
):
    heard = []
    monkeypatch.setattr(f"{module}.{trainer}", lambda *args, **kwargs: heard.append((args, kwargs)))
    options = RunOptions(progress=print, wait=2.5, force=True, cluster=None)
    train(synthetic, config, Path("artifacts"), options)
    [(args, kwargs)] = heard
    assert args == (synthetic, config, Path("artifacts"), options) and kwargs == {}


def test_a_kinds_training_is_named_and_bounded_by_its_entry():
    lab, hybrid = recipe_config("fast", epochs=7), hybrid_config(epochs=3)
    assert training_label(lab) == "the lab's network (fast recipe, lab preset, 7 epochs)"
    assert training_label(hybrid) == "the hybrid model, 3 epochs"
    assert kind_of(lab).most_epochs(lab) == 7
    assert kind_of(hybrid).most_epochs(hybrid) == hybrid.max_epochs  # more on few ratings


def test_the_default_training_is_the_first_kinds_default_config():
    assert kind_of(default_training()) is KINDS[MODELS[0]]
    assert default_training() == KINDS[MODELS[0]].make_config()


TRAINING_MODULES = ("tensorflow", "recsys.model.lab.train", "recsys.model.hybrid.train")
LOADED = (
    f"import sys, recsys.model.kinds; print([m for m in {TRAINING_MODULES} if m in sys.modules])"
)


def test_no_training_code_is_imported_with_the_registry():
    out = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
