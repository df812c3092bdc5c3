"""Section ``scale``: synthetic MovieLens-format data at ml-25m and ml-32m size.

The data is written by ``python -m recsys.dataset.synth`` into a temporary folder (not
timed, deleted afterwards), then measured in fresh processes, so that each peak resident
memory is that of the measured work alone:

- ``bench.scale_worker``: loading, features and serving queries at ml-25m size, and
  loading and features alone at ml-32m size (``ml32m_build_s``, ``ml32m_peak_rss_mb``).
- ``bench.scale_train``: the lab network's training throughput on rows of the ml-25m-size
  set, the fast recipe's 256 rows a worker a step, second epoch timed: in one process
  (``model.fit``, ``train_rows_per_s_1``), as the one worker of a
  MultiWorkerMirroredStrategy (``train_rows_per_s_1_strategy``) and as two local
  workers (``train_rows_per_s_2``). ``allreduce_overhead`` is the ms a step that the
  second worker adds to the one-worker strategy at the same rows a worker a step: the
  all-reduce of the gradients and, on a machine of few cores, the two workers' share of
  them. ``train_peak_rss_mb_per_worker``: the larger of the two workers' peaks.
- The same for the hybrid model (``hybrid_``-prefixed keys, full bench only): every
  rating of a sample of users holding about ``scale_hybrid_rows`` ratings, over the
  whole catalogue, its recipe's 1,024 targets a worker a step.
- ``bruteforce_1m_ms``: the median ms of an exact top 10 by dot product over 1M
  synthetic 32-d item embeddings (in this process: one matrix-vector product and a
  partial sort, as serving ranks).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from bench.common import log, percentile, rounded, subprocess_env, time_calls
from bench.plan import Plan
from recsys.model.distributed.cluster import TF_CONFIG, local_tf_configs, network_for_local_workers
from recsys.settings import PROJECT_ROOT

SEED = 0


def _run(command: list[str]) -> str:
    """Run a Python module; its stdout (one JSON object). Its stderr passes through."""
    done = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} exited with {done.returncode}")
    return done.stdout


def write_data(folder: Path, users: int, movies: int, ratings: int) -> float:
    """Seconds taken to write a synthetic dataset of that shape into ``folder``."""
    start = time.perf_counter()
    _run(
        [
            "-m",
            "recsys.dataset.synth",
            str(folder),
            "--users",
            str(users),
            "--movies",
            str(movies),
            "--ratings",
            str(ratings),
            "--seed",
            str(SEED),
            "--json",
        ]
    )
    return time.perf_counter() - start


def run_scale(plan: Plan, work: Path, existing: Path | None = None) -> dict:
    """Measure on ``existing`` (a MovieLens folder) or on freshly written synthetic data."""
    folder = existing or work / "synthetic-scale"
    generate_s = None
    try:
        if existing is None:
            log(f"scale: writing {plan.scale_ratings:,} synthetic ratings (not timed)")
            generate_s = write_data(folder, plan.scale_users, plan.scale_movies, plan.scale_ratings)
        log("scale: load, features and queries in a fresh process")
        measured = json.loads(
            _run(["-m", "bench.scale_worker", str(folder), "--queries", str(plan.scale_queries)])
        )
        training = train_throughput(folder, plan, work)
        training |= train_throughput(folder, plan, work, model="hybrid")
    finally:
        if existing is None:
            shutil.rmtree(folder, ignore_errors=True)
    brute = bruteforce_ms(plan.bruteforce_items, plan.bruteforce_queries)
    return {
        **_summary(measured, generate_s, synthetic=existing is None),
        **training,
        **ml32m_build(plan, work),
        "bruteforce_1m_ms": rounded(brute, 3),
        "bruteforce_items": plan.bruteforce_items,
    }


def train_throughput(folder: Path, plan: Plan, work: Path, model: str = "lab") -> dict:
    """A model's training rows a second in one process, as one worker under the strategy
    and as two local workers; the all-reduce overhead; each worker's peak. The lab
    network's keys are bare (``train_rows_per_s_1``), the hybrid's ``hybrid_``-prefixed
    (rows: ratings of a sample of users; None in a plan without them)."""
    lab = model == "lab"
    rows = plan.scale_train_rows if lab else plan.scale_hybrid_rows
    batch = plan.scale_train_batch if lab else plan.scale_hybrid_batch
    prefix = "" if lab else "hybrid_"
    names = ("train_rows_per_s_1", "train_rows_per_s_1_strategy", "train_rows_per_s_2")
    names += ("train_step_ms_1", "train_step_ms_1_strategy", "train_step_ms_2")
    names += ("allreduce_overhead",)
    names += ("train_peak_rss_mb_per_worker", "train_rows", "train_rows_per_worker_step")
    if not rows:
        return {f"{prefix}{name}": None for name in names}
    runs = {}
    for name, workers, what in (
        ("1", None, "one process"),
        ("1_strategy", 1, "one worker under the strategy"),
        ("2", 2, "two local workers"),
    ):
        log(f"scale: {model} training throughput, {what}")
        runs[name] = _train_run(folder, model, rows, batch, workers, work)
    figures = {f"train_rows_per_s_{k}": rounded(r["rows_per_s"], 0) for k, r in runs.items()}
    figures |= {f"train_step_ms_{k}": rounded(r["step_ms"], 2) for k, r in runs.items()}
    overhead = runs["2"]["step_ms"] - runs["1_strategy"]["step_ms"]
    figures |= {
        "allreduce_overhead": rounded(overhead, 2),
        "train_peak_rss_mb_per_worker": rounded(runs["2"]["peak_rss_mb"], 1),
        "train_rows": runs["1"]["rows"],
        "train_rows_per_worker_step": batch,
    }
    return {f"{prefix}{name}": value for name, value in figures.items()}


def _train_run(
    folder: Path, model: str, rows: int, batch: int, workers: int | None, work: Path
) -> dict:
    """``bench.scale_train`` in one process (``workers`` None) or as that many local
    workers; the chief's figures with the largest peak memory of the workers."""
    command = [
        sys.executable,
        "-m",
        "bench.scale_train",
        str(folder),
        "--model",
        model,
        "--rows",
        str(rows),
        "--batch",
        str(batch),
    ]
    if workers is None:
        return json.loads(_run(command[1:]))
    procs, outs = [], []
    with ExitStack() as stack:  # the workers' ports: in a private network (cluster.py)
        network = network_for_local_workers(stack, workers)
        ports = None if network is None else network.ports(workers)
        for i, tf_config in enumerate(local_tf_configs(workers, ports)):
            out = work / f"scale-train-{i}.json"
            outs.append(out)
            with open(out, "wb") as stream:
                procs.append(
                    subprocess.Popen(
                        command,
                        cwd=PROJECT_ROOT,
                        env=subprocess_env(**{TF_CONFIG: tf_config}),
                        stdout=stream,
                        stdin=subprocess.DEVNULL,
                        preexec_fn=None if network is None else network.enter,
                    )
                )
        try:
            codes = [proc.wait(timeout=3600) for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    if any(codes):
        raise RuntimeError(f"bench.scale_train workers exited with {codes}")
    results = [json.loads(out.read_text()) for out in outs]
    return {**results[0], "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}


def ml32m_build(plan: Plan, work: Path) -> dict:
    """Loading and features at ml-32m's size (synthetic), in a fresh process."""
    folder = work / "synthetic-ml32m"
    try:
        log(f"scale: writing {plan.ml32m_ratings:,} synthetic ratings, ml-32m's shape (not timed)")
        generate_s = write_data(folder, plan.ml32m_users, plan.ml32m_movies, plan.ml32m_ratings)
        log("scale: ml-32m load and features in a fresh process")
        measured = json.loads(_run(["-m", "bench.scale_worker", str(folder), "--build-only"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "ml32m_build_s": rounded(measured["build_s"], 2),
        "ml32m_peak_rss_mb": rounded(measured["peak_rss_mb"], 1),
        "ml32m_ratings": measured["ratings"],
        "ml32m_users": measured["users"],
        "ml32m_movies": measured["movies"],
        "ml32m_load_s": rounded(measured["load_s"], 2),
        "ml32m_generate_s": rounded(generate_s, 1),
    }


def bruteforce_ms(n_items: int, queries: int, seed: int = SEED) -> float | None:
    """Median ms of an exact top 10 over ``n_items`` random 32-d float32 embeddings."""
    rng = np.random.default_rng(seed)
    item_vecs = rng.standard_normal((n_items, 32), dtype=np.float32)
    user_vecs = rng.standard_normal((queries, 32), dtype=np.float32)

    def top10(i: int) -> np.ndarray:
        scores = item_vecs @ user_vecs[i]
        best = np.argpartition(-scores, 9)[:10]
        return best[np.argsort(-scores[best])]

    top10(0)  # warm-up
    return percentile(time_calls(top10, queries), 50)


def _summary(measured: dict, generate_s: float | None, synthetic: bool) -> dict:
    return {
        "ratings": measured["ratings"],
        "build_s": rounded(measured["build_s"], 2),
        "peak_rss_mb": rounded(measured["peak_rss_mb"], 1),
        "embed_s": rounded(measured["embed_s"], 4),
        "new_user_ms": rounded(measured["new_user_ms"], 3),
        "similar_ms": rounded(measured["similar_ms"], 3),
        "users": measured["users"],
        "movies": measured["movies"],
        "training_rows": measured["training_rows"],
        "load_s": rounded(measured["load_s"], 2),
        "features_s": rounded(measured["build_s"] - measured["load_s"], 2),
        "peak_rss_total_mb": rounded(measured["peak_rss_total_mb"], 1),
        "rss_start_mb": rounded(measured["rss_start_mb"], 1),
        "recommender_build_s": rounded(measured["recommender_build_s"], 2),
        "new_user_p99_ms": rounded(measured["new_user_p99_ms"], 3),
        "similar_p99_ms": rounded(measured["similar_p99_ms"], 3),
        "one_thread_new_user_ms": rounded(measured["one_thread_new_user_ms"], 3),
        "one_thread_similar_ms": rounded(measured["one_thread_similar_ms"], 3),
        "one_thread_new_user_p99_ms": rounded(measured["one_thread_new_user_p99_ms"], 3),
        "one_thread_similar_p99_ms": rounded(measured["one_thread_similar_p99_ms"], 3),
        "hybrid_new_user_ms": rounded(measured["hybrid_new_user_ms"], 3),
        "hybrid_similar_ms": rounded(measured["hybrid_similar_ms"], 3),
        "hybrid_new_user_p99_ms": rounded(measured["hybrid_new_user_p99_ms"], 3),
        "hybrid_similar_p99_ms": rounded(measured["hybrid_similar_p99_ms"], 3),
        "queries": measured["queries"],
        "synthetic": synthetic,
        "generate_s": rounded(generate_s, 1),
        "preset": "full",
    }
