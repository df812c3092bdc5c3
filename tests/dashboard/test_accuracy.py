"""The app's plain words about accuracy: labels and help, the headline, the verdict."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from recsys.dashboard import accuracy
from recsys.evaluation import METRICS, MODEL_NAMES, evaluation_tables
from recsys.evaluation.onepick import PICK_MODELS
from recsys.evaluation.ranking import protocol_metrics


def _result(protocol: str = "holdout", **overrides: dict) -> dict:
    """A saved evaluation by hand: the hybrid ranks second to EASE and predicts stars
    second to KNN; the lab's network (two_tower) ranks poorly."""
    models = {
        "hybrid": {"rmse": 0.796, "ndcg_at_10": 0.240},
        "two_tower": {"rmse": {"mean": 0.801, "std": 0.01}, "ndcg_at_10": 0.053},
        "popular": {"rmse": None, "ndcg_at_10": 0.202},
        "bias": {"rmse": 0.807, "ndcg_at_10": 0.109},
        "knn_baseline": {"rmse": 0.784, "ndcg_at_10": None},
        "ease": {"rmse": None, "ndcg_at_10": 0.284},
        **overrides,
    }
    return {"protocol": protocol, "preset": "lab", "seeds": [1], "models": models}


def test_every_metric_and_model_has_a_plain_label_and_help():
    picks = (*protocol_metrics("onepick"), *protocol_metrics("similar"))
    for metric in (*METRICS, "test_mse_scaled", *picks):
        label, help_text = accuracy.METRIC_WORDS[metric]
        assert "_" not in label and help_text
        assert "better" in label or "more" in label, label  # which way is good
    assert accuracy.metric_label("ndcg_at_10").startswith("NDCG@10 (ranking quality, 0–1")
    for name in (*MODEL_NAMES, *PICK_MODELS):
        label, what = accuracy.MODEL_WORDS[name]
        assert "_" not in label and what
    assert accuracy.model_label("genre_profile") == "Genre averages"
    assert accuracy.model_label("something new") == "something new"


def test_the_headline_is_the_leak_free_evaluations_figure():
    head = accuracy.headline(_result(), "hybrid")
    assert (head.rmse, head.ndcg) == (0.796, 0.240)
    assert head.text() == "RMSE 0.796 ★ · NDCG@10 0.240 on held-out ratings"
    assert "20% of each user's ratings held out" in head.basis and "1 seed" in head.basis
    lab = accuracy.headline(_result(), "lab")  # the lab's network is "two_tower" there
    assert lab.rmse == pytest.approx(0.801)


def test_no_headline_from_the_leaky_protocol_or_without_the_model():
    assert accuracy.headline(_result("lab"), "hybrid") is None
    assert accuracy.headline(None, "hybrid") is None
    result = _result()
    del result["models"]["hybrid"]
    assert accuracy.headline(result, "hybrid") is None
    assert accuracy.verdict(result, "hybrid") is None


def test_the_lab_splits_figure_is_labelled_as_leaking():
    text = accuracy.leaky_text({"test_rmse_stars": 0.6761})
    assert text.startswith("On the lab's split, which leaks") and "0.676 ★" in text
    assert accuracy.leaky_text({}) is None  # a hybrid bundle has no lab split


def test_the_verdict_says_where_the_model_wins_and_loses():
    verdict = accuracy.verdict(_result(), "hybrid")
    ranking, stars = verdict.split("; it ")
    assert "ranks better than 3 of the 4 others (NDCG@10 0.240)" in ranking
    assert "Most popular at 0.202" in ranking and "behind EASE at 0.284" in ranking
    assert "better than 2 of the 3 others (RMSE 0.796 ★)" in stars
    assert "behind KNN (Surprise) at 0.784" in stars
    best = _result(ease={"rmse": None, "ndcg_at_10": 0.1})
    assert "ranks best of the 5 models measured" in accuracy.verdict(best, "hybrid")


def test_the_verdict_follows_the_numbers_not_a_script():
    worse = _result(hybrid={"rmse": 0.9, "ndcg_at_10": 0.01})
    verdict = accuracy.verdict(worse, "hybrid")
    assert "ranks behind all 4 others (NDCG@10 0.010), EASE at 0.284" in verdict
    assert "predicts stars behind all 3 others (RMSE 0.900 ★)" in verdict


def test_plain_table_renames_models_and_metrics():
    means = evaluation_tables(_result()).means
    table = accuracy.plain_table(means)
    assert "Hybrid (ours)" in set(table["model"]) and "KNN (Surprise)" in set(table["model"])
    assert "NDCG@10 (ranking quality, 0–1, higher is better)" in table.columns
    assert not any("_" in c for c in table.columns)
    assert math.isnan(table.set_index("model").loc["Most popular", "RMSE (stars, lower is better)"])
    assert isinstance(table, pd.DataFrame)
