"""What the pages say about the served model, with its figures read from its bundle
(no Streamlit here): the Tour's facts and the tooltips that differ by model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HYBRID = "hybrid"


@dataclass(frozen=True)
class ModelFigures:
    """A bundle's figures, for text: None (shown as "?") where the bundle lacks one."""

    kind: str  # "hybrid" or "lab"
    movies: int | None
    users: int | None
    ratings: int | None
    dim: int | None  # the towers' output width, the movie space's dimensions
    epochs: int | None
    validation_loss: bool  # whether the history holds a validation loss per epoch
    validation_rmse: float | None  # the quality gate's slice, in stars


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and math.isfinite(value) else None


def embedding_dim(manifest: Mapping[str, Any]) -> int | None:
    """The towers' output width: the hybrid's configured ``dim``; for the lab's network,
    the units of its movie tower's last Dense layer."""
    if manifest.get("model") == HYBRID:
        return _int((manifest.get("config") or {}).get("dim"))
    rows = [
        row
        for row in manifest.get("architecture") or []
        if row.get("kind") == "Dense" and "item" in str(row.get("tower", ""))
    ]
    return _int(rows[-1].get("units")) if rows else None


def model_figures(manifest: Mapping[str, Any], history: Mapping[str, Any]) -> ModelFigures:
    counts = manifest.get("counts") or {}
    metrics = manifest.get("metrics") or {}
    epochs = metrics.get("epochs_run", (manifest.get("config") or {}).get("epochs"))
    rmse = (manifest.get("validation") or {}).get("rmse_stars")
    return ModelFigures(
        kind=HYBRID if manifest.get("model") == HYBRID else "lab",
        movies=_int(counts.get("items")),
        users=_int(counts.get("users")),
        ratings=_int(counts.get("ratings")),
        dim=embedding_dim(manifest),
        epochs=_int(epochs),
        validation_loss=bool(history.get("val_loss")),
        validation_rmse=float(rmse) if isinstance(rmse, int | float) else None,
    )


def number(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def fit_help(kind: str) -> str:
    """The Existing user page's note on its error over the user's own ratings."""
    trained_on = (
        "the hybrid model trained on all of them"
        if kind == HYBRID
        else "the lab's network trained on a random 80% of its rows"
    )
    return (
        f"Over this user's ratings, which the model trained on ({trained_on}): how well it "
        "fits them, not how well it predicts new ones. The honest figure is the Model "
        "page's evaluation on held-out ratings."
    )


DISTANCE_HELP = "Squared distance between the two movies' vectors in the model's movie space"
