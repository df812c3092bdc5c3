"""Section ``limit``: the arithmetic floor of one training epoch on this CPU.

FLOPs: each dense layer costs 2·in·out per row forward (a multiply and an add per
weight); a training step costs about 3× forward (forward, the gradient with respect
to the inputs, the gradient with respect to the weights). Biases, ReLU, the L2
normalisation and the dot product add under 1% and are left out.

Throughput: numpy float32 matmuls, measured here, (a) at the network's own shapes and
the recipe's batch size, forward and both backward products, and (b) on a large square
matrix, the machine's practical peak. A ceiling is the best that can be reached, so each
is the best of a few rounds, with all BLAS threads and with one (on a shared machine
either can win).
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import log, one_blas_thread, ratio, rounded

# (inputs, outputs) of each dense layer: the user tower (14 inputs), the item tower (16).
USER_LAYERS = ((14, 256), (256, 128), (128, 32))
ITEM_LAYERS = ((16, 256), (256, 128), (128, 32))
LAYERS = USER_LAYERS + ITEM_LAYERS
TRAIN_OVER_FORWARD = 3
PEAK_SIZE = 1536
MIN_SECONDS = 0.15
ROUNDS = 8


def forward_flops_per_row() -> int:
    return sum(2 * fan_in * fan_out for fan_in, fan_out in LAYERS)


def train_flops_per_row() -> int:
    return TRAIN_OVER_FORWARD * forward_flops_per_row()


def _repeat_timed(step, flops_per_step: float, min_seconds: float) -> float:
    """GFLOP/s of ``step``, repeated until ``min_seconds`` have passed (after one warm-up)."""
    step()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds or done < 3:
        step()
        done += 1
    return flops_per_step * done / elapsed / 1e9


def shaped_gflops(batch_size: int, rng: np.random.Generator, min_seconds: float) -> float:
    """Throughput of one training step's matmuls at the network's shapes (float32)."""
    layers = [
        (
            rng.standard_normal((batch_size, fan_in), dtype=np.float32),
            rng.standard_normal((fan_in, fan_out), dtype=np.float32),
            rng.standard_normal((batch_size, fan_out), dtype=np.float32),
        )
        for fan_in, fan_out in LAYERS
    ]

    def step() -> None:
        for inputs, kernel, grad_out in layers:
            inputs @ kernel  # forward
            grad_out @ kernel.T  # gradient with respect to the inputs
            inputs.T @ grad_out  # gradient with respect to the kernel

    return _repeat_timed(step, batch_size * train_flops_per_row(), min_seconds)


def peak_gflops(rng: np.random.Generator, min_seconds: float, size: int = PEAK_SIZE) -> float:
    """Throughput of a large square float32 matmul: the practical ceiling."""
    left = rng.standard_normal((size, size), dtype=np.float32)
    right = rng.standard_normal((size, size), dtype=np.float32)
    return _repeat_timed(lambda: left @ right, 2.0 * size**3, min_seconds)


def best_gflops(measure, rounds: int) -> float:
    """The best of ``rounds`` measurements each with all BLAS threads and with one."""
    best = 0.0
    for _ in range(rounds):
        best = max(best, measure())
        with one_blas_thread():
            best = max(best, measure())
    return best


def run_limit(train: dict, quick: bool) -> dict:
    """The floor per epoch against the measured seconds per epoch of both recipes."""
    rng = np.random.default_rng(0)
    min_seconds, rounds = (0.05, 1) if quick else (MIN_SECONDS, ROUNDS)
    log("limit: measuring matmul throughput")
    fast_batch, lab_batch = train.get("fast_batch_size") or 256, train.get("lab_batch_size") or 32
    peak = best_gflops(lambda: peak_gflops(rng, min_seconds), rounds)
    at_fast = best_gflops(lambda: shaped_gflops(fast_batch, rng, min_seconds), rounds)
    at_lab = best_gflops(lambda: shaped_gflops(lab_batch, rng, min_seconds), rounds)
    rows = train.get("train_rows") or 0
    gflop_epoch = rows * train_flops_per_row() / 1e9
    floor_peak = ratio(gflop_epoch, peak)
    floor_shaped = ratio(gflop_epoch, at_fast)
    fast_epoch, lab_epoch = train.get("fast_s_per_epoch"), train.get("lab_s_per_epoch")
    return {
        "params": 82_240,
        "forward_flops_per_row": forward_flops_per_row(),
        "train_flops_per_row": train_flops_per_row(),
        "rows_per_epoch": rows,
        "gflop_per_epoch": rounded(gflop_epoch, 3),
        "peak_gflops": rounded(peak, 1),
        "shaped_gflops_fast_batch": rounded(at_fast, 1),
        "shaped_gflops_lab_batch": rounded(at_lab, 1),
        "floor_s_per_epoch_peak": rounded(floor_peak, 4),
        "floor_s_per_epoch_shaped": rounded(floor_shaped, 4),
        "fast_s_per_epoch": fast_epoch,
        "lab_s_per_epoch": lab_epoch,
        "fast_over_floor_shaped": rounded(ratio(fast_epoch, floor_shaped), 1),
        "fast_over_floor_peak": rounded(ratio(fast_epoch, floor_peak), 1),
        "lab_over_floor_shaped": rounded(ratio(lab_epoch, ratio(gflop_epoch, at_lab)), 1),
        "fast_achieved_gflops": rounded(ratio(gflop_epoch, fast_epoch), 2),
    }
