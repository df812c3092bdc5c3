"""The onepick and similar protocols end to end, and validation runs."""

from __future__ import annotations

import json

import pytest

from recsys.errors import UsageError
from recsys.evaluation import evaluation_text, load_evaluation, run_evaluation, save_evaluation
from recsys.evaluation.onepick import PICK_MODELS
from recsys.evaluation.ranking import protocol_metrics


@pytest.fixture(scope="module")
def onepick_result(synthetic) -> dict:
    return run_evaluation(synthetic, protocol="onepick", preset="full", hybrid_epochs=1)


def test_onepick_scores_every_model_with_one_and_three_picks(onepick_result):
    models = onepick_result["models"]
    assert tuple(models) == PICK_MODELS
    for name, metrics in models.items():
        assert tuple(metrics) == protocol_metrics("onepick"), name
        assert metrics["rmse"] is None  # a list, not stars
        for k in (1, 3):
            assert 0.0 <= metrics[f"ndcg_at_10_k{k}"] <= 1.0, name
            assert 0.0 <= metrics[f"blockbusters_at_10_k{k}"] <= 10.0, name
    # Most-popular lists the most-rated first: nearly all of its 10 are blockbusters.
    assert models["popular"]["blockbusters_at_10_k1"] >= 8
    assert onepick_result["ease_lambda"][0] > 0
    json.dumps(onepick_result, allow_nan=False)
    text = evaluation_text(onepick_result)
    assert "NDCG@10 (1 pick)" in text and "NDCG@10 (3 picks)" in text


def test_an_onepick_evaluation_is_saved_and_read_back(onepick_result, tmp_path):
    save_evaluation(tmp_path, onepick_result)
    loaded = load_evaluation(tmp_path, "onepick")
    assert loaded is not None and loaded["models"] == onepick_result["models"]


def test_similar_lists_the_picks_neighbours(synthetic):
    result = run_evaluation(synthetic, protocol="similar", preset="full", hybrid_epochs=1)
    for name, metrics in result["models"].items():
        assert 0.0 <= metrics["ndcg_at_10"] <= 1.0, name
        assert metrics["tail_ndcg_at_10"] is None or 0 <= metrics["tail_ndcg_at_10"] <= 1
    # Each pick gets its own neighbours: the lists differ between users.
    assert result["models"]["cooccurrence"]["personalization"] > 0.3
    for name, metrics in result["models"].items():
        assert tuple(metrics) == protocol_metrics("similar"), name
        assert 0.0 <= metrics["genre_kinship_at_10"] <= 1.0, name


def test_genre_kinship_is_the_lists_mean_genre_overlap_with_the_pick():
    import numpy as np

    from recsys.evaluation.ranking import genre_kinship

    flags = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])  # movie 3: both genres
    top = np.array([[1, 2, -1], [0, 1, 3], [-1, -1, -1]])
    picks = np.array([0, 2, 1])
    # User 0: movie 1 shares the pick's one genre (1), movie 2 none (0): 0.5. User 1
    # (a pick of genre 2): 0, 0 and 1/2. User 2 has an empty list and does not count.
    assert genre_kinship(top, picks, flags) == pytest.approx((0.5 + 0.5 / 3) / 2)


def test_a_validation_run_leaves_the_test_users_out(synthetic, onepick_result):
    result = run_evaluation(
        synthetic, protocol="onepick", preset="full", hybrid_epochs=1, validation=True
    )
    assert result["validation"] is True and onepick_result["validation"] is False
    assert "a validation run" in evaluation_text(result)
    assert "a validation run" not in evaluation_text(onepick_result)
    # The validation run splits only the ratings of the test run's other users.
    counts = onepick_result["counts"]
    assert result["counts"]["ratings"] == counts["ratings"] - counts["test_ratings"]


def test_the_lab_protocol_has_no_validation_run(synthetic):
    with pytest.raises(UsageError, match="no validation split"):
        run_evaluation(synthetic, protocol="lab", validation=True)
