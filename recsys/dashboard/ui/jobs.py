"""Background jobs on the page: one registry per process, start a job, follow its progress.

The jobs themselves (``recsys.dashboard.jobs``) are plain threads; here they get a
progress bar, and every session sees the same running job.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from recsys.config import HybridConfig, TrainConfig, training_label
from recsys.dashboard.jobs import Job, JobRegistry, Work, evaluation_work, train_work
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.settings import resolve_data_path


@st.cache_resource
def _job_registry() -> JobRegistry:
    """Process-wide: one job of each kind per artifacts folder, seen by every session."""
    return JobRegistry()


def latest_job(kind: str, artifacts: Path | None = None) -> Job | None:
    return _job_registry().latest(kind, artifacts or artifacts_dir())


def start_job(kind: str, label: str, work: Work, artifacts: Path | None = None) -> Job:
    """Start ``work(job)`` in a thread unless a job of this kind is already running."""
    return _job_registry().start(kind, label, work, artifacts or artifacts_dir())


def follow_running(kind: str) -> Job | None:
    """The latest job of ``kind``; while it runs, follow it to its end, then rerun."""
    job = latest_job(kind)
    if job is not None and job.running:
        follow_job(job)
        st.rerun()
    return job


def follow_job(job: Job, poll_seconds: float = 0.25) -> None:
    """A progress bar and status line that follow ``job`` until it ends."""
    bar = st.progress(job.fraction, text=md_escape(job.describe()))
    while not job.finished.wait(poll_seconds):
        bar.progress(job.fraction, text=md_escape(job.describe()))
    bar.progress(1.0, text=md_escape(job.describe()))


def start_training(config: TrainConfig | HybridConfig) -> Job:
    """Train a new bundle on the current dataset into the artifacts folder, in a thread."""
    artifacts = artifacts_dir()
    label = f"Training {training_label(config)}"
    work = train_work(config, resolve_data_path(None), artifacts)
    return start_job("train", label, work, artifacts)


def start_evaluation(preset: str) -> Job:
    """Evaluate on held-out ratings (``holdout``, one seed, ``preset``'s movies) in a
    thread; the result is saved beside the bundle."""
    artifacts = artifacts_dir()
    work = evaluation_work(preset, "fast", resolve_data_path(None), artifacts)
    return start_job("evaluate", "Evaluating on held-out ratings", work, artifacts)
