"""Background jobs (training, evaluation), each in a child process, with their progress.

A job runs ``python -m recsys train|evaluate … --json --progress-json`` as a child, and
a thread of the app server reads the child's progress lines and, at the end, its one
JSON object. TensorFlow is imported only by the child: it never enters the app server,
and a job can be cancelled by stopping the child. Bundles and evaluations are written
to a temporary file and renamed into place, so a failed or cancelled job changes
nothing that is served.

``recsys.dashboard.ui.jobs`` holds one ``JobRegistry`` per process, so every session
sees the same job. At most one job runs per artifacts folder, and after a job that a
visitor started ends, the next such job waits out a cooldown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsys.config import HybridConfig, TrainConfig
from recsys.dashboard.text import error_text
from recsys.errors import RecsysError, known_errors
from recsys.model.kinds import kind_of
from recsys.progress import fraction_of, parse_progress_line
from recsys.settings import PROJECT_ROOT

CANCEL_GRACE_S = 10.0  # seconds a cancelled child has to exit before it is killed
CANCELLED = "Cancelled: nothing was replaced."


class JobBusyError(RecsysError):
    """Another job runs, or the last one ended too recently: this one does not start."""


class JobCancelledError(RecsysError):
    """The job was cancelled before it finished."""


@dataclass
class Job:
    """A training or evaluation, run by a thread (usually watching a child process);
    the UI polls it.

    ``done`` and ``total`` are in the work's own units (epochs, steps); ``fraction``
    is their ratio in [0, 1], and 1 once the job has finished, however it ended.
    ``requested``: a visitor started it (the cooldown follows it), not the app itself.
    """

    kind: str
    label: str
    done: float = 0.0
    total: float = 0.0
    text: str = "starting"
    error: str | None = None
    result: Any = None
    requested: bool = False
    started: float = field(default_factory=time.time)  # seconds since the epoch
    ended: float | None = None  # seconds since the epoch
    cancelled: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def fraction(self) -> float:
        if self.finished.is_set():
            return 1.0
        return fraction_of(self.done, self.total)

    def describe(self) -> str:
        elapsed = (self.ended or time.time()) - self.started
        return f"{self.label}: {self.text} ({elapsed:.0f} s)"

    def progress(self, done: float, total: float, text: str = "") -> None:
        """A ``recsys.progress.Progress``: ``done`` of ``total`` in the work's units
        (epochs, or a fraction of 1.0) and a status line. ``total`` 0 means a status
        line only: the bar keeps its place."""
        if total > 0:
            self.done, self.total = float(done), float(total)
        self.text = str(text)

    def cancel(self) -> bool:
        """Stop the job: its child gets SIGTERM, and SIGKILL after ``CANCEL_GRACE_S``.
        False when it had already finished."""
        with self._lock:
            if not self.running:
                return False
            self.cancelled = True
            self.text = "cancelling"
            process = self.process
        if process is not None:
            stop_process(process)
        return True

    def attach(self, process: subprocess.Popen) -> None:
        """Keep the child to stop on cancel; a job cancelled before it started its
        child stops that child at once."""
        with self._lock:
            self.process = process
            cancelled = self.cancelled
        if cancelled:
            stop_process(process)


def stop_process(process: subprocess.Popen, grace_s: float = CANCEL_GRACE_S) -> None:
    """SIGTERM to the child's process group, then SIGKILL if it still runs after
    ``grace_s`` seconds."""

    def signal_group(sig: int) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)

    signal_group(signal.SIGTERM)
    timer = threading.Timer(grace_s, signal_group, args=(signal.SIGKILL,))
    timer.daemon = True
    timer.start()


Work = Callable[[Job], Any]


def run_job(job: Job, work: Work) -> None:
    """Run ``work(job)``; keep its result, or its failure as one line. Never raises."""
    try:
        job.result = work(job)
    except JobCancelledError:
        job.error = CANCELLED
    except known_errors() as err:
        job.error = error_text(err)
    except Exception as err:  # noqa: BLE001 - a thread must report its failure, not die silently
        job.error = f"{type(err).__name__}: {error_text(err)}"
    finally:
        job.ended = time.time()
        job.finished.set()


class JobRegistry:
    """The latest job of each kind per artifacts folder; at most one running per
    folder; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Job] = {}

    @staticmethod
    def _folder(artifacts: Path) -> str:
        return str(artifacts.resolve())

    def latest(self, kind: str, artifacts: Path) -> Job | None:
        return self._jobs.get((kind, self._folder(artifacts)))

    def running(self, artifacts: Path) -> Job | None:
        """The job running for ``artifacts``, of any kind, or None."""
        folder = self._folder(artifacts)
        jobs = [job for (_, f), job in self._jobs.items() if f == folder and job.running]
        return jobs[0] if jobs else None

    def cancel_all(self) -> None:
        """Cancel every running job: the server is stopping, and a child left behind
        would go on using the cores (and write a bundle) with no one watching."""
        for job in list(self._jobs.values()):
            job.cancel()

    def cooldown_left(self, artifacts: Path, cooldown_s: float) -> float:
        """Seconds until a visitor may start the next job (0: now)."""
        folder = self._folder(artifacts)
        ends = [
            job.ended
            for (_, f), job in self._jobs.items()
            if f == folder and job.requested and job.ended is not None
        ]
        return max(max(ends, default=float("-inf")) + cooldown_s - time.time(), 0.0)

    def start(
        self,
        kind: str,
        label: str,
        work: Work,
        artifacts: Path,
        *,
        requested: bool = False,
        cooldown_s: float = 0.0,
    ) -> Job:
        """Start ``work(job)`` in a daemon thread.

        While a job runs for ``artifacts``, the app's own start of the same kind gets
        that job back (two first sessions train once); anything else is refused
        (JobBusyError), as is a visitor's job (``requested``) less than ``cooldown_s``
        seconds after the last visitor's job ended.
        """
        folder = self._folder(artifacts)
        with self._lock:
            running = self.running(artifacts)
            if running is not None:
                if running.kind == kind and not requested:
                    return running
                raise JobBusyError(f"{running.label} is running; wait for it, or cancel it.")
            left = self.cooldown_left(artifacts, cooldown_s) if requested else 0.0
            if left > 0:
                raise JobBusyError(
                    f"A job ended moments ago; the next may start in {left:.0f} s "
                    "(one job at a time, with a pause between)."
                )
            job = Job(kind=kind, label=label, requested=requested)
            self._jobs[(kind, folder)] = job
        name = f"recsys-{kind}"
        threading.Thread(target=run_job, args=(job, work), name=name, daemon=True).start()
        return job


# ---------------------------------------------------------------------------- the child


def _failure(code: int, lines: deque[str]) -> str:
    """The child's own one-line error (``error: …``), else its exit status and last line."""
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    last = lines[-1] if lines else "no message"
    return f"it stopped with exit status {code}: {last}"


def run_command(job: Job, argv: list[str]) -> Any:
    """Run ``python -m recsys ARGV --json --progress-json`` for ``job``
    (:func:`run_child`); returns the command's JSON object."""
    return run_child(job, [sys.executable, "-m", "recsys", *argv, "--json", "--progress-json"])


def run_child(job: Job, command: list[str]) -> Any:
    """Run ``command`` as a child in its own process group: its progress lines on
    stderr (``recsys.progress.JsonLinesProgress``) move ``job``, and the last line of
    its stdout, one JSON object, is returned.

    Raises RecsysError with the child's one-line error (``error: …``) when it fails,
    and JobCancelledError when the job was cancelled.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    lines: deque[str] = deque(maxlen=20)
    # stdout to a file: a pipe that nobody reads while stderr is read could fill up.
    with tempfile.TemporaryFile() as stdout:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env=env,
            text=True,
            errors="replace",
            start_new_session=True,  # its own group: a cancel stops it and its children
        )
        job.attach(process)
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                reported = parse_progress_line(line)
                if reported is not None:
                    job.progress(*reported)
                elif line.strip():
                    lines.append(line.strip())
        code = process.wait()
        if job.cancelled and code != 0:
            raise JobCancelledError(CANCELLED)
        if code != 0:
            raise RecsysError(_failure(code, lines))
        stdout.seek(0)
        output = stdout.read().decode("utf-8", errors="replace").strip().splitlines()
    try:
        return json.loads(output[-1])
    except (IndexError, ValueError):
        raise RecsysError("it printed no result") from None


# ---------------------------------------------------------------------------- the work


def training_argv(config: TrainConfig | HybridConfig) -> list[str]:
    """``train``'s arguments that make exactly ``config`` (its kind's command line);
    UsageError when the command line cannot say it (a field it has no flag for)."""
    return kind_of(config).argv(config)


def train_work(
    config: TrainConfig | HybridConfig, data_path: Path, artifacts: Path, force: bool = False
) -> Work:
    """Train a bundle of the configured model on the dataset at ``data_path``, in a
    child; its result, the train command's JSON, says whether the quality gate let it
    be served (``force``: serve it whatever the gate says)."""
    argv = ["train", *training_argv(config)] + ["--force"] * force
    argv += ["--data", str(Path(data_path).resolve()), "--artifacts", str(artifacts.resolve())]

    def work(job: Job) -> Any:
        job.progress(0, config.epochs, "starting")
        return run_command(job, argv)

    return work


def evaluation_work(preset: str, recipe: str, data_path: Path, artifacts: Path) -> Work:
    """Evaluate (holdout, one seed) on the dataset at ``data_path`` in a child; it
    saves the result beside the bundle."""
    argv = ["evaluate", "--protocol", "holdout", "--preset", preset, "--recipe", recipe]
    argv += ["--seeds", "1", "--data", str(Path(data_path).resolve())]
    argv += ["--artifacts", str(artifacts.resolve())]

    def work(job: Job) -> Any:
        job.progress(0, 0, "starting")
        return run_command(job, argv)

    return work


# Training throughput of the hybrid model, rows × epochs per second, on 2 cores:
# 140,000 measured on a quiet machine (ml-latest-small, 25 epochs, 18 s), 50,000 in
# the bench, less on a busy one. The estimate spans the two.
FAST_ROWS_PER_S, SLOW_ROWS_PER_S = 140_000, 50_000
_BYTES_PER_RATING = 25  # a ratings.csv line of MovieLens, on average


def estimated_ratings(data_path: Path) -> int | None:
    """About how many ratings the dataset holds, from ratings.csv's size (no parsing);
    None when it cannot tell."""
    import zipfile

    try:
        if data_path.is_file():
            with zipfile.ZipFile(data_path) as archive:
                sizes = [
                    i.file_size for i in archive.infolist() if i.filename.endswith("ratings.csv")
                ]
            size = sizes[0] if sizes else 0
        else:
            size = (data_path / "ratings.csv").stat().st_size
    except (OSError, zipfile.BadZipFile):
        return None
    return size // _BYTES_PER_RATING or None


def training_estimate(config: TrainConfig | HybridConfig, data_path: Path) -> str:
    """``"about 20 s to a minute on 2 cores for about 99,000 ratings"``, or "" when the
    size is unknown."""
    ratings = estimated_ratings(data_path)
    if ratings is None:
        return ""
    work = ratings * config.epochs
    low, high = work / FAST_ROWS_PER_S, work / SLOW_ROWS_PER_S

    def spoken(seconds: float) -> str:
        if seconds < 90:
            return f"{max(5, round(seconds / 5) * 5):.0f} s"
        return f"{seconds / 60:.0f} min"

    return f"about {spoken(low)} to {spoken(high)} on 2 cores for about {ratings:,} ratings"
