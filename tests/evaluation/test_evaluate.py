"""The evaluation: leak-free splits, ranking, the end-to-end run, storage and the CLI."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys.columns import MOVIE_ID, RATING, TIMESTAMP, USER_ID
from recsys.config import preset_config
from recsys.dataset.movielens import MovieLens, load_movielens
from recsys.evaluation.evaluate import (
    METRICS,
    MODEL_NAMES,
    RankingTask,
    evaluation_text,
    load_evaluation,
    metrics_frame,
    prepare_holdout,
    prepare_lab,
    ranking_metrics,
    ranking_task,
    run_evaluation,
    save_evaluation,
    split_ratings,
    top_k,
)
from recsys.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> MovieLens:
    from recsys.dataset.synth import write_synthetic

    folder = tmp_path_factory.mktemp("synthetic")
    write_synthetic(folder, n_users=80, n_movies=150, n_ratings=6000, rng=7)
    return load_movielens(folder)


@pytest.fixture(scope="module")
def holdout_result(synthetic) -> dict:
    before = synthetic.ratings.copy()
    fractions: list[float] = []
    result = run_evaluation(
        synthetic,
        protocol="holdout",
        preset="lab",
        epochs=3,
        progress=lambda fraction, _text: fractions.append(fraction),
    )
    pd.testing.assert_frame_equal(synthetic.ratings, before)  # the shared frame is untouched
    result["_fractions"] = fractions
    return result


# --------------------------------------------------------------------------- splitting


def _ratings(per_user: dict[int, int]) -> pd.DataFrame:
    rows = [(user, movie, 3.0, 1000 + movie) for user, n in per_user.items() for movie in range(n)]
    return pd.DataFrame(rows, columns=[USER_ID, MOVIE_ID, RATING, TIMESTAMP])


def test_split_holds_out_a_fifth_of_each_user_rounded_down():
    ratings = _ratings({1: 1, 2: 4, 3: 5, 4: 14, 5: 15})
    split = split_ratings(ratings, "holdout", rng=0)
    held_out = split.test[USER_ID].value_counts().reindex([1, 2, 3, 4, 5], fill_value=0)
    # floor(0.2 × n): 1 → 0 (a single rating stays in training), 4 → 0, 5 → 1, 14 → 2, 15 → 3.
    assert held_out.tolist() == [0, 0, 1, 2, 3]


def test_temporal_split_holds_out_the_latest():
    ratings = _ratings({1: 10, 2: 5})
    split = split_ratings(ratings, "temporal", rng=0)
    # Timestamps rise with movieId, so the latest two of user 1 and latest one of user 2.
    assert sorted(map(tuple, split.test[[USER_ID, MOVIE_ID]].to_numpy())) == [
        (1, 8),
        (1, 9),
        (2, 4),
    ]


def test_split_refuses_the_lab_protocol():
    from recsys.errors import UsageError

    with pytest.raises(UsageError, match="unknown protocol"):
        split_ratings(_ratings({1: 5}), "lab", rng=0)


RATING_FRAMES = st.lists(
    st.tuples(st.integers(1, 12), st.integers(0, 10**6), st.sampled_from([1.0, 3.5, 5.0])),
    min_size=1,
    max_size=200,
).map(
    lambda rows: pd.DataFrame(
        [(user, i, stars, time) for i, (user, time, stars) in enumerate(rows)],
        columns=[USER_ID, MOVIE_ID, RATING, TIMESTAMP],
    )
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    ratings=RATING_FRAMES,
    protocol=st.sampled_from(["holdout", "temporal"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_disjoint_complete_and_replays(ratings, protocol, seed):
    split = split_ratings(ratings, protocol, rng=seed)
    assert split.train.index.intersection(split.test.index).empty
    assert sorted(split.train.index.append(split.test.index)) == list(ratings.index)
    per_user = ratings[USER_ID].value_counts()
    held_out = split.test[USER_ID].value_counts().reindex(per_user.index, fill_value=0)
    assert (held_out == np.floor(per_user * 0.2 + 1e-9).astype(int)).all()
    again = split_ratings(ratings.assign(**{RATING: 6.0 - ratings[RATING]}), protocol, rng=seed)
    assert again.test.index.equals(split.test.index)  # the split never looks at the stars
    if protocol == "temporal":
        last_train = split.train.groupby(USER_ID)[TIMESTAMP].max()
        first_test = split.test.groupby(USER_ID)[TIMESTAMP].min()
        assert (first_test >= last_train.reindex(first_test.index)).all()


# --------------------------------------------------------------------------- no leak


def _with_held_out_changed(dataset: MovieLens, protocol: str, seed: int) -> pd.DataFrame:
    """The ratings with every held-out star flipped (5.5 − r), the split unchanged."""
    test_index = split_ratings(dataset.ratings, protocol, rng=seed).test.index
    changed = dataset.ratings.copy()
    changed.loc[test_index, RATING] = 5.5 - changed.loc[test_index, RATING]
    return changed


@pytest.mark.parametrize("protocol", ["holdout", "temporal"])
def test_changing_held_out_ratings_changes_no_training_feature(synthetic, protocol):
    config = preset_config("lab")
    before = prepare_holdout(synthetic.ratings, synthetic.movies, protocol, config, rng=5)
    changed = _with_held_out_changed(synthetic, protocol, seed=5)
    after = prepare_holdout(changed, synthetic.movies, protocol, config, rng=5)
    assert not before.test_ratings[RATING].equals(after.test_ratings[RATING])  # it did change
    pd.testing.assert_frame_equal(before.training.items, after.training.items, check_exact=True)
    pd.testing.assert_frame_equal(before.training.users, after.training.users, check_exact=True)
    for field in ("user_x", "item_x", "y_scaled"):
        np.testing.assert_array_equal(getattr(before, field), getattr(after, field))
    for field in ("user_mean", "user_scale", "item_mean", "item_scale"):
        np.testing.assert_array_equal(getattr(before.scalers, field), getattr(after.scalers, field))
    assert (before.scalers.target_min, before.scalers.target_max) == (
        after.scalers.target_min,
        after.scalers.target_max,
    )
    pd.testing.assert_frame_equal(before.train_ratings, after.train_ratings, check_exact=True)


def test_the_lab_protocol_does_leak(synthetic):
    # The same change moves the lab's features: what the leak test above guards against.
    config = preset_config("lab")
    before = prepare_lab(synthetic, config)
    changed = _with_held_out_changed(synthetic, "holdout", seed=5)
    after = prepare_lab(MovieLens(changed, synthetic.movies, "changed", "changed", ()), config)
    assert not before.training.items.equals(after.training.items)


def test_test_ratings_are_known_to_training(synthetic):
    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=2
    )
    assert data.test_ratings[MOVIE_ID].isin(data.training.items[MOVIE_ID]).all()
    assert data.test_ratings[USER_ID].isin(data.training.users[USER_ID]).all()
    train_pairs = set(map(tuple, data.train_ratings[[USER_ID, MOVIE_ID]].to_numpy()))
    test_pairs = set(map(tuple, data.test_ratings[[USER_ID, MOVIE_ID]].to_numpy()))
    assert not train_pairs & test_pairs
    # The movie selection counted training ratings only: min_ratings holds there.
    counts = data.train_ratings[MOVIE_ID].value_counts()
    assert (counts.reindex(data.training.items[MOVIE_ID]).fillna(0) >= 10).all()


# --------------------------------------------------------------------------- ranking


def test_top_k_skips_seen_movies_and_pads():
    scores = np.array([[3.0, 1.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    seen = np.array([[False, False, True, False], [True, True, True, False]])
    np.testing.assert_array_equal(top_k(scores, seen, 2, rng=0), [[0, 1], [3, -1]])


def test_top_k_breaks_ties_at_random_per_user():
    scores = np.zeros((50, 40))
    top = top_k(scores, np.zeros_like(scores, dtype=bool), 1, rng=0)
    assert len(np.unique(top)) > 10  # not the same (lowest-id) movie for everyone
    np.testing.assert_array_equal(top, top_k(scores, np.zeros_like(scores, bool), 1, rng=0))


def test_ranking_metrics_worked_example():
    # Two users, five movies. User A: relevant {0, 3}, top [0, 1]; user B: relevant {4},
    # top [4, -1] (only one candidate). P@10 = hits / 10: A 0.1, B 0.1. R: A 1/2, B 1.
    task = RankingTask(
        user_ids=np.array([1, 2]),
        movie_ids=np.array([10, 20, 30, 40, 50]),
        seen=np.zeros((2, 5), bool),
        relevant=np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 1]], bool),
    )
    top = np.full((2, 10), -1)
    top[0, :2] = [0, 1]
    top[1, 0] = 4
    metrics = ranking_metrics(top, task)
    assert metrics["precision_at_10"] == pytest.approx(0.1)
    assert metrics["recall_at_10"] == pytest.approx(0.75)
    # NDCG: A = 1 / (1 + 1/log2(3)), B = 1. MAP: A = 1/2, B = 1.
    assert metrics["ndcg_at_10"] == pytest.approx((1 / (1 + 1 / math.log2(3)) + 1) / 2)
    assert metrics["map_at_10"] == pytest.approx(0.75)
    assert metrics["coverage"] == pytest.approx(3 / 5)  # movies 0, 1 and 4 shown


def test_ranking_task_judges_users_with_a_good_held_out_rating(synthetic):
    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=4
    )
    task = ranking_task(data)
    assert task.relevant.any(axis=1).all()
    assert not (task.relevant & task.seen).any()
    good = data.test_ratings[data.test_ratings[RATING] >= 4]
    assert set(task.user_ids) == set(good[USER_ID])
    assert task.relevant.sum() == len(good)


def test_numpy_towers_match_keras(synthetic):
    from recsys.config import recipe_config
    from recsys.evaluation.evaluate import TwoTowerScorer
    from recsys.model import network as two_tower
    from recsys.model.features import rows_for

    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=1
    )
    fitted = two_tower.fit(data.user_x, data.item_x, data.y_scaled, recipe_config("fast", epochs=1))
    scorer = TwoTowerScorer(two_tower.tower_weights(fitted.model), data)
    test = data.test_ratings
    user_rows, item_rows, _ = rows_for(test, data.training.items, data.training.users, None)
    expected = two_tower.predict(
        fitted.model,
        data.scalers.scale_users(user_rows)[:, 3:],
        data.scalers.scale_items(item_rows)[:, 1:],
    )
    got = scorer.predict_scaled(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
    np.testing.assert_allclose(got, expected, atol=1e-5)


# --------------------------------------------------------------------------- end to end


def test_every_model_carries_every_metric(holdout_result):
    models = holdout_result["models"]
    assert tuple(models) == MODEL_NAMES
    for name, metrics in models.items():
        assert set(METRICS) <= set(metrics), name
        for metric in METRICS[2:]:
            assert 0.0 <= metrics[metric] <= 1.0, (name, metric)
    assert models["popular"]["rmse"] is None and models["popular"]["mae"] is None
    assert models["two_tower"]["test_mse_scaled"] > 0
    json.dumps(holdout_result, allow_nan=False)  # no NaN sneaks into the JSON


def test_progress_runs_from_zero_to_one(holdout_result):
    fractions = holdout_result["_fractions"]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(a <= b for a, b in zip(fractions, fractions[1:], strict=False))


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


def test_metrics_frame_is_numeric_for_charts(holdout_result):
    frame = metrics_frame(holdout_result)
    assert len(frame) == len(MODEL_NAMES) * len(METRICS)
    bias_rmse = frame[(frame["model"] == "bias") & (frame["metric"] == "rmse")]["mean"].item()
    assert bias_rmse == holdout_result["models"]["bias"]["rmse"]
    assert frame["std"].isna().all()  # one seed: no spread
    assert frame[(frame["model"] == "popular") & (frame["metric"] == "mae")]["mean"].isna().all()


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


# --------------------------------------------------------------------------- storage


def test_save_and_load_round_trip(tmp_path, holdout_result):
    (tmp_path / "CURRENT").write_text("bundle-20260101T000000000000Z\n")
    path = save_evaluation(tmp_path, holdout_result)
    assert path == tmp_path / "evaluation.json"
    loaded = load_evaluation(tmp_path)
    assert loaded["bundle_id"] == "bundle-20260101T000000000000Z"
    assert loaded["models"] == holdout_result["models"]
    assert load_evaluation(tmp_path, "holdout")["protocol"] == "holdout"
    assert load_evaluation(tmp_path, "temporal") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "CURRENT",
        "evaluation-holdout.json",
        "evaluation.json",
    ]  # no temporary file is left behind


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'{"protocol": "holdout"}',
        b'{"protocol": "holdout", "models": {"bias": {"rmse": 1}}}',
    ],
    ids=["empty", "broken", "binary", "list", "no-models", "missing-metrics"],
)
def test_load_never_raises_on_a_damaged_file(tmp_path, content):
    (tmp_path / "evaluation.json").write_bytes(content)
    assert load_evaluation(tmp_path) is None


def test_load_without_a_file(tmp_path):
    assert load_evaluation(tmp_path) is None
    assert load_evaluation(tmp_path / "missing") is None


def test_command_saves_beside_the_bundle(synthetic, tmp_path):
    from recsys.evaluation.evaluate import evaluate_command

    args = argparse.Namespace(
        data=synthetic.source,
        artifacts=str(tmp_path),
        protocol="holdout",
        preset="full",
        recipe="fast",
        seeds=1,
        no_save=False,
        json=True,
        epochs=1,
    )
    result = evaluate_command(args)
    assert Path(result["saved_to"]) == tmp_path / "evaluation.json"
    assert load_evaluation(tmp_path)["preset"] == "full"
    assert load_evaluation(tmp_path)["bundle_id"] is None  # no bundle trained here yet


def test_cli_prints_one_json_object(synthetic, tmp_path):
    env = {**os.environ, "RECSYS_ARTIFACTS": str(tmp_path / "artifacts")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "recsys",
            "evaluate",
            "--protocol",
            "holdout",
            "--json",
            "--no-save",
            "--data",
            synthetic.source,
            "--preset",
            "full",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert {"protocol", "preset", "counts", "models"} <= set(result)
    assert result["protocol"] == "holdout"
    for name in MODEL_NAMES:
        assert set(METRICS) <= set(result["models"][name])
    assert not (tmp_path / "artifacts").exists()  # --no-save wrote nothing


# --------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_the_model_beats_the_global_mean_on_real_data(real_data):
    # real_data (conftest) skips, saying why, when RECSYS_DATA is unset or empty.
    result = run_evaluation(load_movielens(real_data), protocol="holdout", epochs=3)
    models = result["models"]
    assert models["two_tower"]["rmse"] < models["global_mean"]["rmse"] - 0.05
    assert models["bias"]["rmse"] < models["global_mean"]["rmse"]
