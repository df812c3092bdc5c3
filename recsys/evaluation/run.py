"""One evaluation run: every model scored on the same split, over one or more seeds.

The evaluation trains its own models; it never reads the served bundle's weights (that
model saw the lab split's features, so scoring it on another split would leak). The
result is the evaluation JSON: RMSE and MAE in stars, ranking metrics at ``TOP_K``, and
null where a metric does not apply. ``onepick`` and ``similar`` score the served model's
new-user and Similar-movies paths against item-to-item peers
(``recsys.evaluation.onepick``). A validation run (``validation=True``) runs the
protocol on the training side of its test split (``recsys.evaluation.validation``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.config import (
    HYBRID,
    PROTOCOLS,
    TWO_TOWER,
    FeatureConfig,
    HybridConfig,
    TrainConfig,
    hybrid_config,
    preset_config,
    recipe_config,
)
from recsys.dataset.movielens import MovieLens
from recsys.errors import UsageError
from recsys.evaluation.baselines import BASELINES, make_baseline
from recsys.evaluation.coldstart import EXCLUDED, prepare_coldstart
from recsys.evaluation.onepick import PICK_PROTOCOLS, VALIDATION_ORDERS, evaluate_picks_seed
from recsys.evaluation.peers import PEERS, make_peer
from recsys.evaluation.protocols import EvaluationData, prepare_holdout, prepare_lab
from recsys.evaluation.ranking import RELEVANT_STARS, TOP_K, ranking_task, score_model
from recsys.evaluation.scorers import fit_hybrid, fit_two_tower
from recsys.evaluation.splits import TEST_FRACTION
from recsys.evaluation.validation import ValidationSide, validation_side
from recsys.progress import Progress

MODEL_NAMES = (HYBRID, TWO_TOWER, *BASELINES, *PEERS)
SCHEMA_VERSION = 1

# (fraction of this seed's work done, 0..1; what is happening) → None
_SeedReport = Callable[[float, str], None]


def _prepare(
    dataset: MovieLens,
    protocol: str,
    feature_config: FeatureConfig,
    seed: int,
    side: ValidationSide | None = None,
):
    """The protocol's split of every rating, or of ``side`` (a validation run's)."""
    if protocol == "lab":
        return prepare_lab(dataset, feature_config)
    ratings, rng = (dataset.ratings, seed) if side is None else (side.ratings, side.split_rng)
    if protocol == "coldstart":
        return prepare_coldstart(ratings, dataset.movies, feature_config, rng)
    return prepare_holdout(ratings, dataset.movies, protocol, feature_config, rng)


def _networks(
    data: EvaluationData,
    dataset: MovieLens,
    tags,
    configs: tuple[TrainConfig, HybridConfig],
    report: _SeedReport,
) -> dict:
    """Train both networks on ``data``; {name: scorer}. 5–85% of the seed's work."""

    def epochs(start: float, span: float, name: str) -> Callable[[int, int], None]:
        return lambda epoch, planned: report(
            start + span * epoch / max(planned, 1), f"training {name}, epoch {epoch}/{planned}"
        )

    report(0.05, "training the hybrid model")
    hybrid = fit_hybrid(data, dataset.movies, tags, configs[1], epochs(0.05, 0.5, HYBRID))
    report(0.55, "training the lab's network")
    two_tower = fit_two_tower(data, configs[0], epochs(0.55, 0.3, TWO_TOWER))
    return {HYBRID: hybrid, TWO_TOWER: two_tower}


def _evaluate_seed(
    dataset: MovieLens,
    tags,
    protocol: str,
    feature_config: FeatureConfig,
    configs: tuple[TrainConfig, HybridConfig],
    seed: int,
    report: _SeedReport,
    side: ValidationSide | None = None,
) -> dict:
    """Split, train, fit baselines and peers and score everything for one seed.

    Returns {"seed", "counts", "models": {name: {metric: float, NaN where it does not
    apply}}, "fit_seconds": {network: seconds}}.
    """
    if side is not None:
        tags = side.tags
    if protocol in PICK_PROTOCOLS:
        ratings, rng = (None, seed) if side is None else (side.ratings, side.split_rng)
        orders = 1 if side is None else VALIDATION_ORDERS
        return evaluate_picks_seed(
            dataset, tags, protocol, feature_config, configs[1], seed, report, ratings, rng, orders
        )
    report(0.0, "splitting and building features")
    data = _prepare(dataset, protocol, feature_config, seed, side)
    networks = _networks(data, dataset, tags, configs, report)
    report(0.85, "scoring")
    task = ranking_task(data)
    # One tie-break stream per seed, drawn in model order, so a run replays exactly.
    tie_rng = np.random.default_rng([seed, 1])
    models = {name: score_model(scorer, data, task, tie_rng) for name, scorer in networks.items()}
    # The lab's own number: test MSE in scaled [-1, 1] units.
    test = data.test_ratings
    two_tower = networks[TWO_TOWER]
    predicted_scaled = two_tower.predict_scaled(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
    actual_scaled = data.scalers.scale_target(test[RATING].to_numpy("float64"))
    models[TWO_TOWER]["test_mse_scaled"] = float(np.mean((predicted_scaled - actual_scaled) ** 2))
    items = data.training.items
    for name in BASELINES:
        baseline = make_baseline(name).fit(data.train_ratings, items)
        models[name] = score_model(baseline, data, task, tie_rng)
    report(0.9, "fitting the peers")
    for name in PEERS:
        if protocol == "coldstart" and name in EXCLUDED:
            continue
        peer = make_peer(name, seed).fit(data.train_ratings, items)
        models[name] = score_model(peer, data, task, tie_rng)
    counts = {
        **data.counts,
        "ranked_users": int(len(task.user_ids)),
        "relevant": int(task.relevant.sum()),
        "candidates": int(len(task.movie_ids)),
    }
    seconds = {name: scorer.fit_seconds for name, scorer in networks.items()}
    return {"seed": seed, "counts": counts, "models": models, "fit_seconds": seconds}


def _json_number(value: float) -> float | None:
    """NaN (a metric that does not apply) → None, so it is JSON ``null``."""
    value = float(value)
    return None if math.isnan(value) else value


def _json_run(run: dict) -> dict:
    """One seed's run with every NaN metric as None (JSON ``null``)."""
    models = {
        name: {metric: _json_number(value) for metric, value in metrics.items()}
        for name, metrics in run["models"].items()
    }
    return {**run, "models": models}


def _ease_lambdas(runs: list[dict]) -> dict:
    """{"ease_lambda": [λ per seed]} where EASE's λ was chosen on validation, else {}."""
    if "ease_lambda" not in runs[0]:
        return {}
    return {"ease_lambda": [run["ease_lambda"] for run in runs]}


def _aggregate(runs: list[dict]) -> dict[str, dict]:
    """One seed: plain numbers. Several: {"mean", "std"} with the sample std (ddof=1)."""
    models: dict[str, dict] = {}
    for name in runs[0]["models"]:
        metrics = {}
        for metric in runs[0]["models"][name]:
            values = np.array([run["models"][name][metric] for run in runs], dtype="float64")
            if len(runs) == 1:
                metrics[metric] = _json_number(values[0])
            else:
                metrics[metric] = {
                    "mean": _json_number(values.mean()),
                    "std": _json_number(values.std(ddof=1)),
                }
        models[name] = metrics
    return models


def run_evaluation(
    dataset: MovieLens,
    protocol: str = "holdout",
    preset: str = "lab",
    recipe: str = "fast",
    seeds: int = 1,
    progress: Progress | None = None,
    epochs: int | None = None,
    tags: pd.DataFrame | None = None,
    hybrid_epochs: int | None = None,
    validation: bool = False,
) -> dict:
    """Evaluate both networks, every baseline and the peers under ``protocol``.

    Seed ``s`` (1..seeds) draws the split and initialises the networks (the lab
    protocol's split is fixed, so there the seed varies the models only). ``tags``
    (userId, movieId, tag) feed the hybrid model's content; ``epochs`` is the lab
    network's, ``hybrid_epochs`` the hybrid's (default: their configs'). Returns a
    JSON-ready dict: protocol, preset, recipe, seeds, counts (of the first seed),
    models {name: {metric: value}} with a value ``{"mean", "std"}`` for several seeds,
    and per_seed. RMSE and MAE are in stars; a metric that does not apply (``popular``
    predicts no rating) is None. ``validation``: run on the training side of each
    seed's test split, where hyperparameters are chosen (not for ``lab``).
    ``progress(fraction, 1.0, text)`` is called as work advances, the fraction never
    stepping back and ending at 1.0.
    """
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if seeds < 1:
        raise UsageError(f"seeds must be 1 or more, got {seeds}")
    feature_config = preset_config(preset)
    reported = [0.0]

    def say(fraction: float, text: str) -> None:
        # Never step back (float round-off between stages), never pass 1.
        reported[0] = min(max(reported[0], fraction), 1.0)
        if progress is not None:
            progress(reported[0], 1.0, text)

    start = time.perf_counter()
    runs = []
    seed_values = list(range(1, seeds + 1))
    for i, seed in enumerate(seed_values):
        configs = (
            recipe_config(recipe, preset=preset, seed=seed, epochs=epochs),
            hybrid_config(seed=seed, epochs=hybrid_epochs),
        )

        def report(fraction: float, text: str, i: int = i, seed: int = seed) -> None:
            say((i + fraction) / seeds, f"seed {seed}: {text}")

        side = validation_side(dataset.ratings, tags, protocol, seed) if validation else None
        runs.append(
            _evaluate_seed(dataset, tags, protocol, feature_config, configs, seed, report, side)
        )
    say(1.0, "done")
    return {
        "schema_version": SCHEMA_VERSION,
        "protocol": protocol,
        "validation": validation,
        "preset": preset,
        "recipe": recipe,
        "seeds": seed_values,
        "k": TOP_K,
        "relevant_stars": RELEVANT_STARS,
        "test_fraction": TEST_FRACTION,
        "counts": runs[0]["counts"],
        "models": _aggregate(runs),
        "per_seed": [_json_run(run) for run in runs],
        "excluded": dict(EXCLUDED) if protocol == "coldstart" else {},
        **_ease_lambdas(runs),
        "config": {
            "train": recipe_config(recipe, preset=preset, epochs=epochs).to_dict(),
            "hybrid": hybrid_config(epochs=hybrid_epochs).to_dict(),
            "features": feature_config.to_dict(),
        },
        "data": {"source": dataset.source, "fingerprint": dataset.fingerprint},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - start,
    }
