"""Presets, recipes and protocols: what the CLI and the app offer, in one place.

No TensorFlow here: the app and the CLI read it freely. A preset chooses the movies
and rows of the training set (FeatureConfig); a recipe chooses how the network is
trained (TrainConfig); a protocol chooses how the evaluation splits the ratings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from recsys.errors import UsageError

RECIPES = ("fast", "lab")
PROTOCOLS = ("lab", "holdout", "temporal", "coldstart", "onepick", "similar")
# The evaluation keys of the two networks, and the models `train --model` offers.
TWO_TOWER = "two_tower"
HYBRID = "hybrid"
MODELS = ("hybrid", "lab")  # the first is the default


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


PRESETS = ("lab", "full", "catalogue")


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
    """``lab`` reproduces the lab's set; ``full`` keeps every year (movies with 10 ratings
    or more); ``catalogue`` keeps every movie of the data, rated or not (the hybrid
    model's, which gives an unrated movie a vector from its content)."""
    if preset == "lab":
        base = FeatureConfig()
    elif preset == "full":
        base = FeatureConfig(preset="full", min_year=None, min_ratings=10, balance_genres=False)
    elif preset == "catalogue":
        base = FeatureConfig(
            preset="catalogue",
            min_year=None,
            min_ratings=0,
            require_genre=False,
            balance_genres=False,
        )
    else:
        raise UsageError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return FeatureConfig(**{**base.to_dict(), **overrides})


@dataclass(frozen=True)
class HybridConfig:
    """How the hybrid two-tower model is built and trained; saved into the manifest.

    dim: the embedding width d. The item tower pools a ``token_dim`` vector per content
    token (genre, year bucket, title word, tag) and adds a movie-id embedding; the user
    tower reads the genre ratings and two pools of the item vectors of the movies the
    user rated (the plain mean, and the mean weighted by stars − the user's mean).
    Each epoch a user shows the tower ``input_fraction`` of their ratings (or, for
    ``few_share`` of users, 1..``few_max`` ratings; for ``genre_only_share``, only the
    genre ratings of 1..``genre_only_max``) and must rank the rest: a softmax over the
    batch's movies, liked targets (≥ ``like_stars``) weighing 1, others ``neg_weight``;
    plus ``rating_weight`` × the squared error in stars. The genre-only users see a
    random ``genre_keep`` of their genre ratings, as a user of the sliders, and rank
    only movies of a genre they like (≥ ``like_genre_stars``) and of none they dislike
    (< ``dislike_genre_stars``). Popularity: the user tower gives each user a weight
    π_u = ``pop_prior`` + softplus(·) on log(1 + ratings); the training logits subtract
    ``logq``·log(1 + ratings) (the in-batch sampling correction, plus the serving-only
    boost logq − 1). ``star_dim``: extra rating-only vectors of the two towers (0 = off).
    Training runs ``epochs`` epochs, or more on a small training set (up to
    ``max_epochs``), so that it makes at least ``min_steps`` updates: the whole
    catalogue makes 20 an epoch (25 epochs); the full preset's 60,000 training ratings
    about 11 (46 epochs); the lab preset's 20,000 about 4 (100 epochs). Adam's
    rate starts at ``lr`` and falls along a half cosine to ``lr_final`` × ``lr`` in the
    last epoch (1 = constant).
    """

    dim: int = 64
    star_dim: int = 0
    token_dim: int = 32
    item_hidden: int = 128
    user_hidden: int = 256
    epochs: int = 25
    min_steps: int = 500
    max_epochs: int = 100
    batch_size: int = 1024
    lr: float = 3e-3
    lr_final: float = 0.5
    l2: float = 1e-5
    input_fraction: float = 0.8
    few_share: float = 0.15
    few_max: int = 10
    genre_only_share: float = 0.15
    genre_only_max: int = 30
    history_cap: int = 64
    target_fraction: float = 0.2
    id_dropout: float = 0.25
    neg_weight: float = 0.3
    like_stars: float = 4.0
    rating_weight: float = 1.0
    pop_prior: float = 0.5
    logq: float = 1.5
    genre_keep: float = 0.5
    like_genre_stars: float = 4.0
    dislike_genre_stars: float = 3.0
    min_token_df: int = 2
    seed: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def hybrid_config(**overrides) -> HybridConfig:
    """The hybrid model's config with any field overridden (None keeps the default).

    An explicit ``epochs`` is exact: it sets ``min_steps`` to 0 unless that is given too.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if "epochs" in given:
        given.setdefault("min_steps", 0)
    return replace(HybridConfig(), **given)
