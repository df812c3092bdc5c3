"""Jobs in a child process (recsys.dashboard.jobs): progress read back from the child,
its error as one line, the command line that makes a config, and a cancel that stops
the child and leaves the served bundle and the saved evaluation as they were."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from recsys.config import HybridConfig, hybrid_config, recipe_config
from recsys.dashboard.jobs import (
    CANCELLED,
    Job,
    JobRegistry,
    run_child,
    run_job,
    train_work,
    training_argv,
)
from recsys.errors import UsageError
from recsys.evaluation import save_evaluation
from recsys.model import bundle as bundles
from recsys.serving.bundle import decode_bundle
from tests.e2e.app_data import copy_bundle

WAIT_S = 30.0  # seconds; a child that should end promptly


def python(script: str) -> list[str]:
    return [sys.executable, "-c", script]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def started(job: Job, work) -> threading.Thread:
    thread = threading.Thread(target=run_job, args=(job, work), daemon=True)
    thread.start()
    return thread


def test_the_childs_progress_lines_move_the_job_and_its_json_is_the_result():
    script = """
import json, sys
sys.stderr.write("warning: 3 rows skipped\\n")
for epoch in (1, 2):
    sys.stderr.write(json.dumps({"progress": [epoch, 4, f"epoch {epoch}/4"]}) + "\\n")
sys.stderr.write(json.dumps({"progress": [0, 0, "saving the bundle"]}) + "\\n")
print("not the result")
print(json.dumps({"bundle": "bundle-1", "served": True}))
"""
    job = Job(kind="train", label="Training")
    run_job(job, lambda running: run_child(running, python(script)))
    assert job.error is None
    assert job.result == {"bundle": "bundle-1", "served": True}
    assert (job.done, job.total, job.text) == (2.0, 4.0, "saving the bundle")


def test_a_failing_child_gives_its_one_line_error():
    script = 'import sys; print("error: ratings.csv:3: rating 7", file=sys.stderr); sys.exit(2)'
    job = Job(kind="train", label="Training")
    run_job(job, lambda running: run_child(running, python(script)))
    assert job.error == "ratings.csv:3: rating 7" and job.result is None
    job = Job(kind="train", label="Training")
    run_job(job, lambda running: run_child(running, python("import os; os._exit(9)")))
    assert job.error == "it stopped with exit status 9: no message"


def test_cancel_stops_the_child_and_its_children(tmp_path):
    pids = tmp_path / "pids"
    script = f"""
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{grandchild.pid}}")
time.sleep(120)
"""
    job = Job(kind="evaluate", label="Evaluating")
    thread = started(job, lambda running: run_child(running, python(script)))
    deadline = time.monotonic() + WAIT_S
    while not (pids.exists() and pids.read_text()):
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    child, grandchild = map(int, pids.read_text().split())
    assert job.cancel()
    assert job.finished.wait(WAIT_S)
    thread.join(WAIT_S)
    assert job.error == CANCELLED and job.cancelled
    deadline = time.monotonic() + WAIT_S
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)  # the grandchild is not ours to reap: it goes when signalled
    assert not alive(grandchild)
    assert not job.cancel()  # already over


def test_a_cancel_before_the_child_starts_stops_it_at_once():
    job = Job(kind="train", label="Training")
    assert job.cancel()
    start = time.monotonic()
    run_job(job, lambda running: run_child(running, python("import time; time.sleep(120)")))
    assert job.error == CANCELLED and time.monotonic() - start < WAIT_S


def test_a_stopping_server_cancels_its_running_jobs(tmp_path):
    registry = JobRegistry()
    sleeper = python("import time; time.sleep(120)")
    job = registry.start("train", "Training", lambda running: run_child(running, sleeper), tmp_path)
    deadline = time.monotonic() + WAIT_S
    while job.process is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    registry.cancel_all()
    assert job.finished.wait(WAIT_S)
    assert job.error == CANCELLED and job.process.poll() is not None


@pytest.mark.parametrize(
    ("config", "argv"),
    [
        (hybrid_config(), ["--model", "hybrid", "--seed", "1"]),
        (hybrid_config(epochs=1), ["--model", "hybrid", "--seed", "1", "--epochs", "1"]),
        # An explicit 25 epochs is exact (no minimum of steps), unlike the default 25.
        (hybrid_config(epochs=25), ["--model", "hybrid", "--seed", "1", "--epochs", "25"]),
        (
            recipe_config("lab", preset="full", seed=3, lr=0.02, batch_size=64),
            ["--model", "lab", "--recipe", "lab", "--preset", "full", "--seed", "3"]
            + ["--lr", "0.02", "--batch-size", "64"],
        ),
    ],
)
def test_a_training_is_passed_to_the_child_as_the_command_line_that_makes_it(config, argv):
    assert training_argv(config) == argv


def test_a_config_the_command_line_cannot_say_is_refused():
    with pytest.raises(UsageError, match="command line cannot pass"):
        training_argv(HybridConfig(dim=8))


def test_a_cancelled_training_leaves_the_bundle_and_the_evaluation(tmp_path, hostile):
    data, trained, _ = hostile
    artifacts = copy_bundle(trained, tmp_path / "artifacts")
    save_evaluation(artifacts, {"protocol": "holdout", "models": {}, "counts": {}})
    evaluation = (artifacts / "evaluation.json").read_bytes()
    served = bundles.current_bundle(artifacts)
    kept = bundles.kept_bundles(artifacts, "lab")
    job = Job(kind="train", label="Training")
    thread = started(job, train_work(hybrid_config(epochs=100), data, artifacts))
    deadline = time.monotonic() + 120
    while job.done < 1 and job.running:  # one epoch done: TensorFlow is training
        assert time.monotonic() < deadline, job.describe()
        time.sleep(0.1)
    assert job.running, job.error
    assert job.cancel()
    assert job.finished.wait(WAIT_S)
    thread.join(WAIT_S)
    assert job.error == CANCELLED
    assert job.process is not None and job.process.poll() is not None
    assert bundles.current_bundle(artifacts) == served
    assert bundles.kept_bundles(artifacts, "lab") == kept
    assert not bundles.kept_bundles(artifacts, "hybrid")
    decode_bundle(served)  # still verifies, file by file (raises otherwise)
    assert (artifacts / "evaluation.json").read_bytes() == evaluation


def test_progress_lines_round_trip_and_other_lines_are_not_progress():
    import io

    from recsys.progress import JsonLinesProgress, parse_progress_line

    stream = io.StringIO()
    report = JsonLinesProgress(stream, min_interval=60)
    report(1, 12, "epoch 1/12")
    report(2, 12, "epoch 1/12")  # the same line within the interval: dropped
    report(2, 12, "epoch 2/12, loss 0.08")  # a new line: written
    report(12, 12, "epoch 1/12")  # the end: written
    lines = stream.getvalue().splitlines()
    assert [parse_progress_line(line) for line in lines] == [
        (1.0, 12.0, "epoch 1/12"),
        (2.0, 12.0, "epoch 2/12, loss 0.08"),
        (12.0, 12.0, "epoch 1/12"),
    ]
    for other in ("warning: 3 rows skipped", '{"progress": [1, 2]}', '{"progress": "x"}', "{"):
        assert parse_progress_line(other) is None
