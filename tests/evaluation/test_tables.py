"""The Model page's tables: a saved evaluation's numbers."""

from __future__ import annotations

import math

import pytest

from recsys.evaluation import (
    METRICS,
    MODEL_NAMES,
    evaluation_table,
    evaluation_tables,
    metric_mean,
    metric_std,
    metrics_frame,
)

ONE_SEED = {
    "protocol": "holdout",
    "models": {
        "two_tower": {"rmse": 0.9, "ndcg_at_10": 0.2, "test_mse_scaled": 0.08},
        "global_mean": {"rmse": 1.1, "ndcg_at_10": None},
    },
}
THREE_SEEDS = {
    "protocol": "holdout",
    "models": {
        "two_tower": {"rmse": {"mean": 0.9, "std": 0.01}},
        "user_mean": {"rmse": {"mean": 1.0, "std": None}},
    },
}


@pytest.mark.parametrize(
    ("value", "mean", "std"),
    [
        (0.5, 0.5, math.nan),
        ({"mean": 0.5, "std": 0.1}, 0.5, 0.1),
        ({"mean": None, "std": None}, math.nan, math.nan),
        (None, math.nan, math.nan),
        ("n/a", math.nan, math.nan),
    ],
)
def test_a_saved_metric_reads_as_mean_and_std(value, mean, std):
    assert metric_mean(value) == pytest.approx(mean, nan_ok=True)
    assert metric_std(value) == pytest.approx(std, nan_ok=True)


def test_one_seed_gives_means_and_no_stds():
    means, stds = evaluation_tables(ONE_SEED)
    assert stds is None
    assert means["model"].tolist() == ["two_tower", "global_mean"]
    rows = means.set_index("model")
    assert rows.loc["two_tower", "rmse"] == 0.9
    assert rows.loc["two_tower", "test_mse_scaled"] == 0.08  # every metric saved is shown
    assert math.isnan(rows.loc["global_mean", "ndcg_at_10"])
    assert math.isnan(rows.loc["global_mean", "test_mse_scaled"])


def test_several_seeds_give_stds():
    means, stds = evaluation_tables(THREE_SEEDS)
    assert means.set_index("model")["rmse"].tolist() == [0.9, 1.0]
    assert stds is not None
    assert stds.set_index("model")["rmse"].tolist() == pytest.approx([0.01, math.nan], nan_ok=True)


def test_no_models_give_empty_tables():
    means, stds = evaluation_tables({"protocol": "holdout"})
    assert means.empty and stds is None


def test_the_text_table_shows_mean_and_std_or_a_dash():
    text = evaluation_table(
        {"models": {"a": {"rmse": {"mean": 0.91234, "std": 0.004}, "mae": None, "coverage": 0.5}}}
    )
    row = text.loc["a"]
    assert row["RMSE"] == "0.912 ± 0.004"
    assert row["MAE"] == "—"
    assert row["coverage"] == "0.500"


def test_metrics_frame_is_numeric_for_charts(holdout_result):
    frame = metrics_frame(holdout_result)
    assert len(frame) == len(MODEL_NAMES) * len(METRICS)
    bias_rmse = frame[(frame["model"] == "bias") & (frame["metric"] == "rmse")]["mean"].item()
    assert bias_rmse == holdout_result["models"]["bias"]["rmse"]
    assert frame["std"].isna().all()  # one seed: no spread
    assert frame[(frame["model"] == "popular") & (frame["metric"] == "mae")]["mean"].isna().all()
