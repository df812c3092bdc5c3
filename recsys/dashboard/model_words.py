"""What the pages say about the served model, with its figures read from its bundle
(no Streamlit here): the Tour's facts and the tooltips that differ by model.

The words that differ by model kind are one ``KindWords`` entry per kind in
``KIND_WORDS``; the pages ask ``kind_words(kind)`` and name no kind. A kind without an
entry is spoken of by its registry label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recsys.config import HYBRID, TWO_TOWER
from recsys.model.bundle import bundle_kind
from recsys.model.kinds import KINDS, LAB


@dataclass(frozen=True)
class KindWords:
    """How the pages speak of one model kind.

    name: the model in a sentence ("the hybrid model"). trained_on: what the Existing
    user page's fit note says it trained on. evaluated_as: its name in a saved
    evaluation's models. genres_only_note: what the New user page says under a list
    made from the genre sliders alone ("" for nothing).
    """

    name: str
    trained_on: str
    evaluated_as: str
    genres_only_note: str = ""


KIND_WORDS: dict[str, KindWords] = {
    HYBRID: KindWords(
        name="the hybrid model",
        trained_on="the hybrid model trained on all of them",
        evaluated_as=HYBRID,
    ),
    LAB: KindWords(
        name="the lab's network",
        trained_on="the lab's network trained on a random 80% of its rows",
        evaluated_as=TWO_TOWER,
        genres_only_note=(
            "The lab's network follows genre presets loosely: it sees each movie's "
            "genres, year and average rating only, so a list for Documentary or Family "
            "may hold other genres. The hybrid model follows them more closely."
        ),
    ),
}


def kind_words(kind: str) -> KindWords:
    """The words of model kind ``kind``; for a kind without its own, its label's."""
    if kind in KIND_WORDS:
        return KIND_WORDS[kind]
    label = KINDS[kind].label if kind in KINDS else kind
    return KindWords(
        name=f"the {label} model",
        trained_on=f"the {label} model trained on them",
        evaluated_as=kind,
    )


@dataclass(frozen=True)
class ModelFigures:
    """A bundle's figures, for text: None (shown as "?") where the bundle lacks one."""

    kind: str  # the model kind's name (``recsys.model.kinds``)
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
    """The towers' output width: a configured ``dim`` (the hybrid's); else the units of
    the movie tower's last Dense layer (the lab's network)."""
    configured = (manifest.get("config") or {}).get("dim")
    if configured is not None:
        return _int(configured)
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
        kind=bundle_kind(dict(manifest)),
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
    trained_on = kind_words(kind).trained_on
    return (
        f"Over this user's ratings, which the model trained on ({trained_on}): how well it "
        "fits them, not how well it predicts new ones. The honest figure is the Model "
        "page's evaluation on held-out ratings."
    )


DISTANCE_HELP = "Squared distance between the two movies' vectors in the model's movie space"
