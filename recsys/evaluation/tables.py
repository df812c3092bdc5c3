"""An evaluation result for people: display tables, numeric frames for charts, the text.

A stored metric is a number (one seed), ``{"mean", "std"}`` (several seeds), or null
where it does not apply; these helpers read all three.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import pandas as pd

from recsys.config import TWO_TOWER
from recsys.evaluation.ranking import (
    PICK_COUNTS,
    RANKING_METRICS,
    RELEVANT_STARS,
    protocol_metrics,
    suffixed,
)

METRIC_LABELS = {
    "rmse": "RMSE",
    "mae": "MAE",
    "precision_at_10": "P@10",
    "recall_at_10": "R@10",
    "ndcg_at_10": "NDCG@10",
    "map_at_10": "MAP@10",
    "coverage": "coverage",
    "personalization": "personalization",
    "tail_ndcg_at_10": "tail NDCG@10",
    "blockbusters_at_10": "blockbusters@10",
    "genre_kinship_at_10": "genre kinship@10",
}
# onepick's metrics per number of picks: "NDCG@10 (1 pick)", "NDCG@10 (3 picks)".
METRIC_LABELS.update(
    {
        suffixed(m, k): f"{METRIC_LABELS[m]} ({k} pick{'s' if k > 1 else ''})"
        for k in PICK_COUNTS
        for m in RANKING_METRICS
    }
)


def _cell(value, digits: int = 3) -> str:
    """A metric for display: "0.912", "0.912 ± 0.004", or "—" where it does not apply."""
    mean, std = metric_mean(value), metric_std(value)
    if math.isnan(mean):
        return "—"
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def evaluation_table(result: dict) -> pd.DataFrame:
    """One row per model, one column per metric, as display strings (mean ± std)."""
    shown = protocol_metrics(result.get("protocol"))
    rows = {
        name: {METRIC_LABELS[m]: _cell(metrics.get(m)) for m in shown}
        for name, metrics in result["models"].items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def metrics_frame(result: dict) -> pd.DataFrame:
    """Long numeric form for charts: one row per (model, metric) with mean and std.

    ``std`` is NaN with one seed; ``mean`` is NaN where a metric does not apply.
    """
    rows = [
        {
            "model": name,
            "metric": metric,
            "label": METRIC_LABELS[metric],
            "mean": metric_mean(metrics.get(metric)),
            "std": metric_std(metrics.get(metric)),
        }
        for name, metrics in result["models"].items()
        for metric in protocol_metrics(result.get("protocol"))
    ]
    return pd.DataFrame(rows, columns=["model", "metric", "label", "mean", "std"])


def metric_mean(value: Any) -> float:
    """A saved metric's value: the number itself, or the ``mean`` of {"mean", "std"}
    (several seeds); NaN where it is missing, null or not a number."""
    if isinstance(value, Mapping):
        value = value.get("mean")
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def metric_std(value: Any) -> float:
    """A saved metric's std over seeds; NaN with one seed (a plain number)."""
    return metric_mean(value.get("std")) if isinstance(value, Mapping) else math.nan


class EvaluationTables(NamedTuple):
    """Numeric tables for the dashboard: one row per model (column ``model``), one column
    per metric the result holds, in its own units (RMSE, MAE in stars; MSE in scaled
    [-1, 1] units); NaN where a metric does not apply."""

    means: pd.DataFrame
    stds: pd.DataFrame | None  # None when no metric has a std (one seed)


def evaluation_tables(result: Mapping) -> EvaluationTables:
    """The means and stds of every metric of every model in a saved evaluation."""
    models = result.get("models") or {}
    means = pd.DataFrame(
        {name: {m: metric_mean(v) for m, v in metrics.items()} for name, metrics in models.items()}
    ).T
    stds = pd.DataFrame(
        {name: {m: metric_std(v) for m, v in metrics.items()} for name, metrics in models.items()}
    ).T
    means.index.name = stds.index.name = "model"
    has_std = bool(stds.notna().to_numpy().any())
    return EvaluationTables(means.reset_index(), stds.reset_index() if has_std else None)


def evaluation_text(result: dict) -> str:
    """The table the command prints: models × metrics, then the counts."""
    counts = result.get("counts", {})
    seeds = result.get("seeds", [])
    lines = [
        f"protocol {result['protocol']}, preset {result.get('preset')}, "
        f"recipe {result.get('recipe')}, {len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
        + (f", {result['seconds']:.0f} s" if "seconds" in result else "")
        + (
            ", a validation run (the test split's training side)"
            if result.get("validation")
            else ""
        ),
        f"train {counts.get('train_ratings', 0):,} ratings ({counts.get('train_rows', 0):,} rows), "
        f"test {counts.get('test_ratings', 0):,} ratings; ranked {counts.get('ranked_users', 0):,} "
        f"users over {counts.get('candidates', 0):,} movies",
        "RMSE and MAE in stars; ranking at 10 with held-out ratings ≥ "
        f"{result.get('relevant_stars', RELEVANT_STARS):g} stars relevant; — = does not apply",
        "",
        evaluation_table(result).reset_index().to_string(index=False),
    ]
    mse = result["models"].get(TWO_TOWER, {}).get("test_mse_scaled")
    if mse is not None:
        lines += ["", f"two_tower test MSE (scaled [-1, 1] units): {_cell(mse, 4)}"]
    if result.get("saved_to"):
        lines.append(f"saved to {result['saved_to']}")
    return "\n".join(lines)
