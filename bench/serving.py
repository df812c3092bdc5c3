"""Sections ``new_user`` and ``nearest``: the lab's paths against our Recommender."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from bench import lab
from bench.common import log, one_blas_thread, percentile, ratio, rounded, time_calls
from bench.plan import Plan
from recsys.columns import GENRE_LIST, ITEM_VECTOR_COLUMNS, MOVIE_ID, TITLE
from recsys.serving.recommender import Recommender
from recsys.serving.scoring import lab_user_vector

# The lab's example new user: loves Adventure and Fantasy.
LAB_EXAMPLE = {"Adventure": 5.0, "Fantasy": 5.0}
WARMUP_CALLS = 2


def genre_profiles(n: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """``n`` new users: the lab's example, then users rating 1 to 4 random genres."""
    profiles = [dict(LAB_EXAMPLE)]
    while len(profiles) < n:
        chosen = rng.choice(len(GENRE_LIST), size=rng.integers(1, 5), replace=False)
        stars = rng.integers(1, 11, size=len(chosen)) / 2.0
        profiles.append({GENRE_LIST[g]: float(s) for g, s in zip(chosen, stars)})
    return profiles


def _timing(times_ms: np.ndarray) -> dict:
    return {
        "median": percentile(times_ms, 50),
        "p99": percentile(times_ms, 99),
        "calls": int(len(times_ms)),
    }


def _top10_overlap(rec: Recommender, model, item_vecs, profiles) -> float:
    """Mean share of the lab's top 10 that ours also returns (float rounding can swap ties)."""
    movie_ids = rec.items[MOVIE_ID].to_numpy()
    shares = []
    for profile in profiles:
        rows, _ = lab.new_user_top(model, rec.scoring.scalers, item_vecs, lab_user_vector(profile))
        ours = set(rec.for_new_user(profile, top=10)[MOVIE_ID].tolist())
        shares.append(len(ours & set(movie_ids[rows].tolist())) / 10.0)
    return float(np.mean(shares))


Setting = Callable[[], contextlib.AbstractContextManager]


def interleaved(
    lab_call, our_call, settings: dict[str, Setting], lab_n: int, our_n: int
) -> tuple[list[float], dict[str, list[float]]]:
    """([lab_n] ms, {setting: [our_n] ms}), timed in alternation.

    After each lab call, ``our_call`` runs an equal share of its calls under each of
    ``settings`` (entered around the share, outside the timing), so that all of them
    see the same load on a shared machine. Calls get their index.
    """
    share = -(-our_n // lab_n)
    lab_times: list[float] = []
    our_times: dict[str, list[float]] = {name: [] for name in settings}
    for i in range(lab_n):
        lab_times.extend(time_calls(lambda _, i=i: lab_call(i), 1))
        first = i * share
        count = max(0, min(share, our_n - first))
        for name, setting in settings.items():
            with setting():
                our_times[name].extend(
                    time_calls(lambda j, first=first: our_call(first + j), count)
                )
    return lab_times, our_times


def run_new_user(rec: Recommender, model, plan: Plan) -> dict:
    """Median and p99 ms of a new user's top 10: the lab's path and ``for_new_user``.

    ``median_ms``/``p99_ms`` are ours as the code runs by default; the ``one_thread``
    figures are the same calls with numpy's BLAS limited to one thread.
    """
    profiles = genre_profiles(
        max(plan.new_user_calls, plan.lab_new_user_calls), np.random.default_rng(0)
    )
    item_vecs = rec.items[list(ITEM_VECTOR_COLUMNS)].to_numpy(dtype="float64")

    def lab_call(i: int) -> None:
        lab.new_user_top(model, rec.scoring.scalers, item_vecs, lab_user_vector(profiles[i]))

    def our_call(i: int) -> None:
        rec.for_new_user(profiles[i], top=10)

    log(f"new_user: lab path x{plan.lab_new_user_calls}, ours x{plan.new_user_calls}, interleaved")
    time_calls(lab_call, WARMUP_CALLS)
    time_calls(our_call, WARMUP_CALLS)
    lab_times, ours = interleaved(
        lab_call,
        our_call,
        {"default": contextlib.nullcontext, "one_thread": one_blas_thread},
        plan.lab_new_user_calls,
        plan.new_user_calls,
    )
    lab_ms, our_ms, one_ms = (_timing(t) for t in (lab_times, ours["default"], ours["one_thread"]))
    overlap_profiles = profiles[: 2 if plan.quick else 5]
    return {
        "lab_median_ms": rounded(lab_ms["median"], 3),
        "median_ms": rounded(our_ms["median"], 4),
        "p99_ms": rounded(our_ms["p99"], 4),
        "speedup": rounded(ratio(lab_ms["median"], our_ms["median"]), 1),
        "lab_p99_ms": rounded(lab_ms["p99"], 3),
        "lab_calls": lab_ms["calls"],
        "calls": our_ms["calls"],
        "one_thread_median_ms": rounded(one_ms["median"], 4),
        "one_thread_p99_ms": rounded(one_ms["p99"], 4),
        "one_thread_speedup": rounded(ratio(lab_ms["median"], one_ms["median"]), 1),
        "items": int(len(item_vecs)),
        "top10_overlap": rounded(_top10_overlap(rec, model, item_vecs, overlap_profiles), 3),
    }


def _timed_seconds(call, repeats: int) -> tuple[list[float], object]:
    """([repeats] seconds, the last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return times, result


def _nearest_both_ways(rec: Recommender, repeats: int) -> tuple[list, list, object]:
    """``nearest_table`` timed alternately by default and with one BLAS thread."""
    default, one_thread, table = [], [], None
    for _ in range(repeats):
        times, table = _timed_seconds(rec.nearest_table, 1)
        default += times
        with one_blas_thread():
            one_thread += _timed_seconds(rec.nearest_table, 1)[0]
    return default, one_thread, table


def run_nearest(rec: Recommender, plan: Plan) -> dict:
    """Every movie's nearest neighbour: the lab's double loop against ``nearest_table``.

    With ``plan.lab_nearest_items`` set (``--quick``), the lab loop runs on that many
    movies and its time is scaled by (n / subset)², exact for a loop whose every pair
    costs the same; the result says so.
    """
    vms = rec.item_embeddings
    n = len(vms)
    subset = n if plan.lab_nearest_items is None else min(plan.lab_nearest_items, n)
    log(
        f"nearest: ours x{plan.nearest_repeats}, around the lab loop on {subset} of {n} "
        f"movies ({subset * subset:,} pairs)"
    )
    half = max(1, plan.nearest_repeats // 2)
    before, before_one, _ = _nearest_both_ways(rec, half)
    start = time.perf_counter()
    lab_rows = lab.nearest(vms[:subset])
    lab_timed = time.perf_counter() - start
    after, after_one, table = _nearest_both_ways(rec, max(1, plan.nearest_repeats - half))
    lab_s = lab_timed * (n / subset) ** 2
    ours_s = float(np.median(before + after))
    one_thread_s = float(np.median(before_one + after_one))
    result = {
        "lab_s": rounded(lab_s, 4),
        "ours_s": rounded(ours_s, 6),
        "speedup": rounded(ratio(lab_s, ours_s), 0),
        "items": n,
        "one_thread_s": rounded(one_thread_s, 6),
        "one_thread_speedup": rounded(ratio(lab_s, one_thread_s), 0),
        "lab_items_timed": subset,
        "lab_timed_s": rounded(lab_timed, 4),
        "lab_extrapolated": subset < n,
        "agreement": None,
    }
    if subset == n:
        titles = rec.items[TITLE].to_numpy()
        result["agreement"] = rounded(float(np.mean(titles[lab_rows] == table["movie2"])), 4)
    return result
