"""Background jobs (recsys.dashboard.jobs): progress, outcome, and one running job per kind."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from recsys.dashboard.jobs import Job, JobBusyError, JobRegistry, run_job
from recsys.errors import DataError

WAIT_S = 10.0  # seconds; a generous bound on a thread that should finish at once


def test_epochs_move_the_progress_and_the_status_line():
    job = Job(kind="train", label="Training")
    assert job.fraction == 0.0 and job.running
    job.progress(3, 12, "epoch 3/12, loss 0.0812")
    assert job.fraction == pytest.approx(0.25)
    assert job.text == "epoch 3/12, loss 0.0812"
    job.progress(4, 12, "epoch 4/12")
    assert job.text == "epoch 4/12"
    assert job.describe().startswith("Training: epoch 4/12 (")


@pytest.mark.parametrize(
    ("args", "fraction", "text"),
    [
        ((5, 20, "ranking"), 0.25, "ranking"),
        ((0.5, 1.0, "evaluating"), 0.5, "evaluating"),  # a fraction out of 1
        ((0, 0, "fitting baselines"), 0.0, "fitting baselines"),  # a status line only
        ((30, 20), 1.0, ""),  # past the end is clamped
    ],
)
def test_progress_takes_counts_a_fraction_or_a_status_line(args, fraction, text):
    job = Job(kind="evaluate", label="Evaluation")
    job.progress(*args)
    assert job.fraction == pytest.approx(fraction)
    assert job.text == text


def test_a_status_line_keeps_the_bar_where_it_was():
    job = Job(kind="train", label="Training")
    job.progress(3, 12, "epoch 3/12")
    job.progress(0, 0, "saving the bundle")
    assert job.fraction == pytest.approx(0.25)
    assert job.text == "saving the bundle"


def test_a_result_is_kept_and_the_job_ends():
    job = Job(kind="train", label="Training")
    run_job(job, lambda running: running.kind * 2)
    assert job.result == "traintrain"
    assert job.error is None and not job.running and job.fraction == 1.0


def test_an_unexpected_failure_is_recorded_with_its_type():
    def work(job: Job) -> None:
        job.progress(1, 10, "epoch 1/10")
        raise ValueError("bad\n  shape")

    job = Job(kind="train", label="Training")
    run_job(job, work)
    assert job.error == "ValueError: bad shape"
    assert not job.running and job.fraction == 1.0


def test_a_known_failure_is_recorded_as_its_message():
    def work(job: Job) -> None:
        raise DataError("ratings.csv", "rating 7 is not 0.5 to 5 stars", line=3)

    job = Job(kind="train", label="Training")
    run_job(job, work)
    assert job.error == "ratings.csv:3: rating 7 is not 0.5 to 5 stars"


def _blocked_work(release: threading.Event, calls: list[str]):
    def work(job: Job) -> str:
        calls.append(job.label)
        assert release.wait(WAIT_S)
        return job.label

    return work


def test_one_running_job_per_folder_whatever_its_kind(tmp_path: Path, monkeypatch):
    registry = JobRegistry()
    release, calls = threading.Event(), []
    first = registry.start("train", "first", _blocked_work(release, calls), tmp_path)
    again = registry.start("train", "second", _blocked_work(release, calls), tmp_path)
    assert again is first  # the app's own start of the same kind follows the running one
    with pytest.raises(JobBusyError, match="first is running"):
        registry.start("evaluate", "other kind", _blocked_work(release, calls), tmp_path)
    with pytest.raises(JobBusyError):  # a visitor's second training is refused too
        registry.start("train", "asked", _blocked_work(release, calls), tmp_path, requested=True)
    elsewhere = registry.start(
        "evaluate", "elsewhere", _blocked_work(release, calls), tmp_path / "b"
    )
    monkeypatch.chdir(tmp_path.parent)
    assert registry.latest("train", Path(tmp_path.name)) is first  # keyed on the real path
    assert registry.running(Path(tmp_path.name)) is first
    release.set()
    assert first.finished.wait(WAIT_S) and elsewhere.finished.wait(WAIT_S)
    assert first.result == "first"
    assert sorted(calls) == ["elsewhere", "first"]


def test_a_visitors_next_job_waits_out_the_cooldown(tmp_path: Path):
    registry = JobRegistry()
    release = threading.Event()
    release.set()
    asked = registry.start("train", "asked", _blocked_work(release, []), tmp_path, requested=True)
    assert asked.finished.wait(WAIT_S)
    with pytest.raises(JobBusyError, match="the next may start in"):
        registry.start(
            "evaluate",
            "too soon",
            _blocked_work(release, []),
            tmp_path,
            requested=True,
            cooldown_s=60,
        )
    assert registry.cooldown_left(tmp_path, 60) > 55
    # The app's own job (a first start) is not held back; other folders neither.
    own = registry.start("evaluate", "own", _blocked_work(release, []), tmp_path, cooldown_s=60)
    other = registry.start(
        "train",
        "other",
        _blocked_work(release, []),
        tmp_path / "b",
        requested=True,
        cooldown_s=60,
    )
    assert own.finished.wait(WAIT_S) and other.finished.wait(WAIT_S)
    time.sleep(0.3)
    later = registry.start(
        "train", "later", _blocked_work(release, []), tmp_path, requested=True, cooldown_s=0.2
    )
    assert later.finished.wait(WAIT_S) and later.result == "later"


def test_a_finished_job_is_replaced_by_the_next(tmp_path: Path):
    registry = JobRegistry()
    release = threading.Event()
    release.set()
    first = registry.start("train", "first", _blocked_work(release, []), tmp_path)
    assert first.finished.wait(WAIT_S)
    second = registry.start("train", "second", _blocked_work(release, []), tmp_path)
    assert second is not first
    assert registry.latest("train", tmp_path) is second
    assert registry.latest("train", tmp_path / "elsewhere") is None
    assert second.finished.wait(WAIT_S)


def test_the_first_start_estimate_follows_the_data_size(tmp_path):
    from recsys.config import hybrid_config
    from recsys.dashboard.jobs import training_estimate

    assert training_estimate(hybrid_config(), tmp_path / "missing") == ""
    (tmp_path / "ratings.csv").write_bytes(b"x" * 25 * 100_000)  # about 100,000 ratings
    small = training_estimate(hybrid_config(epochs=25), tmp_path)
    assert small == "about 20 s to 50 s on 2 cores for about 100,000 ratings"
    (tmp_path / "ratings.csv").write_bytes(b"x" * 25 * 1_000_000)
    assert "to 8 min" in training_estimate(hybrid_config(epochs=25), tmp_path)
