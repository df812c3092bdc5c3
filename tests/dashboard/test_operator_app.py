"""The operator's actions through AppTest: refused to a visitor behind a proxy unless
the operator opted in (checked on every action), the retrain form's bounds, a running
job cancelled from the Model page, one job at a time with a cooldown, and the upload."""

from __future__ import annotations

import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from recsys.dashboard.access import browser_training_problem
from recsys.dashboard.jobs import CANCELLED, run_child
from recsys.errors import DataError
from recsys.model import bundle as bundles
from tests.dashboard.apptest import (
    DASHBOARD,
    PROXIED_VISITOR,
    TIMEOUT,
    ok,
    open_app,
    texts,
    unescape,
    visit_as,
    wait_for_jobs,
)
from tests.dashboard.test_app import zipped
from tests.dashboard.test_job_child import alive
from tests.e2e.app_data import copy_bundle, write_hostile_dataset

TOKEN = "a-token-of-twenty-four-c"
OPERATOR_BUTTONS = {"FormSubmitter:retrain-Train a new model", "rollback", "run_evaluation"}


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def errors(at: AppTest) -> str:
    return " ".join(unescape(e.value) for e in at.error)


@pytest.fixture
def served(tmp_path, hostile, monkeypatch):
    """(data, a copy of the served bundle's folder), with no operator setting set."""
    for name in ("RECSYS_ALLOW_RETRAIN", "RECSYS_OPERATOR_TOKEN", "RECSYS_JOB_COOLDOWN_S"):
        monkeypatch.delenv(name, raising=False)
    data, trained, _ = hostile
    return data, copy_bundle(trained, tmp_path / "artifacts")


def test_a_visitor_behind_a_proxy_may_look_but_not_act(monkeypatch, served):
    data, artifacts = served
    at = open_app(monkeypatch, artifacts, data, "model", headers=PROXIED_VISITOR)
    assert not buttons(at) & OPERATOR_BUTTONS
    shown = unescape(texts(at))
    assert "the request came through a proxy (x-forwarded-for header)" in shown
    assert "RECSYS_OPERATOR_TOKEN" in shown and "RECSYS_ALLOW_RETRAIN=1" in shown
    assert not [t for t in at.text_input if t.key == "operator_token_box"]  # no token set
    monkeypatch.setenv("RECSYS_ALLOW_RETRAIN", "1")
    at = open_app(monkeypatch, artifacts, data, "model", headers=PROXIED_VISITOR)
    assert buttons(at) >= OPERATOR_BUTTONS


def test_the_operator_token_lets_a_visitor_act_and_is_checked_on_each_action(monkeypatch, served):
    from recsys.dashboard.ui.jobs import latest_job

    data, artifacts = served
    monkeypatch.setenv("RECSYS_OPERATOR_TOKEN", TOKEN)
    at = open_app(monkeypatch, artifacts, data, "model", headers=PROXIED_VISITOR)
    at.text_input(key="operator_token_box").input("not-the-token-at-all-xx")
    ok(at.run())
    assert not buttons(at) & OPERATOR_BUTTONS
    assert "the token typed is not the operator's" in unescape(texts(at))
    at.text_input(key="operator_token_box").input(TOKEN)
    ok(at.run())
    assert buttons(at) >= OPERATOR_BUTTONS
    # The operator changes the token: this session's next click does nothing (the
    # token it typed is compared again), and the buttons are gone.
    monkeypatch.setenv("RECSYS_OPERATOR_TOKEN", "another-token-of-24-char")
    at.button(key="run_evaluation").click()
    ok(at.run())
    assert latest_job("evaluate", artifacts) is None
    assert not buttons(at) & OPERATOR_BUTTONS
    assert "the token typed is not the operator's" in unescape(texts(at))


@pytest.mark.parametrize(
    ("label", "value", "field"),
    [("Epochs", 500, "epochs"), ("Batch size", 16, "batch_size"), ("Learning rate", 0.5, "lr")],
)
def test_the_retrain_form_never_trains_past_what_a_browser_may_ask(
    monkeypatch, served, label, value, field
):
    """A value past the form's bounds (sent by a forged message: the widget stops a
    person) never reaches the training; the recipe's own value is used instead."""
    from recsys.dashboard.ui import jobs as ui_jobs

    asked = []

    def train_work(config, data_path, artifacts):
        asked.append(config)
        return lambda job: None

    monkeypatch.setattr(ui_jobs, "train_work", train_work)
    data, artifacts = served
    at = open_app(monkeypatch, artifacts, data, "model")
    at.radio(key="retrain_model").set_value("lab")
    next(n for n in at.number_input if n.label == label).set_value(value)
    next(b for b in at.button if b.label == "Train a new model").click()
    ok(at.run())
    assert len(asked) == 1
    assert getattr(asked[0], field) != value
    assert browser_training_problem(asked[0]) is None


def _sleeping_training(pid_file):
    """A train_work whose child sleeps (writing its pid), standing in for a training."""
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
    script += "time.sleep(120)"

    def train_work(config, data_path, artifacts):
        return lambda job: run_child(job, [sys.executable, "-c", script])

    return train_work


def test_a_running_training_is_cancelled_from_the_model_page(monkeypatch, served, tmp_path):
    """Cancel stops the child and leaves the bundle; a second job is refused while one
    runs, and a visitor's next job during the cooldown after it."""
    from recsys.dashboard.ui import jobs as ui_jobs

    data, artifacts = served
    before = bundles.current_bundle(artifacts)
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(ui_jobs, "train_work", _sleeping_training(pid_file))
    at = open_app(monkeypatch, artifacts, data, "model")
    next(b for b in at.button if b.label == "Train a new model").click()
    ok(at.run())
    job = ui_jobs.latest_job("train", artifacts)
    assert job is not None and job.running
    assert "cancel_train" in buttons(at)
    assert "Train a new model" not in {b.label for b in at.button}  # no second form
    at.button(key="run_evaluation").click()
    ok(at.run())
    assert "is running; wait for it, or cancel it" in errors(at)
    assert ui_jobs.latest_job("evaluate", artifacts) is None
    deadline = time.monotonic() + TIMEOUT
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.button(key="cancel_train").click()
    ok(at.run())
    wait_for_jobs(artifacts)
    assert job.error == CANCELLED
    assert not alive(int(pid_file.read_text()))
    assert bundles.current_bundle(artifacts) == before
    ok(at.run())
    assert "cancel_train" not in buttons(at)
    at.button(key="run_evaluation").click()
    ok(at.run())
    assert "the next may start in" in errors(at)
    assert ui_jobs.latest_job("evaluate", artifacts) is None


def test_only_the_operator_may_upload_data_but_a_first_start_trains_for_anyone(
    monkeypatch, tmp_path
):
    from recsys.dashboard.ui import jobs as ui_jobs

    attempts: list[str] = []

    def failing_work(config, data_path, artifacts):
        def work(job):
            attempts.append("trained")
            raise DataError(data_path, "the first start's training failed")

        return work

    monkeypatch.setattr(ui_jobs, "train_work", failing_work)
    monkeypatch.delenv("RECSYS_ALLOW_RETRAIN", raising=False)
    monkeypatch.delenv("RECSYS_OPERATOR_TOKEN", raising=False)
    at = open_app(monkeypatch, tmp_path / "artifacts", None, headers=PROXIED_VISITOR)
    assert not at.file_uploader  # no data: only the operator may upload
    assert "Uploading a dataset is for the operator" in texts(at)
    at = open_app(monkeypatch, tmp_path / "artifacts", None)
    assert [u.key for u in at.file_uploader] == ["dataset_zip"]
    # A dataset but no model: the default training starts for a remote visitor too;
    # trying again after it failed, and uploading, stay the operator's.
    data = tmp_path / "data"
    write_hostile_dataset(data)
    at = open_app(monkeypatch, tmp_path / "artifacts", data, headers=PROXIED_VISITOR)
    assert attempts == ["trained"]
    assert "the first start's training failed" in errors(at)
    assert "first_start_retry" not in buttons(at) and not at.file_uploader


def test_an_upload_is_checked_again_when_it_arrives(monkeypatch, tmp_path):
    """The uploader was drawn for the operator; the upload comes after the operator
    turned RECSYS_ALLOW_RETRAIN off: nothing is installed."""
    source = tmp_path / "source"
    write_hostile_dataset(source)
    target = tmp_path / "data" / "ml-latest-small"
    monkeypatch.setenv("RECSYS_ALLOW_RETRAIN", "1")
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RECSYS_DATA", str(target))
    visit_as(monkeypatch, PROXIED_VISITOR)
    at = ok(AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT).run())
    monkeypatch.delenv("RECSYS_ALLOW_RETRAIN")
    at.file_uploader(key="dataset_zip").set_value(("a.zip", zipped(source), "application/zip"))
    ok(at.run())
    assert "Uploading a dataset is for the operator" in texts(at)
    assert not target.exists()
