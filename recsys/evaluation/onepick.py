"""Scoring the ``onepick`` and ``similar`` protocols (the split: ``recsys.evaluation.picks``).

- ``onepick``: each held-out user's picks (1, then 3) are a new user's input; the served
  model ranks the candidates through the Recommender's new-user path, as the app does.
  Metrics carry the number of picks: ``ndcg_at_10_k1``, ``ndcg_at_10_k3``, ….
- ``similar``: the list is the first pick's 10 nearest by the Recommender's Similar
  movies; the peers list the pick's own row of their item-item weights.

Models: the hybrid (served), most-popular, EASE (λ chosen on a validation carve of the
training side), co-occurrence and cosine (``recsys.evaluation.itemitem``). Rating errors
do not apply here (null).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID
from recsys.config import HYBRID, FeatureConfig, HybridConfig
from recsys.evaluation.baselines import make_baseline
from recsys.evaluation.itemitem import EASE_LAMBDAS, ITEM_PEERS, ease_weights, item_peers
from recsys.evaluation.picks import PickSplit, carve_picks, prepare_picks
from recsys.evaluation.ranking import (
    PICK_COUNTS,
    TOP_K,
    genre_kinship,
    ranking_metrics,
    suffixed,
    top_k,
)

PICK_PROTOCOLS = ("onepick", "similar")
PICK_MODELS = (HYBRID, "popular", *ITEM_PEERS)
# The validation carve draws its own users and picks, apart from the test split's.
_VALIDATION_STREAM = 3
# A validation run scores each held-out user's liked movies in this many random orders
# (other picks each time) and reports the mean, which moves far less from seed to seed
# than one order does (docs/evaluation.md). The test protocol keeps its one order.
VALIDATION_ORDERS = 20
_ORDERS_STREAM = 4


def _rows_top(scores: np.ndarray, split: PickSplit, k: int, rng) -> np.ndarray:
    return top_k(scores, split.picked(k), TOP_K, rng)


def _neighbour_top(weights: np.ndarray, split: PickSplit, rng) -> np.ndarray:
    """[n_users, TOP_K] each first pick's top row of ``weights`` (itself left out)."""
    return _rows_top(weights[split.first_pick()], split, 1, rng)


def choose_ease_lambda(
    split: PickSplit, protocol: str, seed: int, lambdas: tuple[float, ...] = EASE_LAMBDAS
) -> tuple[float, dict[str, float]]:
    """(the λ of the best validation NDCG@10, {λ as text: its NDCG@10}), on a carve of
    ``split``'s training side: its own held-out users and picks, EASE fit on the rest.
    ``onepick`` averages the 1- and 3-pick NDCG; ties go to the smaller λ."""
    carve = carve_picks(split.train_ratings, split.movie_ids, [seed, _VALIDATION_STREAM])
    found: dict[str, float] = {}
    for lam, weights in ease_weights(carve.train_ratings, carve.movie_ids, lambdas):
        rng = np.random.default_rng([seed, _VALIDATION_STREAM])
        if protocol == "onepick":
            ndcgs = [
                ranking_metrics(
                    _rows_top(carve.picked(k).astype("float64") @ weights, carve, k, rng),
                    carve.task(k),
                    rng,
                )["ndcg_at_10"]
                for k in PICK_COUNTS
            ]
            found[f"{lam:g}"] = float(np.mean(ndcgs))
        else:
            top = _neighbour_top(weights, carve, rng)
            found[f"{lam:g}"] = ranking_metrics(top, carve.task(1), rng)["ndcg_at_10"]
    best = max(found.items(), key=lambda item: (item[1], -float(item[0])))
    return float(best[0]), found


def _hybrid_onepick(recommender, split: PickSplit, k: int) -> np.ndarray:
    """[n_users, n_items] the served model's new-user ranking scores for ``k`` picks."""
    rows = recommender.catalogue.rows_of(pd.Series(split.movie_ids))
    scores = np.empty(split.order.shape, dtype="float64")
    for i, picks in enumerate(split.picks(k)):
        scores[i] = recommender.new_user_scores({}, picks).rank[rows]
    return scores


def _hybrid_similar(recommender, split: PickSplit) -> np.ndarray:
    """[n_users, TOP_K] the candidate indices of each first pick's Similar movies."""
    column = pd.Index(split.movie_ids)
    top = np.full((len(split.user_ids), TOP_K), -1, dtype="int64")
    for i, pick in enumerate(split.movie_ids[split.first_pick()]):
        found = column.get_indexer(recommender.similar(int(pick), TOP_K)[MOVIE_ID])
        top[i, : len(found)] = found
    return top


def mean_scores(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """{model: {metric: the mean over ``runs``}} (NaN where a metric does not apply)."""
    return {
        model: {metric: float(np.mean([run[model][metric] for run in runs])) for metric in metrics}
        for model, metrics in runs[0].items()
    }


def score_picks(
    protocol: str,
    split: PickSplit,
    recommender,
    peers: dict[str, np.ndarray],
    popular: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, dict[str, float]]:
    """{model: {metric: value}} for every model of ``PICK_MODELS`` on ``split``.

    recommender: the served model; peers: {peer: [n_items, n_items] weights}; popular:
    [n_items] the training ratings per candidate.
    """
    nan = {"rmse": float("nan"), "mae": float("nan")}
    models: dict[str, dict[str, float]] = {name: dict(nan) for name in PICK_MODELS}
    if protocol == "similar":
        task = split.task(1)
        tops = {HYBRID: _hybrid_similar(recommender, split)}
        tops["popular"] = _rows_top(np.tile(popular, (len(split.user_ids), 1)), split, 1, rng)
        tops.update({name: _neighbour_top(w, split, rng) for name, w in peers.items()})
        flags, first = split.genre_flags(), split.first_pick()
        for name in PICK_MODELS:
            models[name].update(ranking_metrics(tops[name], task, rng))
            kinship = float("nan") if flags is None else genre_kinship(tops[name], first, flags)
            models[name]["genre_kinship_at_10"] = kinship
        return models
    for k in PICK_COUNTS:
        task, picked = split.task(k), split.picked(k).astype("float64")
        scores = {HYBRID: _hybrid_onepick(recommender, split, k)}
        scores["popular"] = np.tile(popular, (len(split.user_ids), 1))
        scores.update({name: picked @ w for name, w in peers.items()})
        for name in PICK_MODELS:
            metrics = ranking_metrics(_rows_top(scores[name], split, k, rng), task, rng)
            models[name].update({suffixed(m, k): v for m, v in metrics.items()})
    return models


def evaluate_picks_seed(
    dataset,
    tags,
    protocol: str,
    feature_config: FeatureConfig,
    config: HybridConfig,
    seed: int,
    report: Callable[[float, str], None],
    ratings: pd.DataFrame | None = None,
    split_rng: int | np.random.Generator | None = None,
    orders: int = 1,
) -> dict:
    """Split, train the hybrid, fit the peers (EASE's λ on validation) and score, for one
    seed. ``ratings``: what to split (default: every rating of ``dataset``), with
    ``split_rng`` (default: ``seed``); ``orders``: score the held-out users' liked movies
    in this many orders (the split's first) and report the mean. Returns
    {"seed", "counts", "models", "fit_seconds", "ease_lambda", "ease_validation"}."""
    from recsys.evaluation.scorers import fit_hybrid  # TensorFlow: only to train
    from recsys.evaluation.served import served_recommender

    report(0.0, "holding out users and their picks")
    ratings = dataset.ratings if ratings is None else ratings
    rng = seed if split_rng is None else split_rng
    split = prepare_picks(ratings, dataset.movies, feature_config, rng)
    assert split.data is not None  # prepare_picks builds the features
    report(0.05, "training the hybrid model")

    def on_epoch(epoch: int, planned: int) -> None:
        report(0.05 + 0.7 * epoch / max(planned, 1), f"training the hybrid, epoch {epoch}")

    hybrid = fit_hybrid(split.data, dataset.movies, tags, config, on_epoch)
    recommender = served_recommender(hybrid.params, split.data)
    report(0.75, "choosing EASE's λ on validation")
    lam, tried = choose_ease_lambda(split, protocol, seed)
    report(0.85, "fitting the peers and scoring")
    peers = item_peers(split.train_ratings, split.movie_ids, lam)
    items = split.data.training.items
    popular = make_baseline("popular").fit(split.train_ratings, items)
    counts_row = popular.scores(np.zeros(1, "int64"), split.movie_ids)[0]
    order_rng = np.random.default_rng([seed, _ORDERS_STREAM])
    splits = [split] + [split.reordered(order_rng) for _ in range(orders - 1)]
    models = mean_scores(
        [
            score_picks(
                protocol, s, recommender, peers, counts_row, np.random.default_rng([seed, 1])
            )
            for s in splits
        ]
    )
    counts = {
        **split.data.counts,
        "ranked_users": int(len(split.user_ids)),
        "relevant": int(split.task(1).relevant.sum()),
        "candidates": int(len(split.movie_ids)),
    }
    return {
        "seed": seed,
        "counts": counts,
        "models": models,
        "fit_seconds": {HYBRID: hybrid.fit_seconds},
        "ease_lambda": lam,
        "ease_validation": tried,
    }
