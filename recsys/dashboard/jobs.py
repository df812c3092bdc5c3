"""Background jobs (training, evaluation) in threads, with their progress, as plain Python.

A job runs outside Streamlit's script thread, so leaving the page, or a rerun, never
interrupts it. ``recsys.dashboard.ui.jobs`` holds one ``JobRegistry`` per process
(``st.cache_resource``), so every session that looks sees the same job, and draws its progress.

TensorFlow is imported only inside the training work, when it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsys.config import HybridConfig, TrainConfig
from recsys.dashboard.text import error_text
from recsys.dataset.movielens import load_movielens
from recsys.dataset.tags import load_tags
from recsys.errors import known_errors
from recsys.evaluation import run_evaluation, save_evaluation
from recsys.model.kinds import RunOptions, train
from recsys.progress import fraction_of


@dataclass
class Job:
    """A training or evaluation running in a thread; the UI polls it.

    ``done`` and ``total`` are in the work's own units (epochs, steps); ``fraction``
    is their ratio in [0, 1], and 1 once the job has finished, however it ended.
    """

    kind: str
    label: str
    done: float = 0.0
    total: float = 0.0
    text: str = "starting"
    error: str | None = None
    result: Any = None
    started: float = field(default_factory=time.time)  # seconds since the epoch
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def fraction(self) -> float:
        if self.finished.is_set():
            return 1.0
        return fraction_of(self.done, self.total)

    def describe(self) -> str:
        elapsed = time.time() - self.started
        return f"{self.label}: {self.text} ({elapsed:.0f} s)"

    def progress(self, done: float, total: float, text: str = "") -> None:
        """A ``recsys.progress.Progress``: ``done`` of ``total`` in the work's units
        (epochs, or a fraction of 1.0) and a status line. ``total`` 0 means a status
        line only: the bar keeps its place."""
        if total > 0:
            self.done, self.total = float(done), float(total)
        self.text = str(text)


Work = Callable[[Job], Any]


def run_job(job: Job, work: Work) -> None:
    """Run ``work(job)``; keep its result, or its failure as one line. Never raises."""
    try:
        job.result = work(job)
    except known_errors() as err:
        job.error = error_text(err)
    except Exception as err:  # noqa: BLE001 - a thread must report its failure, not die silently
        job.error = f"{type(err).__name__}: {error_text(err)}"
    finally:
        job.finished.set()


class JobRegistry:
    """The latest job of each kind per artifacts folder; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Job] = {}

    @staticmethod
    def _key(kind: str, artifacts: Path) -> tuple[str, str]:
        return kind, str(artifacts.resolve())

    def latest(self, kind: str, artifacts: Path) -> Job | None:
        return self._jobs.get(self._key(kind, artifacts))

    def start(self, kind: str, label: str, work: Work, artifacts: Path) -> Job:
        """Start ``work(job)`` in a daemon thread, unless a job of this kind is already
        running for ``artifacts``: then return that one."""
        key = self._key(kind, artifacts)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.running:
                return job
            job = Job(kind=kind, label=label)
            self._jobs[key] = job
        name = f"recsys-{kind}"
        threading.Thread(target=run_job, args=(job, work), name=name, daemon=True).start()
        return job


# ---------------------------------------------------------------------------- the work


def train_work(
    config: TrainConfig | HybridConfig, data_path: Path, artifacts: Path, force: bool = False
) -> Work:
    """Train a bundle of the configured model on the dataset at ``data_path``; its
    result, a TrainReport, says whether the quality gate let it be served (``force``:
    serve it whatever the gate says)."""

    def work(job: Job) -> Any:
        job.progress(0, config.epochs, "reading the data")
        dataset = load_movielens(data_path)
        # TensorFlow is imported by the kind's trainer, only to train.
        return train(dataset, config, artifacts, RunOptions(progress=job.progress, force=force))

    return work


def evaluation_work(preset: str, recipe: str, data_path: Path, artifacts: Path) -> Work:
    """Evaluate (holdout, one seed) on the dataset at ``data_path``; save beside the bundle."""

    def work(job: Job) -> Any:
        job.progress(0, 0, "reading the data")
        dataset = load_movielens(data_path)
        job.progress(0, 0, "evaluating")
        result = run_evaluation(
            dataset,
            protocol="holdout",
            preset=preset,
            recipe=recipe,
            seeds=1,
            progress=job.progress,
            tags=load_tags(data_path),
        )
        save_evaluation(artifacts, result)
        return result

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
