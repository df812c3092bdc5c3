"""The ``scale`` measurements, in a fresh process so its peak memory is its own.

``python -m bench.scale_worker FOLDER --queries N`` loads a MovieLens-format folder,
builds the ``full`` preset's features, then serves from a Recommender built in memory
with random weights (no Keras): item embeddings for every movie, new-user top 10 and
similar-movies queries over all movies, for the lab's network and for the hybrid model
(``hybrid_*``: 5 picked movies and two genre ratings per new user, its 64-d movie
space). Prints one JSON object. ``--build-only``: loading and features only (the ml-32m
measurement).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import one_blas_thread, peak_rss_mb, percentile, rss_mb, time_calls
from bench.limit import ITEM_LAYERS, USER_LAYERS
from bench.serving import genre_profiles
from recsys.columns import (
    GENRE_LIST,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    USER_VECTOR_COLUMNS,
)
from recsys.config import preset_config
from recsys.dataset.movielens import load_movielens
from recsys.model.features import build_features
from recsys.model.hybrid.fold_in import FoldIn
from recsys.model.hybrid.layout import DENSE, N_GENRES, N_HEAD
from recsys.model.hybrid.neighbour_table import (
    MAX_COVERED,
    SIMILAR_TOP_K,
    TOP_K,
    NeighbourTable,
    SparseRows,
)
from recsys.model.hybrid.params import HybridParams
from recsys.model.lab.towers import ITEM_TOWER, LAYERS, USER_TOWER, Towers, weight_key
from recsys.model.scaling import Scalers
from recsys.serving.bundle import DecodedBundle
from recsys.serving.recommender import Recommender

PRESET = "full"
QUERY_BLOCK = 50


def random_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and zero biases for both towers, float32."""
    weights = {}
    for tower, layers in ((USER_TOWER, USER_LAYERS), (ITEM_TOWER, ITEM_LAYERS)):
        for layer, (fan_in, fan_out) in zip(LAYERS, layers, strict=True):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            kernel = rng.uniform(-limit, limit, (fan_in, fan_out))
            weights[weight_key(tower, layer, "kernel")] = kernel.astype(np.float32)
            weights[weight_key(tower, layer, "bias")] = np.zeros(fan_out, np.float32)
    return weights


def _recommender(items, users, ratings, weights, scalers, embeddings, manifest=None) -> Recommender:
    """A Recommender over a bundle built in memory (no files)."""
    decoded = DecodedBundle(
        path=None,
        manifest=manifest or {},
        manifest_hash="synthetic",
        weights=weights,
        scalers=scalers,
        items=items,
        users=users,
        ratings=ratings,
        history={},
        item_embeddings=embeddings,
    )
    return Recommender(decoded)


def random_hybrid(
    items, rng: np.random.Generator, dim: int = 64, hidden: int = 256
) -> HybridParams:
    """A hybrid model of the default widths over ``items``, with random weights."""
    n, flags = len(items), items[list(GENRE_LIST)].to_numpy(np.float32)
    counts = items[NUM_RATINGS].to_numpy(np.int64)
    taste = rng.normal(0, 0.3, (n, dim)).astype(np.float32)
    zeros = np.zeros_like(flags)  # the rating head's dims take no part in the ranking
    item_vecs = np.concatenate([taste, np.log1p(counts)[:, None], flags, zeros], axis=1)
    n_in, n_out = DENSE.width + 2 * dim, dim + N_HEAD
    params = HybridParams(
        movie_ids=items[MOVIE_ID].to_numpy(np.int64),
        item_vecs=item_vecs.astype(np.float32),
        rank_bias=np.zeros(n),
        star_bias=np.zeros(n),
        counts=counts,
        baseline_bias=np.zeros(n),
        flags=flags,
        user_layers=(
            (rng.normal(0, 0.05, (n_in, hidden)).astype(np.float32), np.zeros(hidden, np.float32)),
            (rng.normal(0, 0.05, (hidden, n_out)).astype(np.float32), np.zeros(n_out, np.float32)),
        ),
        genre_weight=np.ones(N_GENRES, np.float32),
        star_vecs=flags,
        star_genre_weight=np.ones(N_GENRES, np.float32),
        mu=3.5,
        alpha=0.1,
        pop_prior=0.5,
        fold_in=FoldIn(),  # a new user's picks are folded in, as the trained model does
        neighbours=random_neighbours(counts, rng),
    )
    return params


def random_neighbours(counts: np.ndarray, rng: np.random.Generator) -> NeighbourTable:
    """The item-to-item tables of the trained ones' shapes: the most-rated movies (at most
    the fit's cap) each with ``TOP_K`` random neighbours for the pick term and
    ``SIMILAR_TOP_K`` for Similar movies, largest weight first."""
    term = _random_rows(counts, TOP_K, rng)
    similar = _random_rows(counts, SIMILAR_TOP_K, rng)
    return NeighbourTable(term.indptr, term.columns, term.weights, similar=similar)


def _random_rows(counts: np.ndarray, top_k: int, rng: np.random.Generator) -> SparseRows:
    n = len(counts)
    covered = np.sort(np.argsort(-counts, kind="stable")[: min(MAX_COVERED, n)])
    k = min(top_k, n - 1)
    lengths = np.zeros(n, dtype=np.int64)
    lengths[covered] = k
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    columns = rng.integers(0, n, len(covered) * k).astype(np.int32)
    weights = -np.sort(-rng.random((len(covered), k)), axis=1).astype(np.float32)
    return SparseRows(indptr, columns, weights.reshape(-1))


def load_and_build(folder: Path):
    """(the full preset's TrainingSet, its counts with the seconds of loading and of
    loading + features and the peak memory so far)."""
    rss_start = rss_mb()
    start = time.perf_counter()
    dataset = load_movielens(folder)
    load_s = time.perf_counter() - start
    training = build_features(dataset, preset_config(PRESET))
    figures = {
        "ratings": int(len(dataset.ratings)),
        "movies": int(len(training.items)),
        "users": int(len(training.users)),
        "training_rows": int(len(training.y)),
        "load_s": load_s,
        "build_s": time.perf_counter() - start,
        "peak_rss_mb": peak_rss_mb(),
        "rss_start_mb": rss_start,
    }
    return training, figures


def measure(folder: Path, queries: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    training, figures = load_and_build(folder)
    items, users, ratings = training.items, training.users, training.ratings
    del training  # serving keeps only the tables

    item_vecs = items[list(ITEM_VECTOR_COLUMNS)].to_numpy(dtype="float64")
    scalers = Scalers.fit(
        users[list(USER_VECTOR_COLUMNS)].to_numpy("float64"),
        item_vecs,
        ratings[RATING].to_numpy("float64"),
    )
    weights = random_weights(rng)
    towers = Towers(weights)
    start = time.perf_counter()
    embeddings = towers.items(scalers.item_inputs(item_vecs))
    embed_s = time.perf_counter() - start
    start = time.perf_counter()
    rec = _recommender(items, users, ratings, weights, scalers, embeddings)
    serve_build_s = time.perf_counter() - start
    params = random_hybrid(items, rng)
    hybrid = _recommender(
        items,
        users,
        ratings,
        params.to_arrays(),
        scalers,
        params.taste_vecs,
        manifest={"model": "hybrid"},
    )
    hybrid_times = _query_times(hybrid, queries, rng, picks=5)
    return {
        **figures,
        "embed_s": embed_s,
        "recommender_build_s": serve_build_s,
        **_query_times(rec, queries, rng),
        **{f"hybrid_{k}": v for k, v in hybrid_times.items() if k != "queries"},
        "peak_rss_total_mb": peak_rss_mb(),
    }


def _query_times(rec: Recommender, queries: int, rng: np.random.Generator, picks: int = 0) -> dict:
    """Median and p99 ms of both queries, by default and with one BLAS thread, in
    alternating blocks (the same load for both). ``picks``: movies each new user
    picked (4 stars each), besides the genre ratings."""
    profiles = genre_profiles(queries, rng)
    all_ids = rec.items[MOVIE_ID].to_numpy()
    movie_ids = rng.choice(all_ids, size=queries)
    picked = [dict.fromkeys(rng.choice(all_ids, picks).tolist(), 4.0) for _ in range(queries)]
    for i in range(3):  # warm-up
        rec.for_new_user(profiles[i], picked[i])
        rec.similar(int(movie_ids[i]), 10)
    times: dict[str, list[float]] = {}
    for first in range(0, queries, QUERY_BLOCK):
        count = min(QUERY_BLOCK, queries - first)
        for mode, limit in (("", contextlib.nullcontext), ("one_thread_", one_blas_thread)):
            with limit():
                new_user = time_calls(
                    lambda i, first=first: rec.for_new_user(profiles[first + i], picked[first + i]),
                    count,
                )
                similar = time_calls(
                    lambda i, first=first: rec.similar(int(movie_ids[first + i]), 10), count
                )
            times.setdefault(f"{mode}new_user", []).extend(new_user)
            times.setdefault(f"{mode}similar", []).extend(similar)
    summary: dict = {"queries": queries}
    for name, values in times.items():
        summary[f"{name}_ms"] = percentile(values, 50)
        summary[f"{name}_p99_ms"] = percentile(values, 99)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_worker")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--build-only", action="store_true", help="load and features only")
    args = parser.parse_args(argv)
    if args.build_only:
        print(json.dumps(load_and_build(args.folder)[1]))
    else:
        print(json.dumps(measure(args.folder, args.queries, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
