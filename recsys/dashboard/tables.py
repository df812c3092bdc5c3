"""Plain tables the Model page shows, built from bundles' manifests (no Streamlit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from recsys.config import HYBRID
from recsys.dashboard.accuracy import PRESET_WORDS, RECIPE_WORDS
from recsys.errors import BundleError
from recsys.model.bundle import bundle_kind, current_bundle, kept_bundles, read_manifest
from recsys.model.kinds import KINDS, LAB

ARCHITECTURE_COLUMNS = ["tower", "layer", "kind", "activation", "units", "params"]


def architecture_table(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """The manifest's layers, one row each (tower, layer, kind, activation, units,
    params); empty when the manifest has none. Missing params count as 0. A model
    without towers (the hybrid's Keras model is one flat graph) has no tower column."""
    rows = manifest.get("architecture") or []
    table = pd.DataFrame(rows, columns=ARCHITECTURE_COLUMNS)
    table["units"] = pd.to_numeric(table["units"], errors="coerce").astype("Int64")
    table["params"] = pd.to_numeric(table["params"], errors="coerce").fillna(0).astype("int64")
    if rows and not table["tower"].fillna("").astype(str).str.strip().any():
        table = table.drop(columns="tower")
    return table


class ModelFacts(NamedTuple):
    """What the Model page and the sidebar say about a bundle's model, in words."""

    name: str  # "the hybrid two-tower model" or "the lab's network"
    setup: str  # how it was made, one line, in plain words
    setup_help: str  # what the words of ``setup`` mean
    inputs: list[tuple[str, str, str]]  # (label, value, help) metric cells
    architecture_note: str
    lab_split_metrics: bool  # whether the manifest holds the lab split's MSE and RMSE


def _hybrid_facts(config: Mapping[str, Any], epochs: Any) -> ModelFacts:
    dim = config.get("dim", "?")
    return ModelFacts(
        name="the hybrid two-tower model",
        setup=f"The hybrid model, trained on every movie for {epochs} epochs",
        setup_help="Hybrid: two towers over each movie's content and id and each "
        "user's genre ratings and rated movies. An epoch is one pass over the ratings.",
        inputs=[
            ("User inputs", "genres + movies", "14 genre ratings and the rated movies"),
            ("Movie inputs", "content + id", "Genres, year, title words, tags, movieId"),
            ("Embedding", str(dim), "Both towers' output width; scores are dot products"),
        ],
        architecture_note=(
            "Item tower: pooled content-token vectors → Dense relu, plus a movie-id "
            "vector. User tower: genre ratings and the pooled vectors of the movies "
            "the user rated → Dense relu. Trained to rank (softmax over a batch's "
            "movies) and to predict stars; the stars' last step is then fitted in closed "
            "form, and each user's own ratings (or picks) correct their stars at serving. "
            "The ranking adds each rated or picked movie's neighbours (what its fans also "
            "liked, learned in closed form); an existing user's ratings of little-known "
            "movies count for more there. Similar movies lists what a movie's fans liked "
            "most, those sharing its genres first."
        ),
        lab_split_metrics=False,
    )


def _lab_facts(config: Mapping[str, Any], epochs: Any) -> ModelFacts:
    preset, recipe = str(config.get("preset", "?")), str(config.get("recipe", "?"))
    return ModelFacts(
        name="the lab's network",
        setup=(
            f"The lab's network, trained on {PRESET_WORDS.get(preset, preset)} with "
            f"{RECIPE_WORDS.get(recipe, recipe)}, {epochs} epochs"
        ),
        setup_help=(
            f"Which movies it learns from is its preset ({preset}); how it trains is its "
            f"recipe ({recipe}: the fast one is batch 256 with a decaying learning rate, "
            "the lab's batch 32). An epoch is one pass over the training rows."
        ),
        inputs=[
            ("User inputs", "14", "The user's average rating per genre (not userId, count, ave)"),
            ("Movie inputs", "16", "Year, ave rating and 14 genre flags; movieId is not fed"),
            ("Embedding", "32", "Each tower's L2-normalised output; the prediction is their dot"),
        ],
        architecture_note="Two towers, each Dense 256 relu → Dense 128 relu → Dense 32, as in "
        "the lab.",
        lab_split_metrics=True,
    )


def _facts_by_label(kind: str, config: Mapping[str, Any], epochs: Any) -> ModelFacts:
    """The facts of a kind without its own: its label and its epochs."""
    label = KINDS[kind].label if kind in KINDS else kind
    return ModelFacts(
        name=f"the {label} model",
        setup=f"{label}, trained for {epochs} epochs",
        setup_help="An epoch is one pass over the training rows.",
        inputs=[],
        architecture_note="",
        lab_split_metrics=False,
    )


# Each model kind's facts, from its config and epochs.
FACTS: dict[str, Callable[[Mapping[str, Any], Any], ModelFacts]] = {
    HYBRID: _hybrid_facts,
    LAB: _lab_facts,
}


def model_facts(manifest: Mapping[str, Any]) -> ModelFacts:
    """The facts of the bundle's model, read from its manifest (lab bundles have no
    ``"model"`` key)."""
    config = manifest.get("config") or {}
    epochs = (manifest.get("metrics") or {}).get("epochs_run", config.get("epochs", "?"))
    kind = bundle_kind(dict(manifest))
    if kind in FACTS:
        return FACTS[kind](config, epochs)
    return _facts_by_label(kind, config, epochs)


KEPT_COLUMNS = ["bundle", "created", "epochs", "validation RMSE", "served"]


def kept_bundles_table(artifacts: Path, model: str) -> pd.DataFrame:
    """The kept bundles of ``model``, newest first: name, creation time (UTC), epochs,
    the quality gate's validation RMSE (stars; None before the gate) and whether it is
    the served one. A bundle whose manifest cannot be read shows None for its facts."""
    try:
        served = current_bundle(artifacts, model).name
    except BundleError:
        served = None
    rows = []
    for bundle in reversed(kept_bundles(artifacts, model)):
        try:
            manifest = read_manifest(bundle)[0]
        except BundleError:
            manifest = {}
        metrics = manifest.get("metrics") or {}
        validation = manifest.get("validation") or {}
        rows.append(
            [
                bundle.name,
                str(manifest.get("created", "")).replace("T", " ").replace("+00:00", ""),
                metrics.get("epochs_run"),
                validation.get("rmse_stars"),
                bundle.name == served,
            ]
        )
    return pd.DataFrame(rows, columns=KEPT_COLUMNS)
