"""Section ``train``: the lab recipe against our fast recipe, on the same split."""

from __future__ import annotations

import time

import numpy as np

from bench.common import log, ratio, rounded
from bench.plan import Plan
from recsys.config import TrainConfig, recipe_config
from recsys.model.lab.train import LabSplit

WARMUP_ROWS = 512


def _rows(split: LabSplit, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training rows (scaled), the first ``limit`` of them when a limit is set."""
    rows = slice(None) if limit is None else slice(0, limit)
    return split.user_train[rows], split.item_train[rows], split.y_train[rows]


def _warm_up(split: LabSplit) -> None:
    """One tiny fit, so that neither timed recipe pays TensorFlow's first-use costs."""
    from recsys.model.lab import network as two_tower

    users, items, y = _rows(split, WARMUP_ROWS)
    two_tower.fit(users, items, y, recipe_config("fast", epochs=1, batch_size=128))


def _fit_and_score(split: LabSplit, config: TrainConfig, limit: int | None) -> dict:
    """Wall seconds of ``fit`` (model build, compile, every epoch), epoch times, test MSE."""
    from recsys.model.lab import network as two_tower

    users, items, y = _rows(split, limit)
    epoch_ends: list[float] = []
    start = time.perf_counter()
    fitted = two_tower.fit(
        users, items, y, config, progress=lambda *_: epoch_ends.append(time.perf_counter())
    )
    wall = time.perf_counter() - start
    test_mse = two_tower.evaluate_mse(fitted.model, split.user_test, split.item_test, split.y_test)
    # Epoch 1 also traces the graph; the later ones are the steady state.
    steady = np.diff(epoch_ends)
    return {
        "seconds": wall,
        "fit_seconds": fitted.seconds,
        "epochs": fitted.epochs_run,
        "epoch_median_s": float(np.median(steady)) if len(steady) else None,
        "test_mse": test_mse,
        "train_rows": len(y),
    }


def run_train(split: LabSplit, plan: Plan) -> dict:
    """Both recipes in this process on ``split``: fast, lab, fast again.

    The fast recipe runs before and after the lab's, and ``fast_s`` is the mean of the
    two, so that a load that drifts on a shared machine weighs on both recipes alike.
    ``lab_s``/``fast_s`` are wall seconds of the whole ``fit`` call; the test MSE
    (scaled [-1, 1] units) is over the same held-out 20% for both.
    """
    lab_config = recipe_config("lab", epochs=plan.lab_epochs)
    fast_config = recipe_config("fast", epochs=plan.fast_epochs)
    if plan.warm_up:
        log("train: warm-up fit")
        _warm_up(split)
    runs = {}
    for name, config in (("fast", fast_config), ("lab", lab_config), ("fast_again", fast_config)):
        log(f"train: {name} ({config.epochs} epochs, batch {config.batch_size})")
        runs[name] = _fit_and_score(split, config, plan.train_rows)
        log(f"train: {name} {runs[name]['seconds']:.1f} s, test MSE {runs[name]['test_mse']:.4f}")
    return _summary(runs, lab_config, fast_config, plan, len(split.y_test))


def _steady_epochs(lab: dict, fast: dict, again: dict) -> tuple[float | None, float | None]:
    """Median seconds of an epoch after the first: the lab's, and the fast runs' mean."""
    if fast["epoch_median_s"] is None or again["epoch_median_s"] is None:
        return lab["epoch_median_s"], None
    return lab["epoch_median_s"], (fast["epoch_median_s"] + again["epoch_median_s"]) / 2


def _summary(runs: dict, lab_config, fast_config, plan: Plan, test_rows: int) -> dict:
    lab, fast, again = runs["lab"], runs["fast"], runs["fast_again"]
    fast_s = (fast["seconds"] + again["seconds"]) / 2
    fast_fit_s = (fast["fit_seconds"] + again["fit_seconds"]) / 2
    lab_epoch, fast_epoch = _steady_epochs(lab, fast, again)
    return {
        "lab_s": rounded(lab["seconds"], 3),
        "fast_s": rounded(fast_s, 3),
        "lab_test_mse": rounded(lab["test_mse"], 5),
        "fast_test_mse": rounded(fast["test_mse"], 5),
        "speedup": rounded(ratio(lab["seconds"], fast_s), 2),
        "fast_runs_s": [rounded(fast["seconds"], 3), rounded(again["seconds"], 3)],
        "fast_rerun_test_mse": rounded(again["test_mse"], 5),
        "lab_fit_s": rounded(lab["fit_seconds"], 3),
        "fast_fit_s": rounded(fast_fit_s, 3),
        "lab_epochs": lab["epochs"],
        "fast_epochs": fast["epochs"],
        "lab_batch_size": lab_config.batch_size,
        "fast_batch_size": fast_config.batch_size,
        "lab_s_per_epoch": rounded(lab["fit_seconds"] / max(lab["epochs"], 1), 4),
        "fast_s_per_epoch": rounded(fast_fit_s / max(fast["epochs"], 1), 4),
        "lab_steady_epoch_s": rounded(lab_epoch, 4),
        "fast_steady_epoch_s": rounded(fast_epoch, 4),
        # The speedup from median epoch times: a burst of load moves it less.
        "steady_speedup": rounded(
            ratio(lab_epoch * lab["epochs"], fast_epoch * fast["epochs"])
            if lab_epoch and fast_epoch
            else None,
            2,
        ),
        "train_rows": lab["train_rows"],
        "test_rows": test_rows,
        "subset": plan.train_rows is not None,
        "mse_not_worse": bool(fast["test_mse"] <= lab["test_mse"]),
    }
