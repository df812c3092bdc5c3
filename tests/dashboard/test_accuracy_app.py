"""The app's accuracy figures and limits, through AppTest: a fresh install's evaluation
runs in the background, the headline is the saved leak-free one, Existing user says its
error is on ratings the model trained on, and New user shows what it serves."""

from __future__ import annotations

import time

from recsys.config import hybrid_config
from recsys.evaluation import load_evaluation, save_evaluation
from tests.dashboard.apptest import ok, open_app, sidebar_text, texts, unescape

HELD_OUT = {
    "protocol": "holdout",
    "preset": "lab",
    "seeds": [1],
    "counts": {},
    "models": {
        name: {
            "rmse": rmse,
            "mae": rmse,
            "precision_at_10": ndcg,
            "recall_at_10": ndcg,
            "ndcg_at_10": ndcg,
            "map_at_10": ndcg,
            "coverage": 0.2,
        }
        for name, rmse, ndcg in (
            ("hybrid", 0.795, 0.24),
            ("two_tower", 0.8, 0.05),
            ("bias", 0.807, 0.11),
            ("ease", None, 0.28),
        )
    },
}


def test_a_fresh_install_evaluates_in_the_background(monkeypatch, tmp_path, hostile):
    """First start trains, then starts the evaluation without a button; once it is
    saved, the sidebar's headline is its figure."""
    from recsys.dashboard.ui import frame
    from recsys.dashboard.ui import jobs as ui_jobs

    data, _, _ = hostile
    artifacts = tmp_path / "artifacts"
    asked = []

    def evaluation_work(preset, recipe, data_path, target):
        asked.append((preset, recipe, data_path))

        def work(job):
            job.progress(0.5, 1.0, "evaluating")
            return save_evaluation(target, HELD_OUT)

        return work

    monkeypatch.setattr(ui_jobs, "evaluation_work", evaluation_work)
    monkeypatch.setattr(frame, "default_training", lambda: hybrid_config(epochs=1))
    at = open_app(monkeypatch, artifacts, data, "overview")  # trains, then evaluates
    assert asked == [("lab", "fast", data)]  # the hybrid: on the lab's selection, 1 seed
    deadline = time.monotonic() + 30
    while load_evaluation(artifacts) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    ok(at.run())
    sidebar = sidebar_text(at)
    assert "RMSE 0.795 ★ · NDCG@10 0.240 on held-out ratings" in sidebar
    assert "leaks" not in sidebar  # a hybrid bundle has no lab split figure
    ok(at.run())
    assert len(asked) == 1  # once, not on every run


def test_the_model_page_headline_and_verdict_come_from_the_evaluation(
    monkeypatch, tmp_path, hybrid_artifacts
):
    import shutil

    from tests.e2e.app_data import hostile_bundle

    artifacts = tmp_path / "artifacts"
    shutil.copytree(hybrid_artifacts, artifacts)
    save_evaluation(artifacts, HELD_OUT)
    at = open_app(monkeypatch, artifacts, hostile_bundle()[0], "model")
    shown = {m.label: m.value for m in at.metric}
    assert shown["RMSE (stars, lower is better)"] == "0.795 ★"
    assert shown["NDCG@10 (ranking quality, 0–1, higher is better)"] == "0.240"
    page = unescape(texts(at))
    assert "On held-out ratings, the hybrid model ranks better than 2 of the 3 others" in page
    assert "but behind EASE at 0.280" in page and "predicts stars best of the 3" in page
    assert "1 seed" in page  # says what it was computed on


def test_existing_user_says_its_error_is_on_ratings_it_trained_on(hostile_app):
    at = hostile_app("existing_user")
    labels = [m.label for m in at.metric]
    assert "RMSE on ratings it trained on" in labels
    assert "MAE on ratings it trained on" in labels
    rmse = next(m for m in at.metric if m.label.startswith("RMSE"))
    assert "not how well it predicts new ones" in rmse.help


def test_new_user_shows_the_most_it_lists(hostile_app):
    at = hostile_app("new_user", {"top": "500"})
    assert at.number_input(key="nu_top").value == 100  # the widget shows what is served
    assert "top\\=500 is outside 1 to 100; using 100" in at.warning[0].value
    assert "Showing 100 movies; this page lists at most 100." in texts(at)
    assert "1 to 100" in at.number_input(key="nu_top").help
    at.number_input(key="nu_top").set_value(7)
    assert "Showing 7 movies" in texts(ok(at.run()))


def test_the_model_page_shows_onepick_beside_holdout(monkeypatch, tmp_path, hybrid_artifacts):
    import shutil

    from recsys.evaluation.ranking import protocol_metrics
    from tests.e2e.app_data import hostile_bundle

    artifacts = tmp_path / "artifacts"
    shutil.copytree(hybrid_artifacts, artifacts)
    save_evaluation(artifacts, HELD_OUT)
    onepick = {
        **HELD_OUT,
        "protocol": "onepick",
        "models": {
            name: {m: None if m in ("rmse", "mae") else ndcg for m in protocol_metrics("onepick")}
            for name, ndcg in (("hybrid", 0.31), ("popular", 0.33), ("ease", 0.29))
        },
    }
    save_evaluation(artifacts, onepick)  # now the latest
    at = open_app(monkeypatch, artifacts, hostile_bundle()[0], "model")
    # The headline stays the held-out ratings' figure: onepick has no stars.
    shown = {m.label: m.value for m in at.metric}
    assert shown["NDCG@10 (ranking quality, 0–1, higher is better)"] == "0.240"
    columns = [list(frame.value.columns) for frame in at.dataframe]
    picks = "NDCG@10 (ranking quality, 0–1, higher is better), 3 picks"
    assert any(picks in c for c in columns)  # the onepick table
    assert any("RMSE (stars, lower is better)" in c and picks not in c for c in columns)
    assert "(holdout)" in unescape(texts(at))  # holdout's table beside it, titled
