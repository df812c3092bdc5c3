"""The quality gate: a new model is served only if it is not clearly worse than the
served model of the same kind.

Both are measured on the same **validation slice of the training side**: a fixed sample
(``VALIDATION_SHARE`` of the rows, at most ``VALIDATION_MAX``, drawn with
``VALIDATION_SEED`` whatever the training's own seed) of the ratings the model trains on,
never the lab split's test 20%. For the lab network it is drawn from the lab split's
train rows; for the hybrid, from every rating (it trains on all of them). The trainer
scores the freshly fitted model on it (RMSE in stars; the hybrid's user vectors come
from each user's whole history, as serving builds them) and records the figure and
what identifies the slice (data fingerprint, preset, row counts) in the manifest
(``validation``). The slice is the same for every training on the same data and preset,
so two manifests whose keys agree hold comparable figures.

The figure is in-sample: it catches a broken or badly configured training (a diverged
learning rate, too few epochs), not overfitting; the held-out measures are the
evaluation protocols (``python -m recsys evaluate``).

Tolerance: the new model is refused when its RMSE exceeds the served one's by more than
``TOLERANCE`` (10%, relative: on small synthetic data another seed moves it by up to
about 5%, one epoch instead of two by 17%, a diverged learning rate by 45% and more).
With no served model of its kind, or one measured on another slice (other data,
another preset, or made before the gate), the new model is served. A refused model is
written and kept; ``--force`` (or the app's "Serve it anyway") serves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.errors import BundleError
from recsys.model.bundle import Manifest, current_bundle, read_verified

VALIDATION_SEED = 20_260_101
VALIDATION_SHARE = 0.1
VALIDATION_MAX = 5_000
TOLERANCE = 0.10  # relative: refused when new RMSE > served RMSE × (1 + TOLERANCE)
METRIC = "rmse_stars"


def validation_rows(n_rows: int) -> np.ndarray:
    """Sorted row indices [m] of the validation slice of ``n_rows`` training rows: the
    same rows every time for the same ``n_rows`` (a seed of its own)."""
    size = min(VALIDATION_MAX, max(1, math.ceil(n_rows * VALIDATION_SHARE)), n_rows)
    rng = np.random.default_rng(VALIDATION_SEED)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def validation_record(
    rmse_stars: float, rows: np.ndarray, n_rows: int, fingerprint: str, preset: str
) -> dict:
    """The manifest's ``validation``: the figure (stars; None when not a number, as after
    a diverged training) and what identifies the slice."""
    return {
        METRIC: float(rmse_stars) if math.isfinite(rmse_stars) else None,
        "rows": int(len(rows)),
        "of_rows": int(n_rows),
        "seed": VALIDATION_SEED,
        "fingerprint": fingerprint,
        "preset": preset,
    }


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error of aligned arrays, in their units."""
    diff = np.asarray(predicted, "float64") - np.asarray(actual, "float64")
    return float(np.sqrt(np.mean(diff**2)))


def hybrid_validation_rmse(params, ratings: pd.DataFrame, rows: np.ndarray) -> float:
    """RMSE in stars of a fitted hybrid ``params`` (HybridParams) on ``ratings.iloc[rows]``;
    each user's vector is pooled from all their ``ratings`` (userId, movieId, rating)."""
    sample = ratings.iloc[rows]
    users = np.unique(sample[USER_ID].to_numpy("int64"))
    own = ratings[ratings[USER_ID].isin(users)]
    codes = np.searchsorted(users, own[USER_ID].to_numpy("int64"))
    u, user_bias = params.histories(codes, own[MOVIE_ID], own[RATING], len(users))
    at = np.searchsorted(users, sample[USER_ID].to_numpy("int64"))
    items = params.index.get_indexer(sample[MOVIE_ID].to_numpy("int64"))
    keep = items >= 0
    predicted = params.pair_stars(u[at[keep]], user_bias[at[keep]], items[keep])
    return rmse(predicted, sample[RATING].to_numpy("float64")[keep])


@dataclass(frozen=True)
class GateVerdict:
    """Whether a new model is served, and why (one line). RMSEs in stars."""

    passed: bool
    reason: str
    new_rmse: float | None = None
    served_rmse: float | None = None
    served_bundle: str | None = None
    forced: bool = False

    @property
    def serve(self) -> bool:
        return self.passed or self.forced

    def to_json(self) -> dict:
        return {**asdict(self), "tolerance": TOLERANCE, "serve": self.serve}


def _comparable(new: dict, old: object) -> bool:
    if not isinstance(old, dict) or not isinstance(old.get(METRIC), int | float):
        return False
    return all(old.get(key) == value for key, value in new.items() if key != METRIC)


def judge(
    validation: dict, served: Mapping | None, served_bundle: str | None = None
) -> GateVerdict:
    """Compare a new model's ``validation`` with the served model's manifest (None when
    there is none; a bundle made before the gate has no validation)."""
    new = validation[METRIC]
    if new is None or not math.isfinite(new):
        return GateVerdict(
            False,
            "its validation RMSE is not a number (the training diverged), so it is kept "
            "but not served",
            None,
            served_bundle=served_bundle,
        )
    if served is None:
        return GateVerdict(True, "no model of this kind is served yet", new)
    old_validation = Manifest.from_json(served).validation
    if not _comparable(validation, old_validation):
        return GateVerdict(
            True,
            "the served model was measured on another validation slice (other data, "
            "another preset, or made before the gate); serving the new one",
            new,
            served_bundle=served_bundle,
        )
    old = float(old_validation[METRIC])
    worse = new > old * (1 + TOLERANCE)
    change = f"validation RMSE {new:.3f} ★ vs the served model's {old:.3f} ★"
    if worse:
        reason = f"{change}: more than {TOLERANCE:.0%} worse, so it is kept but not served"
    else:
        reason = f"{change}: within {TOLERANCE:.0%}, so it is served"
    return GateVerdict(not worse, reason, new, old, served_bundle)


def judge_against_served(
    artifacts_dir: Path, model: str, validation: dict, force: bool = False
) -> GateVerdict:
    """The verdict against the served bundle of ``model`` in ``artifacts_dir``. A served
    bundle that is damaged (any file off its checksum) is no reference: the new model is
    served. ``force`` serves it whatever the verdict (recorded as ``forced``)."""
    try:
        bundle = current_bundle(artifacts_dir, model)
        manifest = read_verified(bundle, ())[0]
        served = manifest if manifest.model == model else None
        name = bundle.name
    except BundleError:
        served, name = None, None
    verdict = judge(validation, served, name)
    if force and not verdict.passed:
        return GateVerdict(**{**asdict(verdict), "forced": True})
    return verdict
