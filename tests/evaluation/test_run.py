"""One evaluation run end to end: every model, every metric, progress, counts, seeds."""

from __future__ import annotations

import json
import math

import pytest

from recsys.columns import RATING
from recsys.dataset.movielens import load_movielens
from recsys.evaluation import METRICS, MODEL_NAMES, evaluation_text, run_evaluation


def test_every_model_carries_every_metric(holdout_result):
    models = holdout_result["models"]
    assert tuple(models) == MODEL_NAMES
    for name, metrics in models.items():
        assert set(METRICS) <= set(metrics), name
        for metric in METRICS[2:]:
            if name == "knn_baseline":  # predicts stars only: its ranking metrics are null
                assert metrics[metric] is None, metric
            elif metric == "tail_ndcg_at_10" and holdout_result["counts"]["candidates"] <= 100:
                assert metrics[metric] is None, name  # every movie is among the 100 most-rated
            elif metric == "blockbusters_at_10":  # a count of the 10
                assert 0.0 <= metrics[metric] <= 10.0, (name, metric)
            else:
                assert 0.0 <= metrics[metric] <= 1.0, (name, metric)
    for name in ("popular", "als", "ease"):  # rank only: no stars
        assert models[name]["rmse"] is None and models[name]["mae"] is None, name
    assert models["two_tower"]["test_mse_scaled"] > 0
    json.dumps(holdout_result, allow_nan=False)  # no NaN sneaks into the JSON


def test_popularity_metrics_tell_popular_lists_from_personal_ones(holdout_result):
    models = holdout_result["models"]
    # Most-popular lists every unseen blockbuster first; a random order (global mean's
    # ties) finds them only by chance.
    popular, random = models["popular"], models["global_mean"]
    assert popular["blockbusters_at_10"] > 2 * random["blockbusters_at_10"]


def test_progress_runs_from_zero_to_one(holdout_result):
    fractions = [done for done, _total in holdout_result["_progress"]]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(a <= b for a, b in zip(fractions, fractions[1:], strict=False))
    assert {total for _done, total in holdout_result["_progress"]} == {1.0}


def test_the_model_learns_the_planted_tastes(holdout_result):
    models = holdout_result["models"]
    # The generator plants strong genre tastes (±1.5 stars): content features must help.
    assert models["two_tower"]["rmse"] < models["global_mean"]["rmse"] - 0.1
    assert models["two_tower"]["ndcg_at_10"] > models["global_mean"]["ndcg_at_10"]


def test_counts_describe_the_split(holdout_result, synthetic):
    counts = holdout_result["counts"]
    assert counts["ratings"] == len(synthetic.ratings)
    assert counts["held_out"] == counts["test_ratings"] + counts["held_out_dropped"]
    assert counts["train_rows"] >= counts["train_ratings"]  # repeats add rows, never remove
    assert 0 < counts["ranked_users"] <= counts["users"]


def test_several_seeds_give_mean_and_std(synthetic):
    result = run_evaluation(synthetic, protocol="temporal", preset="full", seeds=2, epochs=1)
    assert result["seeds"] == [1, 2] and len(result["per_seed"]) == 2
    bias = result["models"]["bias"]["rmse"]
    assert set(bias) == {"mean", "std"} and bias["std"] >= 0
    assert result["models"]["popular"]["rmse"] == {"mean": None, "std": None}
    text = evaluation_text(result)
    assert "±" in text and "—" in text
    assert all(name in text for name in MODEL_NAMES)


def test_lab_protocol_reports_mse_in_scaled_units(synthetic):
    result = run_evaluation(synthetic, protocol="lab", preset="lab", epochs=1)
    two_tower = result["models"]["two_tower"]
    # RMSE (stars) = sqrt(MSE scaled) × half the star span the target scaler saw.
    spread = synthetic.ratings[RATING]
    half_span = (spread.max() - spread.min()) / 2
    assert two_tower["rmse"] == pytest.approx(
        math.sqrt(two_tower["test_mse_scaled"]) * half_span, rel=1e-6
    )
    assert result["counts"]["held_out_dropped"] == 0


def test_unknown_protocol_is_refused(synthetic):
    from recsys.errors import UsageError

    with pytest.raises(UsageError, match="unknown protocol"):
        run_evaluation(synthetic, protocol="kfold")


@pytest.mark.slow
def test_the_model_beats_the_global_mean_on_real_data(real_data):
    # real_data (conftest) skips, saying why, when RECSYS_DATA is unset or empty.
    result = run_evaluation(load_movielens(real_data), protocol="holdout", epochs=3)
    models = result["models"]
    assert models["two_tower"]["rmse"] < models["global_mean"]["rmse"] - 0.05
    assert models["bias"]["rmse"] < models["global_mean"]["rmse"]
