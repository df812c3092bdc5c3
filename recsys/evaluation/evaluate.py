"""Honest evaluation: the two-tower model against baselines, on the same split.

Protocols:

- ``lab``: the lab's own protocol, kept for parity. Features and scalers come from
  every rating, then the (repeated) rows are split 80/20 at random
  (``recsys.model.train.lab_split``). Flattering: held-out ratings shape the features, and
  copies of a repeated rating can fall on both sides.
- ``holdout``: 20% of each user's ratings (rounded down) are held out at random before
  anything else is computed. The preset's movie selection, item and user vectors, the
  scalers and the repeated rows come from the training ratings only.
- ``temporal``: as ``holdout``, but each user's latest 20% by timestamp are held out
  (ties in time are broken at random).

Every model is scored on the same held-out ratings: RMSE and MAE in stars, and for
each user with a held-out rating of 4 stars or more, the top 10 of all candidate
movies (the preset's movies, less those the user rated in training) by Precision,
Recall, NDCG, MAP and the coverage of the catalogue (see ``recsys.evaluation.metrics``).
Ties in a ranking are broken at random (seeded), so a score that is equal for every
movie (``global_mean``, ``user_mean``) ranks like a random recommender.

The evaluation trains its own models; it never reads the served bundle's weights
(that model saw the lab split's features, so scoring it on another split would leak).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import (
    ITEM_NOT_TRAINED,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    RATING,
    TIMESTAMP,
    USER_ID,
    USER_NOT_TRAINED,
    USER_VECTOR_COLUMNS,
)
from recsys.config import (
    PROTOCOLS,
    TWO_TOWER,
    FeatureConfig,
    TrainConfig,
    preset_config,
    recipe_config,
)
from recsys.dataset.movielens import MovieLens
from recsys.errors import UsageError
from recsys.evaluation.baselines import BASELINES, Baseline, make_baseline
from recsys.evaluation.metrics import mae, mean_over_users, ranking_from_hits, rmse
from recsys.model.features import TrainingSet, build_training_set
from recsys.model.scaling import Scalers

TEST_FRACTION = 0.2
RELEVANT_STARS = 4.0  # a held-out rating this high or higher is a relevant movie
TOP_K = 10
MODEL_NAMES = (TWO_TOWER, *BASELINES)
METRICS = (
    "rmse",
    "mae",
    "precision_at_10",
    "recall_at_10",
    "ndcg_at_10",
    "map_at_10",
    "coverage",
)
METRIC_LABELS = {
    "rmse": "RMSE",
    "mae": "MAE",
    "precision_at_10": "P@10",
    "recall_at_10": "R@10",
    "ndcg_at_10": "NDCG@10",
    "map_at_10": "MAP@10",
    "coverage": "coverage",
}
EVALUATION_FILE = "evaluation.json"
SCHEMA_VERSION = 1

# (fraction done 0..1, what is happening) → None
Progress = Callable[[float, str], None]

_RATING_COLUMNS = [USER_ID, MOVIE_ID, RATING]


# --------------------------------------------------------------------------- splitting


class Split(NamedTuple):
    """Training and held-out ratings; rows keep their index labels in ``ratings``."""

    train: pd.DataFrame
    test: pd.DataFrame


def split_ratings(
    ratings: pd.DataFrame,
    protocol: str,
    rng: int | np.random.Generator | None = None,
    test_fraction: float = TEST_FRACTION,
) -> Split:
    """Hold out ``floor(test_fraction × n_u)`` of each user's ratings.

    ``holdout`` picks them at random; ``temporal`` takes the latest by timestamp, ties
    broken at random. Rounding down keeps most of a small user's ratings in training
    (a user with 4 or fewer ratings keeps them all at 0.2). Every rating lands in
    exactly one side. Vectorised: one lexsort, no loop over users.
    """
    if protocol not in ("holdout", "temporal"):
        raise UsageError(f"split_ratings: unknown protocol {protocol!r} (holdout or temporal)")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    rng = np.random.default_rng(rng)
    n = len(ratings)
    user_codes, _ = pd.factorize(ratings[USER_ID], sort=False)
    tie_break = rng.random(n)
    if protocol == "temporal":
        order = np.lexsort((tie_break, ratings[TIMESTAMP].to_numpy(), user_codes))
    else:
        order = np.lexsort((tie_break, user_codes))
    per_user = np.bincount(user_codes)
    # The tiny epsilon keeps e.g. 0.2 × 15 = 3.0000000000000004 from rounding to 3 wrongly
    # the other way; floor is what we want.
    held_out = np.floor(per_user * test_fraction + 1e-9).astype("int64")
    sorted_codes = user_codes[order]
    group_start = np.concatenate([[0], np.cumsum(per_user)[:-1]])
    position = np.arange(n) - group_start[sorted_codes]  # 0-based within the user
    is_test_sorted = position >= per_user[sorted_codes] - held_out[sorted_codes]
    is_test = np.empty(n, dtype=bool)
    is_test[order] = is_test_sorted
    return Split(train=ratings[~is_test], test=ratings[is_test])


# --------------------------------------------------------------------------- prepared data


@dataclass(frozen=True)
class EvaluationData:
    """One protocol's split, with everything the models need.

    training: the TrainingSet built from the training side (item/user vectors, rows).
    scalers: fit on training rows only (holdout, temporal) or every row (lab).
    user_x: [n_rows, 14] and item_x: [n_rows, 16] scaled network inputs; y_scaled:
    [n_rows] targets in scaled [-1, 1] units.
    train_ratings: userId, movieId, rating (stars): what the baselines fit on.
    test_ratings: userId, movieId, rating (stars): what every model is scored on;
    only users and movies that the training side knows.
    """

    protocol: str
    training: TrainingSet
    scalers: Scalers
    user_x: np.ndarray
    item_x: np.ndarray
    y_scaled: np.ndarray
    train_ratings: pd.DataFrame
    test_ratings: pd.DataFrame
    counts: dict


def _network_inputs(scalers: Scalers, user_rows: np.ndarray, item_rows: np.ndarray):
    users = scalers.scale_users(user_rows)[:, len(USER_NOT_TRAINED) :]
    items = scalers.scale_items(item_rows)[:, len(ITEM_NOT_TRAINED) :]
    return users, items


def prepare_holdout(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    protocol: str,
    feature_config: FeatureConfig,
    rng: int | np.random.Generator | None = None,
) -> EvaluationData:
    """Split first, then build every feature and scaler from the training ratings only."""
    split = split_ratings(ratings, protocol, rng)
    training = build_training_set(split.train, movies, feature_config)
    scalers = Scalers.fit(training.user_train, training.item_train, training.y)
    user_x, item_x = _network_inputs(scalers, training.user_train, training.item_train)
    # A held-out rating is scored only if training knows its movie (the selection, made
    # on training counts, may drop it) and its user (who may have no kept rating left).
    known_movie = split.test[MOVIE_ID].isin(training.items[MOVIE_ID].astype("int64"))
    known_user = split.test[USER_ID].isin(training.users[USER_ID].astype("int64"))
    known = known_movie & known_user
    test_ratings = split.test.loc[known, _RATING_COLUMNS].reset_index(drop=True)
    counts = {
        "ratings": int(len(ratings)),
        "train_ratings": int(len(training.ratings)),
        "train_rows": int(len(training.y)),
        "test_ratings": int(len(test_ratings)),
        "held_out": int(len(split.test)),
        "held_out_dropped": int((~known).sum()),
        "items": int(len(training.items)),
        "users": int(len(training.users)),
    }
    return EvaluationData(
        protocol=protocol,
        training=training,
        scalers=scalers,
        user_x=user_x,
        item_x=item_x,
        y_scaled=scalers.scale_target(training.y),
        train_ratings=training.ratings[_RATING_COLUMNS].reset_index(drop=True),
        test_ratings=test_ratings,
        counts=counts,
    )


def prepare_lab(dataset: MovieLens, feature_config: FeatureConfig) -> EvaluationData:
    """The lab protocol: features and scalers from every rating, then the lab's row split.

    Baselines fit on the lab's training rows (repeats included) and everything is
    scored on its test rows, so they share the repetition leak but not the feature leak.
    """
    from sklearn.model_selection import train_test_split

    from recsys.model.train import SPLIT_SEED, TEST_SIZE, lab_split

    training = build_training_set(dataset.ratings, dataset.movies, feature_config)
    split = lab_split(training)
    # lab_split returns scaled arrays only; the same call gives its row indices.
    train_rows, test_rows = train_test_split(
        np.arange(len(training.y)), train_size=1 - TEST_SIZE, shuffle=True, random_state=SPLIT_SEED
    )
    if not np.array_equal(split.y_test, split.scalers.scale_target(training.y[test_rows])):
        raise RuntimeError("recsys.model.train.lab_split no longer draws the rows evaluate expects")

    def as_ratings(rows: np.ndarray) -> pd.DataFrame:
        columns = {
            USER_ID: training.user_train[rows, 0].astype("int64"),
            MOVIE_ID: training.item_train[rows, 0].astype("int64"),
            RATING: training.y[rows],
        }
        return pd.DataFrame(columns)

    test_ratings = as_ratings(test_rows)
    counts = {
        "ratings": int(len(dataset.ratings)),
        "train_ratings": int(len(train_rows)),
        "train_rows": int(len(train_rows)),
        "test_ratings": int(len(test_rows)),
        "held_out": int(len(test_rows)),
        "held_out_dropped": 0,
        "items": int(len(training.items)),
        "users": int(len(training.users)),
    }
    return EvaluationData(
        protocol="lab",
        training=training,
        scalers=split.scalers,
        user_x=split.user_train,
        item_x=split.item_train,
        y_scaled=split.y_train,
        train_ratings=as_ratings(train_rows),
        test_ratings=test_ratings,
        counts=counts,
    )


# --------------------------------------------------------------------------- the model


class TwoTowerScorer:
    """The trained two-tower model, scored in numpy from its towers' weights.

    Embeddings are computed once for every known user and candidate movie, from the
    training-side vectors; a prediction is their dot product (scaled [-1, 1] units),
    turned into stars by the training scalers.
    """

    name = TWO_TOWER
    predicts_ratings = True

    def __init__(
        self, weights: dict[str, np.ndarray], data: EvaluationData, fit_seconds: float = 0.0
    ):
        self.fit_seconds = fit_seconds
        training = data.training
        user_vecs = training.users[list(USER_VECTOR_COLUMNS)].to_numpy("float64")
        item_vecs = training.items[list(ITEM_VECTOR_COLUMNS)].to_numpy("float64")
        user_in, item_in = _network_inputs(data.scalers, user_vecs, item_vecs)
        self.user_embeddings_ = _tower(weights, "user_tower", user_in)  # [n_users, 32]
        self.item_embeddings_ = _tower(weights, "item_tower", item_in)  # [n_items, 32]
        self.user_index_ = pd.Index(training.users[USER_ID].astype("int64"))
        self.movie_index_ = pd.Index(training.items[MOVIE_ID].astype("int64"))
        self.scalers = data.scalers

    def _codes(self, user_ids, movie_ids) -> tuple[np.ndarray, np.ndarray]:
        users = self.user_index_.get_indexer(np.asarray(user_ids).reshape(-1).astype("int64"))
        movies = self.movie_index_.get_indexer(np.asarray(movie_ids).reshape(-1).astype("int64"))
        if (users < 0).any() or (movies < 0).any():
            raise ValueError("two_tower: a user or movie has no training-side vector")
        return users, movies

    def predict_scaled(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predictions in scaled [-1, 1] units for aligned (user, movie) pairs."""
        users, movies = self._codes(user_ids, movie_ids)
        products = self.user_embeddings_[users] * self.item_embeddings_[movies]
        return products.sum(axis=1, dtype="float64")

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        """[n] predicted stars."""
        return self.scalers.unscale_target(self.predict_scaled(user_ids, movie_ids))

    def scores(self, user_ids, movie_ids) -> np.ndarray:
        """[n_users, n_movies] predicted stars (the unscaling is monotone)."""
        users, movies = self._codes(user_ids, movie_ids)
        scaled = self.user_embeddings_[users] @ self.item_embeddings_[movies].T
        return self.scalers.unscale_target(scaled)


def _tower(weights: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    """Dense-relu, dense-relu, dense, L2-normalise: the model's tower, in float32 numpy."""
    hidden = np.asarray(x, "float32")
    for layer in (1, 2, 3):
        hidden = hidden @ weights[f"{name}/{layer}/kernel"] + weights[f"{name}/{layer}/bias"]
        if layer < 3:
            hidden = np.maximum(hidden, 0.0)
    norm = np.sqrt(np.maximum(np.sum(hidden * hidden, axis=1, keepdims=True), 1e-12))
    return hidden / norm


def fit_two_tower(
    data: EvaluationData,
    config: TrainConfig,
    on_epoch: Callable[[int, int], None] | None = None,
) -> TwoTowerScorer:
    """Train on ``data``'s training rows and wrap the result. Imports TensorFlow."""
    from recsys.model import network as two_tower

    def progress(epoch: int, planned: int, _logs: dict) -> None:
        if on_epoch is not None:
            on_epoch(epoch, planned)

    fitted = two_tower.fit(data.user_x, data.item_x, data.y_scaled, config, progress=progress)
    return TwoTowerScorer(two_tower.tower_weights(fitted.model), data, fitted.seconds)


# --------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankingTask:
    """Who is ranked, over which movies, and what counts as a hit.

    user_ids: [n_users] users with at least one relevant held-out movie.
    movie_ids: [n_items] the candidate movies (the preset's movies).
    seen: [n_users, n_items] bool, rated in training: never recommended.
    relevant: [n_users, n_items] bool, held out with ≥ RELEVANT_STARS and not seen.
    """

    user_ids: np.ndarray
    movie_ids: np.ndarray
    seen: np.ndarray
    relevant: np.ndarray


def ranking_task(data: EvaluationData, relevant_stars: float = RELEVANT_STARS) -> RankingTask:
    """The ranking task of a prepared split (vectorised; no loop over users)."""
    movie_ids = data.training.items[MOVIE_ID].to_numpy().astype("int64")
    test = data.test_ratings
    good = test[test[RATING].to_numpy() >= relevant_stars]
    user_ids = np.unique(good[USER_ID].to_numpy().astype("int64"))
    user_index, movie_index = pd.Index(user_ids), pd.Index(movie_ids)

    def mask(frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(user_ids), len(movie_ids)), dtype=bool)
        rows = user_index.get_indexer(frame[USER_ID].to_numpy().astype("int64"))
        cols = movie_index.get_indexer(frame[MOVIE_ID].to_numpy().astype("int64"))
        keep = (rows >= 0) & (cols >= 0)
        out[rows[keep], cols[keep]] = True
        return out

    seen = mask(data.train_ratings)
    # Under the lab protocol a copy of a test rating can sit in training: that movie is
    # seen, so it can never be recommended, and it is not counted as relevant either.
    relevant = mask(good) & ~seen
    judged = relevant.any(axis=1)
    return RankingTask(
        user_ids=user_ids[judged],
        movie_ids=movie_ids,
        seen=seen[judged],
        relevant=relevant[judged],
    )


def top_k(
    scores: np.ndarray, seen: np.ndarray, k: int, rng: int | np.random.Generator | None
) -> np.ndarray:
    """[n_users, k] candidate indices, best first; -1 where a user has fewer than k.

    Seen movies and NaN scores are never recommended; equal scores are ordered at
    random (independently per user), so ties favour no movie id.
    """
    rng = np.random.default_rng(rng)
    scores = np.where(seen | np.isnan(scores), -np.inf, np.asarray(scores, "float64"))
    tie_break = rng.random(scores.shape)
    order = np.lexsort((tie_break, -scores), axis=-1)[:, :k]
    chosen = np.take_along_axis(scores, order, axis=1)
    return np.where(np.isfinite(chosen), order, -1)


def ranking_metrics(top: np.ndarray, task: RankingTask) -> dict[str, float]:
    """Mean P@k, R@k, NDCG@k, AP@k over the task's users, and catalogue coverage."""
    valid = top >= 0
    hits = np.take_along_axis(task.relevant, np.where(valid, top, 0), axis=1) & valid
    per_user = ranking_from_hits(hits, task.relevant.sum(axis=1))
    n_items = len(task.movie_ids)
    shown = np.unique(top[valid]).size
    return {
        "precision_at_10": mean_over_users(per_user["precision"]),
        "recall_at_10": mean_over_users(per_user["recall"]),
        "ndcg_at_10": mean_over_users(per_user["ndcg"]),
        "map_at_10": mean_over_users(per_user["ap"]),
        "coverage": shown / n_items if n_items else float("nan"),
    }


# --------------------------------------------------------------------------- one run


def score_model(
    scorer: Baseline | TwoTowerScorer,
    data: EvaluationData,
    task: RankingTask,
    rng: int | np.random.Generator | None,
) -> dict[str, float]:
    """All seven metrics for one fitted model (ratings in stars)."""
    test = data.test_ratings
    actual = test[RATING].to_numpy("float64")
    if scorer.predicts_ratings:
        predicted = scorer.predict(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
        rating = {"rmse": rmse(predicted, actual), "mae": mae(predicted, actual)}
    else:
        rating = {"rmse": float("nan"), "mae": float("nan")}
    if len(task.user_ids):
        scores = scorer.scores(task.user_ids, task.movie_ids)
        ranking = ranking_metrics(top_k(scores, task.seen, TOP_K, rng), task)
    else:
        ranking = dict.fromkeys(METRICS[2:], float("nan"))
    return {**rating, **ranking}


def _evaluate_seed(
    dataset: MovieLens,
    protocol: str,
    feature_config: FeatureConfig,
    train_config: TrainConfig,
    seed: int,
    report: Callable[[float, str], None],
) -> dict:
    """Split, train, fit baselines and score everything for one seed."""
    report(0.0, "splitting and building features")
    if protocol == "lab":
        data = prepare_lab(dataset, feature_config)
    else:
        data = prepare_holdout(dataset.ratings, dataset.movies, protocol, feature_config, seed)
    report(0.05, "training the two-tower model")
    scorer = fit_two_tower(
        data,
        train_config,
        on_epoch=lambda epoch, planned: report(
            0.05 + 0.8 * epoch / max(planned, 1), f"training, epoch {epoch}/{planned}"
        ),
    )
    report(0.85, "scoring")
    task = ranking_task(data)
    # One tie-break stream per seed, drawn in model order, so a run replays exactly.
    tie_rng = np.random.default_rng([seed, 1])
    models = {TWO_TOWER: score_model(scorer, data, task, tie_rng)}
    # The lab's own number: test MSE in scaled [-1, 1] units.
    test = data.test_ratings
    predicted_scaled = scorer.predict_scaled(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
    actual_scaled = data.scalers.scale_target(test[RATING].to_numpy("float64"))
    models[TWO_TOWER]["test_mse_scaled"] = float(np.mean((predicted_scaled - actual_scaled) ** 2))
    items = data.training.items
    for name in BASELINES:
        baseline = make_baseline(name).fit(data.train_ratings, items)
        models[name] = score_model(baseline, data, task, tie_rng)
    counts = {
        **data.counts,
        "ranked_users": int(len(task.user_ids)),
        "relevant": int(task.relevant.sum()),
        "candidates": int(len(task.movie_ids)),
    }
    return {"seed": seed, "counts": counts, "models": models, "fit_seconds": scorer.fit_seconds}


def _json_number(value: float) -> float | None:
    """NaN (a metric that does not apply) → None, so it is JSON ``null``."""
    value = float(value)
    return None if math.isnan(value) else value


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
) -> dict:
    """Evaluate the two-tower model and every baseline under ``protocol``.

    Seed ``s`` (1..seeds) draws the holdout split and initialises the model (the lab
    protocol's split is fixed, so there the seed varies the model only). Returns a
    JSON-ready dict: protocol, preset, recipe, seeds, counts (of the first seed),
    models {name: {metric: value}} with a value ``{"mean", "std"}`` for several seeds,
    and per_seed. RMSE and MAE are in stars; a metric that does not apply (``popular``
    predicts no rating) is None. ``progress(fraction, text)`` is called as work advances.
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
            progress(reported[0], text)

    start = time.perf_counter()
    runs = []
    seed_values = list(range(1, seeds + 1))
    for i, seed in enumerate(seed_values):
        train_config = recipe_config(recipe, preset=preset, seed=seed, epochs=epochs)

        def report(fraction: float, text: str, i: int = i, seed: int = seed) -> None:
            say((i + fraction) / seeds, f"seed {seed}: {text}")

        runs.append(_evaluate_seed(dataset, protocol, feature_config, train_config, seed, report))
    say(1.0, "done")
    per_seed = [
        {
            **run,
            "models": {
                name: {m: _json_number(v) for m, v in metrics.items()}
                for name, metrics in run["models"].items()
            },
        }
        for run in runs
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "protocol": protocol,
        "preset": preset,
        "recipe": recipe,
        "seeds": seed_values,
        "k": TOP_K,
        "relevant_stars": RELEVANT_STARS,
        "test_fraction": TEST_FRACTION,
        "counts": runs[0]["counts"],
        "models": _aggregate(runs),
        "per_seed": per_seed,
        "config": {
            "train": recipe_config(recipe, preset=preset, epochs=epochs).to_dict(),
            "features": feature_config.to_dict(),
        },
        "data": {"source": dataset.source, "fingerprint": dataset.fingerprint},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - start,
    }


# --------------------------------------------------------------------------- storage


def evaluation_path(artifacts_dir: str | os.PathLike, protocol: str | None = None) -> Path:
    """``evaluation.json`` (the latest) or ``evaluation-<protocol>.json`` in the folder."""
    name = EVALUATION_FILE if protocol is None else f"evaluation-{protocol}.json"
    return Path(artifacts_dir) / name


def _current_bundle_id(artifacts_dir: Path) -> str | None:
    try:
        name = (artifacts_dir / "CURRENT").read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if name.startswith("bundle-") and "/" not in name else None


def _write_atomically(path: Path, text: str) -> None:
    # Not the ".tmp-" prefix: a training's clean-up removes those from this folder.
    fd, tmp = tempfile.mkstemp(prefix=".evaluation-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_evaluation(artifacts_dir: str | os.PathLike, result: dict) -> Path:
    """Store ``result`` beside the bundle, atomically; returns the latest file's path.

    Writes ``evaluation.json`` (the latest run, whatever its protocol) and
    ``evaluation-<protocol>.json``, each with the current bundle's id (None if there
    is none yet) and the time it was saved.
    """
    folder = Path(artifacts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stored = {
        **result,
        "bundle_id": _current_bundle_id(folder),
        "saved": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(stored, indent=1, allow_nan=False)
    _write_atomically(evaluation_path(folder, result["protocol"]), text)
    latest = evaluation_path(folder)
    _write_atomically(latest, text)
    return latest


def load_evaluation(artifacts_dir: str | os.PathLike, protocol: str | None = None) -> dict | None:
    """The latest saved evaluation (or the latest of ``protocol``); None if absent or damaged.

    Never raises on a missing, unreadable or malformed file: the page then simply
    offers to run one.
    """
    try:
        raw = evaluation_path(artifacts_dir, protocol).read_text(encoding="utf-8")
        result = json.loads(raw)
    except (OSError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if not _looks_like_evaluation(result):
        return None
    if protocol is not None and result["protocol"] != protocol:
        return None
    return result


def _looks_like_evaluation(result) -> bool:
    if not isinstance(result, dict) or result.get("protocol") not in PROTOCOLS:
        return False
    models = result.get("models")
    if not isinstance(models, dict) or not models:
        return False
    return all(
        isinstance(metrics, dict) and all(m in metrics for m in METRICS)
        for metrics in models.values()
    )


# --------------------------------------------------------------------------- the command


class _Bar:
    """A one-line text progress bar on stderr."""

    def __init__(self, width: int = 30):
        self.width = width
        self._last = ""

    def __call__(self, fraction: float, text: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        done = int(self.width * fraction)
        line = f"\r[{'#' * done}{'.' * (self.width - done)}] {fraction:4.0%} {text}"
        pad = max(len(self._last) - len(line), 0)
        self._last = line
        sys.stderr.write(line + " " * pad + ("\n" if fraction >= 1.0 else ""))
        sys.stderr.flush()


def evaluate_command(args) -> dict:
    """The ``evaluate`` command: load, run, save beside the bundle unless ``--no-save``."""
    from recsys.dataset.movielens import load_movielens
    from recsys.settings import resolve_artifacts_dir

    dataset = load_movielens(args.data)
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    result = run_evaluation(
        dataset,
        protocol=args.protocol,
        preset=args.preset,
        recipe=args.recipe,
        seeds=args.seeds,
        progress=None if args.json else _Bar(),
        epochs=getattr(args, "epochs", None),
    )
    if not args.no_save:
        result["saved_to"] = str(save_evaluation(resolve_artifacts_dir(args.artifacts), result))
    return result


def _cell(value, digits: int = 3) -> str:
    """A metric for display: "0.912", "0.912 ± 0.004", or "—" where it does not apply."""
    mean, std = metric_mean(value), metric_std(value)
    if math.isnan(mean):
        return "—"
    return f"{mean:.{digits}f}" + ("" if math.isnan(std) else f" ± {std:.{digits}f}")


def evaluation_table(result: dict) -> pd.DataFrame:
    """One row per model, one column per metric, as display strings (mean ± std)."""
    rows = {
        name: {METRIC_LABELS[m]: _cell(metrics.get(m)) for m in METRICS}
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
        for metric in METRICS
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
        + (f", {result['seconds']:.0f} s" if "seconds" in result else ""),
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
