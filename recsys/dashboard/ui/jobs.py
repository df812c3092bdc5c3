"""Background jobs on the page: one registry per process, start a job, follow its
progress, cancel it.

The jobs themselves (``recsys.dashboard.jobs``) are child processes watched by a
thread; here they get a progress bar and a Cancel button, and every session sees the
same running job.
"""

from __future__ import annotations

import atexit
from pathlib import Path

import streamlit as st

from recsys.config import HybridConfig, TrainConfig
from recsys.dashboard.jobs import Job, JobRegistry, Work, evaluation_work, train_work
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.access import authorized
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.model.kinds import training_label
from recsys.settings import job_cooldown_s, resolve_data_path


@st.cache_resource
def job_registry() -> JobRegistry:
    """Process-wide: at most one running job per artifacts folder, seen by every
    session; its jobs are cancelled when the server stops."""
    registry = JobRegistry()
    atexit.register(registry.cancel_all)
    return registry


def latest_job(kind: str, artifacts: Path | None = None) -> Job | None:
    return job_registry().latest(kind, artifacts or artifacts_dir())


def start_job(kind: str, label: str, work: Work, *, requested: bool) -> Job:
    """Start ``work(job)``; JobBusyError while another job runs, and for a visitor's
    job (``requested``) during the cooldown after the last one."""
    return job_registry().start(
        kind, label, work, artifacts_dir(), requested=requested, cooldown_s=job_cooldown_s()
    )


def follow_job(job: Job, poll_seconds: float = 0.25) -> None:
    """A progress bar and status line that follow ``job`` until it ends (the first
    start's screen, which has nothing else to show)."""
    bar = st.progress(job.fraction, text=md_escape(job.describe()))
    while not job.finished.wait(poll_seconds):
        bar.progress(job.fraction, text=md_escape(job.describe()))
    bar.progress(1.0, text=md_escape(job.describe()))


def job_panel(kind: str, *, cancel: bool) -> Job | None:
    """The latest job of ``kind``; while it runs, its progress (redrawn every second,
    the app reruns when it ends) and, with ``cancel``, a button that stops it."""
    job = latest_job(kind)
    if job is None or not job.running:
        return job
    job_progress(kind)
    clicked = cancel and st.button("Cancel", key=f"cancel_{kind}", icon=":material/cancel:")
    if clicked and authorized("Cancelling"):
        job.cancel()
        st.rerun()
    return job


@st.fragment(run_every=1)
def job_progress(kind: str) -> None:
    """The running job's bar, refreshed each second; when it ends, the whole app reruns
    to show what it made."""
    job = latest_job(kind)
    if job is None:
        return
    if job.running:
        st.progress(job.fraction, text=md_escape(job.describe()))
        return
    st.rerun(scope="app")


def start_training(config: TrainConfig | HybridConfig, *, requested: bool = False) -> Job:
    """Train a new bundle on the current dataset into the artifacts folder, in a child
    process. ``requested``: a visitor asked (else the app's own first start)."""
    label = f"Training {training_label(config)}"
    work = train_work(config, resolve_data_path(None), artifacts_dir())
    return start_job("train", label, work, requested=requested)


def start_evaluation(preset: str, *, requested: bool = False) -> Job:
    """Evaluate on held-out ratings (``holdout``, one seed, ``preset``'s movies) in a
    child process; the result is saved beside the bundle."""
    work = evaluation_work(preset, "fast", resolve_data_path(None), artifacts_dir())
    return start_job("evaluate", "Evaluating on held-out ratings", work, requested=requested)
