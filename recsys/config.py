"""Presets, recipes and protocols: what the CLI and the app offer, in one place.

No TensorFlow here: the app and the CLI read it freely. A preset chooses the movies
and rows of the training set (FeatureConfig); a recipe chooses how the network is
trained (TrainConfig); a protocol chooses how the evaluation splits the ratings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from recsys.errors import UsageError

RECIPES = ("fast", "lab")
PROTOCOLS = ("lab", "holdout", "temporal")
# The evaluation key of the lab's network.
TWO_TOWER = "two_tower"


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; saved into the bundle's manifest.

    lr is Adam's learning rate; lr_decay multiplies it each epoch (0 = constant);
    steps_per_execution runs that many batches per TensorFlow call (less overhead).
    """

    recipe: str = "fast"
    preset: str = "lab"
    epochs: int = 30
    lr: float = 0.01
    batch_size: int = 32
    seed: int = 1
    lr_decay: float = 0.0
    steps_per_execution: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


# The lab: batch 32, 30 epochs, Adam 0.01, no validation split.
LAB_RECIPE = TrainConfig(recipe="lab", epochs=30, lr=0.01, batch_size=32)

# Ours: larger batches, a decaying learning rate and far fewer steps.
FAST_RECIPE = TrainConfig(
    recipe="fast", epochs=12, lr=0.003, batch_size=256, lr_decay=0.85, steps_per_execution=32
)


def recipe_config(recipe: str = "fast", **overrides) -> TrainConfig:
    """The named recipe with any of epochs, lr, batch_size, seed, preset overridden."""
    if recipe not in RECIPES:
        raise UsageError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    base = LAB_RECIPE if recipe == "lab" else FAST_RECIPE
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


PRESETS = ("lab", "full")


@dataclass(frozen=True)
class FeatureConfig:
    """Which movies and ratings make the training set, and how rows are balanced."""

    preset: str = "lab"
    min_year: int | None = 2001  # keep movies released in this year or later
    min_ratings: int = 10  # keep movies with at least this many ratings
    require_genre: bool = True  # keep only movies with at least one of the 14 genres
    balance_genres: bool = True  # repeat ratings of under-represented genres
    max_repeat: int = 5

    def to_dict(self) -> dict:
        return asdict(self)


def preset_config(preset: str, **overrides) -> FeatureConfig:
    """The ``lab`` preset reproduces the lab's set; ``full`` keeps every year."""
    if preset == "lab":
        base = FeatureConfig()
    elif preset == "full":
        base = FeatureConfig(preset="full", min_year=None, min_ratings=10, balance_genres=False)
    else:
        raise UsageError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return FeatureConfig(**{**base.to_dict(), **overrides})
