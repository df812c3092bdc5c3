"""How good the served model is, in plain words (no Streamlit).

The app's headline accuracy is always the leak-free evaluation's (``holdout``,
``temporal`` or ``coldstart``: held-out ratings never shape the features). The lab's own
split fits its scalers on every rating and then splits rows at random, so its figures
flatter the model; they are shown only under a label that says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import pandas as pd

from recsys.config import HYBRID, TWO_TOWER
from recsys.dashboard.model_words import kind_words
from recsys.evaluation.ranking import PICK_COUNTS, RANKING_METRICS, suffixed
from recsys.evaluation.tables import metric_mean

# metric key → (label, help); the labels say which way is better.
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "rmse": (
        "RMSE (stars, lower is better)",
        "Root mean squared error of the predicted stars on held-out ratings.",
    ),
    "mae": (
        "MAE (stars, lower is better)",
        "Mean absolute error of the predicted stars on held-out ratings.",
    ),
    "precision_at_10": (
        "Precision@10 (0–1, higher is better)",
        "The share of a user's top 10 that they rated 4★ or more among their held-out ratings.",
    ),
    "recall_at_10": (
        "Recall@10 (0–1, higher is better)",
        "The share of a user's held-out 4★+ movies that their top 10 finds.",
    ),
    "ndcg_at_10": (
        "NDCG@10 (ranking quality, 0–1, higher is better)",
        "How near the top of the 10 the user's held-out 4★+ movies come; 1 is a perfect "
        "ranking, 0 finds none.",
    ),
    "map_at_10": (
        "MAP@10 (0–1, higher is better)",
        "Mean average precision of the top 10: precision at each hit, averaged.",
    ),
    "coverage": (
        "Coverage (0–1, higher shows more of the catalogue)",
        "The share of the movies that appear in at least one user's top 10.",
    ),
    "personalization": (
        "Personalization (0–1, higher is more personal)",
        "1 − the mean overlap of two users' top 10: 0 gives everyone the same list.",
    ),
    "test_mse_scaled": (
        "MSE in training units (lower is better)",
        "The lab's network's squared error in the [-1, 1] units it is trained in.",
    ),
    "tail_ndcg_at_10": (
        "Tail NDCG@10 (0–1, higher finds more beyond the hits)",
        "NDCG@10 counting only the held-out 4★+ movies outside the 100 most-rated: "
        "whether the list finds what the user likes beyond the obvious.",
    ),
    "blockbusters_at_10": (
        "Blockbusters@10 (of 10, lower is more personal)",
        "How many of the top 10 are among the 10 most-rated movies.",
    ),
    "genre_kinship_at_10": (
        "Genre kinship@10 (0–1, higher is more of its kind)",
        "How much of the picked movie's kind a list is: the mean share of genres that each "
        "of its 10 has in common with the pick (Jaccard overlap).",
    ),
}
# onepick's metrics, once per number of picks revealed: "NDCG@10 … with 1 pick".
METRIC_WORDS.update(
    {
        suffixed(metric, k): (
            f"{METRIC_WORDS[metric][0]}, {k} pick{'s' if k > 1 else ''}",
            f"A new user who picked {k} movie{'s' if k > 1 else ''} they liked. "
            + METRIC_WORDS[metric][1],
        )
        for k in PICK_COUNTS
        for metric in RANKING_METRICS
    }
)

# model key in an evaluation → (name, what it is)
MODEL_WORDS: dict[str, tuple[str, str]] = {
    HYBRID: (
        "Hybrid (ours)",
        "The hybrid two-tower model: content, genre ratings and rated movies",
    ),
    TWO_TOWER: ("Lab's network", "The lab's two-tower network, fast recipe"),
    "global_mean": ("Average rating", "Every rating predicted as the mean of all ratings"),
    "movie_mean": ("Movie's average", "The movie's mean rating"),
    "user_mean": ("User's average", "The user's mean rating"),
    "bias": ("Average + offsets", "The mean rating plus a learned offset per user and per movie"),
    "genre_profile": (
        "Genre averages",
        "The user's mean rating of the movie's genres (the lab's user vector)",
    ),
    "popular": ("Most popular", "Everyone gets the most-rated movies they have not seen"),
    "svd": ("SVD (Surprise)", "Matrix factorisation, the Surprise library's defaults"),
    "knn_baseline": ("KNN (Surprise)", "Neighbour-based stars, the Surprise library's defaults"),
    "als": ("ALS (implicit)", "Implicit-feedback factorisation, the implicit library's defaults"),
    "ease": (
        "EASE",
        "A linear item-to-item model in closed form (λ = 500; under onepick and "
        "similar, λ chosen on validation)",
    ),
    "ease_500": ("EASE, λ = 500", "EASE with the λ of the other protocols (the paper's)"),
    "cooccurrence": (
        "Co-occurrence",
        "People who liked a picked movie also liked: how often they liked each other one",
    ),
    "cosine": ("Item cosine", "Movies rated by the same people, by the cosine of their raters"),
}

PROTOCOL_WORDS: dict[str, str] = {
    "holdout": "a random 20% of each user's ratings held out",
    "temporal": "each user's latest 20% of ratings held out",
    "coldstart": "20% of users held out whole, 5 of their ratings revealed",
    "onepick": "20% of users with 10+ liked movies held out, 1 or 3 liked movies picked",
    "similar": "20% of users with 10+ liked movies held out; Similar movies of one they liked",
    "lab": "the lab's split, which leaks (scalers fit on every rating, then a random 80/20)",
}
LEAK_FREE = ("holdout", "temporal", "coldstart")
# Protocols that score lists for picked movies, not held-out ratings: never the headline,
# shown beside it (the Model page puts onepick beside holdout).
PICK_PROTOCOLS = ("onepick", "similar")
BESIDE = {"onepick": "holdout", "similar": "holdout"}


def beside(protocol: str | None) -> str:
    """The protocol the Model page shows beside a saved ``protocol`` evaluation."""
    return BESIDE.get(str(protocol), "onepick")


def protocol_title(protocol: str) -> str:
    """``"20% of users … picked (onepick)"``: a saved evaluation's protocol in words."""
    words = PROTOCOL_WORDS.get(protocol, protocol)
    return f"{words[:1].upper()}{words[1:]} ({protocol})"


PRESET_WORDS: dict[str, str] = {
    "lab": "movies from 2001 on with 10+ ratings (the lab's selection)",
    "full": "movies of every year with 10+ ratings",
    "catalogue": "every movie",
}
RECIPE_WORDS: dict[str, str] = {
    "fast": "the fast recipe",
    "lab": "the lab's recipe",
}


def metric_label(metric: str) -> str:
    return METRIC_WORDS.get(metric, (metric, ""))[0]


def metric_help(metric: str) -> str:
    return METRIC_WORDS.get(metric, ("", ""))[1]


def model_label(name: str) -> str:
    return MODEL_WORDS.get(name, (name, ""))[0]


def evaluated_name(model_kind: str) -> str:
    """The served model's name in an evaluation: the lab's network is ``two_tower``."""
    return kind_words(model_kind).evaluated_as


def figure(value: float, spec: str) -> str:
    """``value`` formatted with ``spec``, or "–" when it is NaN."""
    return format(value, spec) if math.isfinite(value) else "–"


def basis(result: Mapping[str, Any]) -> str:
    """What a saved evaluation was computed on, in one line."""
    seeds = result.get("seeds") or []
    count = len(seeds) if isinstance(seeds, list) else 0
    protocol = PROTOCOL_WORDS.get(str(result.get("protocol")), str(result.get("protocol")))
    preset = PRESET_WORDS.get(str(result.get("preset")), str(result.get("preset")))
    saved = str(result.get("saved", "")).replace("T", " ").replace("+00:00", " UTC")
    parts = [f"{protocol}, over {preset}", f"{count} seed{'s' if count != 1 else ''}"]
    if saved:
        parts.append(f"saved {saved}")
    return "; ".join(parts)


class Headline(NamedTuple):
    """The served model's leak-free figures from a saved evaluation."""

    rmse: float  # stars, NaN when the evaluation has none
    ndcg: float  # NDCG@10, NaN when the evaluation has none
    protocol: str
    basis: str  # what it was computed on, one line

    def text(self) -> str:
        """``"RMSE 0.795 ★ · NDCG@10 0.240 on held-out ratings"``"""
        return (
            f"RMSE {figure(self.rmse, '.3f')} ★ · NDCG@10 {figure(self.ndcg, '.3f')} "
            "on held-out ratings"
        )


def headline(result: Mapping[str, Any] | None, model_kind: str) -> Headline | None:
    """The served model's figures from a saved leak-free evaluation; None when there is
    none, it leaks (the ``lab`` protocol) or it did not measure this kind of model."""
    if not result or result.get("protocol") not in LEAK_FREE:
        return None
    metrics = (result.get("models") or {}).get(evaluated_name(model_kind))
    if not isinstance(metrics, Mapping):
        return None
    return Headline(
        metric_mean(metrics.get("rmse")),
        metric_mean(metrics.get("ndcg_at_10")),
        str(result["protocol"]),
        basis(result),
    )


def leaky_text(metrics: Mapping[str, Any]) -> str | None:
    """The lab split's test RMSE of a lab bundle's manifest, labelled as leaking; None
    when the manifest has none."""
    rmse = metric_mean(metrics.get("test_rmse_stars"))
    if not math.isfinite(rmse):
        return None
    return (
        "On the lab's split, which leaks (scalers fit on every rating, then a random "
        f"80/20 of the rows): test RMSE {rmse:.3f} ★. Flattering; not the headline."
    )


def _names(names: list[str], values: Mapping[str, float], spec: str) -> str:
    shown = [f"{model_label(n)} at {format(values[n], spec)}" for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _compare(result: Mapping[str, Any], ours: str, metric: str, lower_better: bool) -> str:
    """How ``ours`` stands against every other model measured on ``metric``."""
    values = {
        name: metric_mean(metrics.get(metric))
        for name, metrics in (result.get("models") or {}).items()
        if isinstance(metrics, Mapping)
    }
    values = {name: value for name, value in values.items() if math.isfinite(value)}
    if ours not in values:
        return ""
    mine = values.pop(ours)
    sign = -1 if lower_better else 1
    ahead = sorted(
        (n for n in values if sign * values[n] > sign * mine), key=lambda n: -sign * values[n]
    )
    beaten = sorted(
        (n for n in values if sign * values[n] < sign * mine), key=lambda n: -sign * values[n]
    )
    label, spec = ("ranks", ".3f") if metric == "ndcg_at_10" else ("predicts stars", ".3f")
    figure = f"NDCG@10 {mine:.3f}" if metric == "ndcg_at_10" else f"RMSE {mine:.3f} ★"
    if not ahead:
        return f"{label} best of the {len(values) + 1} models measured ({figure})"
    if not beaten:
        return (
            f"{label} behind all {len(values)} others ({figure}), {_names(ahead[:3], values, spec)}"
        )
    text = f"{label} better than {len(beaten)} of the {len(values)} others ({figure})"
    text += f", {_names(beaten[:2], values, spec)} among them"
    return text + f", but behind {_names(ahead[:3], values, spec)}"


def verdict(result: Mapping[str, Any] | None, model_kind: str) -> str | None:
    """One sentence: where the served model wins and loses against the baselines and
    peers in a saved leak-free evaluation; None when there is none that measured it."""
    if headline(result, model_kind) is None:
        return None
    assert result is not None  # headline() said so
    ours = evaluated_name(model_kind)
    parts = [
        _compare(result, ours, "ndcg_at_10", lower_better=False),
        _compare(result, ours, "rmse", lower_better=True),
    ]
    parts = [p for p in parts if p]
    if not parts:
        return None
    subject = kind_words(model_kind).name
    return f"On held-out ratings, {subject} " + "; it ".join(parts) + "."


def plain_table(means: pd.DataFrame) -> pd.DataFrame:
    """An evaluation's means (``model`` then one column per metric key) with plain
    model names and metric labels (``ndcg_at_10`` → "NDCG@10 (ranking quality, …)")."""
    table = means.assign(model=means["model"].map(model_label))
    return table.rename(columns={"model": "model", **{m: metric_label(m) for m in METRIC_WORDS}})
