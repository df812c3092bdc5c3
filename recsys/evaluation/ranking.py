"""Ranking and scoring: who is ranked over which movies, the top k, and every metric.

For each user with a held-out rating of ``RELEVANT_STARS`` or more, the candidates are
the preset's movies less those the user rated in training; the top ``TOP_K`` are scored
by precision, recall, NDCG, MAP and the coverage of the catalogue (see
``recsys.evaluation.metrics``), and by two measures of popularity: ``tail_ndcg_at_10``
(NDCG counting only relevant movies outside the training data's ``HEAD_SIZE``
most-rated) and ``blockbusters_at_10`` (how many of the 10 are among its
``BLOCKBUSTERS`` most-rated). ``similar`` adds ``genre_kinship_at_10``, how much of the
pick's kind its list is. Ties in a ranking are broken at random (seeded), so a
score that is equal for every movie (``global_mean``, ``user_mean``) ranks like a random
recommender.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.evaluation.baselines import Baseline
from recsys.evaluation.metrics import (
    mae,
    mean_over_users,
    personalization,
    ranking_from_hits,
    rmse,
)
from recsys.evaluation.protocols import EvaluationData
from recsys.evaluation.scorers import TwoTowerScorer
from recsys.model.hybrid.neighbour_table import genre_jaccard

RELEVANT_STARS = 4.0  # a held-out rating this high or higher is a relevant movie
TOP_K = 10
HEAD_SIZE = 100  # tail NDCG leaves out the training data's 100 most-rated movies
BLOCKBUSTERS = 10  # blockbusters@10 counts the training data's 10 most-rated movies
# Every model's metrics, in this order: rating errors in stars, then ranking at TOP_K.
METRICS = (
    "rmse",
    "mae",
    "precision_at_10",
    "recall_at_10",
    "ndcg_at_10",
    "map_at_10",
    "coverage",
    "personalization",
    "tail_ndcg_at_10",
    "blockbusters_at_10",
)
# What every saved evaluation holds: those saved before personalization lack it.
CORE_METRICS = METRICS[:7]
# The metrics of a ranked list (every metric but the rating errors).
RANKING_METRICS = METRICS[2:]
# ``onepick`` scores each list twice: with 1 and with 3 picks revealed.
PICK_COUNTS = (1, 3)
# ``similar`` also says how much of the pick's kind its list is: the mean genre overlap.
SIMILAR_METRICS = (*METRICS, "genre_kinship_at_10")


def suffixed(metric: str, k: int) -> str:
    """``ndcg_at_10`` with ``k`` picks revealed → ``ndcg_at_10_k3``."""
    return f"{metric}_k{k}"


def protocol_metrics(protocol: str | None) -> tuple[str, ...]:
    """The metrics each model of a ``protocol`` run carries, in display order. Under
    ``onepick`` every ranking metric comes once per number of picks; ``similar`` adds
    the lists' genre kinship; ``onepick`` and ``similar`` predict no stars (RMSE and MAE
    null)."""
    if protocol == "onepick":
        return ("rmse", "mae", *(suffixed(m, k) for k in PICK_COUNTS for m in RANKING_METRICS))
    if protocol == "similar":
        return SIMILAR_METRICS
    return METRICS


def required_metrics(protocol: str | None) -> tuple[str, ...]:
    """What a saved evaluation of ``protocol`` must hold (older runs lack newer metrics)."""
    if protocol == "onepick":
        return protocol_metrics(protocol)
    return CORE_METRICS


@dataclass(frozen=True)
class RankingTask:
    """Who is ranked, over which movies, and what counts as a hit.

    user_ids: [n_users] users with at least one relevant held-out movie.
    movie_ids: [n_items] the candidate movies (the preset's movies).
    seen: [n_users, n_items] bool, rated in training: never recommended.
    relevant: [n_users, n_items] bool, held out with ≥ RELEVANT_STARS and not seen.
    head: [n_items] bool, among the training data's HEAD_SIZE most-rated movies.
    blockbuster: [n_items] bool, among its BLOCKBUSTERS most-rated.
    """

    user_ids: np.ndarray
    movie_ids: np.ndarray
    seen: np.ndarray
    relevant: np.ndarray
    head: np.ndarray | None = None
    blockbuster: np.ndarray | None = None


def most_rated(ratings: pd.DataFrame, n: int) -> np.ndarray:
    """The movieIds of the ``n`` most-rated movies of ``ratings`` (a rating's stars do not
    matter), most first; equal counts in movieId order, so the list is deterministic."""
    counts = ratings[MOVIE_ID].astype("int64").value_counts()
    order = np.lexsort((counts.index.to_numpy(), -counts.to_numpy()))
    return counts.index.to_numpy()[order[:n]]


def popularity_masks(
    train_ratings: pd.DataFrame, movie_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """([n_items] head, [n_items] blockbuster): which candidates are among the training
    data's HEAD_SIZE and BLOCKBUSTERS most-rated movies."""
    movie_ids = np.asarray(movie_ids, "int64")
    head = np.isin(movie_ids, most_rated(train_ratings, HEAD_SIZE))
    blockbuster = np.isin(movie_ids, most_rated(train_ratings, BLOCKBUSTERS))
    return head, blockbuster


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
    head, blockbuster = popularity_masks(data.train_ratings, movie_ids)
    return RankingTask(
        user_ids=user_ids[judged],
        movie_ids=movie_ids,
        seen=seen[judged],
        relevant=relevant[judged],
        head=head,
        blockbuster=blockbuster,
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


def ranking_metrics(
    top: np.ndarray, task: RankingTask, rng: int | np.random.Generator | None = None
) -> dict[str, float]:
    """Mean P@k, R@k, NDCG@k, AP@k over the task's users, catalogue coverage,
    personalization (pairs of users drawn with ``rng``), tail NDCG@k and blockbusters@k
    (NaN when the task has no popularity masks)."""
    valid = top >= 0
    safe_top = np.where(valid, top, 0)
    hits = np.take_along_axis(task.relevant, safe_top, axis=1) & valid
    per_user = ranking_from_hits(hits, task.relevant.sum(axis=1))
    n_items = len(task.movie_ids)
    shown = np.unique(top[valid]).size
    tail_ndcg = blockbusters = float("nan")
    if task.head is not None and task.blockbuster is not None:
        tail = task.relevant & ~task.head[None, :]
        tail_hits = np.take_along_axis(tail, safe_top, axis=1) & valid
        tail_ndcg = mean_over_users(ranking_from_hits(tail_hits, tail.sum(axis=1))["ndcg"])
        blockbusters = float((task.blockbuster[safe_top] & valid).sum(axis=1).mean())
    return {
        "precision_at_10": mean_over_users(per_user["precision"]),
        "recall_at_10": mean_over_users(per_user["recall"]),
        "ndcg_at_10": mean_over_users(per_user["ndcg"]),
        "map_at_10": mean_over_users(per_user["ap"]),
        "coverage": shown / n_items if n_items else float("nan"),
        "personalization": personalization(top, rng),
        "tail_ndcg_at_10": tail_ndcg,
        "blockbusters_at_10": blockbusters,
    }


def genre_kinship(top: np.ndarray, picks: np.ndarray, flags: np.ndarray) -> float:
    """The mean over users of the mean genre overlap (Jaccard) between each user's pick
    ``picks`` [n_users] and the movies of their list ``top`` [n_users, k] (-1 = none);
    ``flags`` [n_items, genres], non-zero = has the genre. NaN when no list has a movie."""
    valid = top >= 0
    each = genre_jaccard(flags[picks], flags)  # [n_users, n_items]
    overlap = np.take_along_axis(each, np.where(valid, top, 0), axis=1) * valid
    shown = valid.sum(axis=1)
    per_user = overlap.sum(axis=1) / np.maximum(shown, 1)
    return float(per_user[shown > 0].mean()) if (shown > 0).any() else float("nan")


def score_model(
    scorer: Baseline | TwoTowerScorer,
    data: EvaluationData,
    task: RankingTask,
    rng: int | np.random.Generator | None,
) -> dict[str, float]:
    """Every metric of ``METRICS`` for one fitted model (ratings in stars)."""
    test = data.test_ratings
    actual = test[RATING].to_numpy("float64")
    if scorer.predicts_ratings:
        predicted = scorer.predict(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
        rating = {"rmse": rmse(predicted, actual), "mae": mae(predicted, actual)}
    else:
        rating = {"rmse": float("nan"), "mae": float("nan")}
    # A model that cannot rank every movie for every user cheaply says so (``ranks``).
    if len(task.user_ids) and getattr(scorer, "ranks", True):
        rng = np.random.default_rng(rng)
        scores = scorer.scores(task.user_ids, task.movie_ids)
        ranking = ranking_metrics(top_k(scores, task.seen, TOP_K, rng), task, rng)
    else:
        ranking = dict.fromkeys(METRICS[2:], float("nan"))
    return {**rating, **ranking}
