"""How good the served model is, on screen: the sidebar's lines, the Model page's
headline, and the evaluation that a fresh install runs in the background.

Every headline figure is the saved leak-free evaluation's (``recsys.dashboard.accuracy``);
the lab split's figures appear only labelled as leaking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from recsys.config import PRESETS
from recsys.dashboard import accuracy
from recsys.dashboard.jobs import Job, JobBusyError
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.dashboard.ui.jobs import job_progress, latest_job, start_evaluation
from recsys.evaluation import load_evaluation
from recsys.serving.recommender import Recommender

# The hybrid model has no preset of its own: the background evaluation scores it on the
# lab's selection of movies (about a minute on 2 cores; the whole catalogue takes
# several), as the first table of docs/evaluation.md does.
DEFAULT_EVALUATION_PRESET = "lab"
HEADLINE_HELP = (
    "Models trained the way the served one is, on 80% of each user's ratings, and "
    "scored on the other 20%, which shaped nothing they learned. Computed on: {basis}."
)


def evaluation_preset(manifest: Mapping[str, Any]) -> str:
    """The preset an evaluation of this bundle's model uses: its own (the lab network's
    config names one), else the lab's selection (the hybrid's config names none)."""
    preset = (manifest.get("config") or {}).get("preset")
    if preset not in PRESETS:
        return DEFAULT_EVALUATION_PRESET
    return preset


def saved_evaluation() -> dict | None:
    """The latest saved evaluation; after a picks protocol's run (``onepick``), the
    latest ``holdout`` one, which the headline reads."""
    latest = load_evaluation(artifacts_dir())
    if latest is not None and latest.get("protocol") in accuracy.PICK_PROTOCOLS:
        return load_evaluation(artifacts_dir(), "holdout")
    return latest


def evaluate_in_background(manifest: Mapping[str, Any]) -> Job | None:
    """After the first training: start an evaluation when none is saved and none has
    run in this process; the sidebar and the Model page follow it."""
    if saved_evaluation() is not None or latest_job("evaluate") is not None:
        return None
    try:
        return start_evaluation(evaluation_preset(manifest))
    except JobBusyError:
        return None  # another job runs: the Model page offers the evaluation later


def sidebar_lines(model: Recommender) -> None:
    """The served model's leak-free figures (or the evaluation's progress, or why there
    are none), then the lab split's, labelled as leaking."""
    head = accuracy.headline(saved_evaluation(), model.model_kind)
    job = latest_job("evaluate")
    if head is not None:
        st.caption(
            f"**{head.text()}**",
            help=HEADLINE_HELP.format(basis=md_escape(head.basis)),
        )
    elif job is not None and job.running:
        job_progress("evaluate")
    elif job is not None and job.error:
        st.caption(f"The evaluation failed: {md_escape(job.error)}")
    else:
        st.caption(
            "Not yet measured on held-out ratings: the Model page runs an evaluation "
            "(about a minute)."
        )
    leaky = accuracy.leaky_text(model.manifest.get("metrics") or {})
    if leaky:
        st.caption(leaky)


def headline_section(model: Recommender) -> None:
    """The Model page's headline: the leak-free RMSE and NDCG@10, the plain verdict
    against the baselines and peers, and what they were computed on."""
    result = saved_evaluation()
    head = accuracy.headline(result, model.model_kind)
    if head is None:
        job = latest_job("evaluate")
        if job is not None and job.running:
            st.info(
                "Measuring the model on held-out ratings in the background; the result "
                "shows here, and in the sidebar, when it is done.",
                icon=":material/science:",
            )
            st.progress(job.fraction, text=md_escape(job.describe()))
        else:
            st.info(
                "Not yet measured on held-out ratings: run an evaluation below.",
                icon=":material/science:",
            )
        return
    with st.container(horizontal=True, gap="large"):
        for metric, value in (
            ("rmse", f"{accuracy.figure(head.rmse, '.3f')} ★"),
            ("ndcg_at_10", accuracy.figure(head.ndcg, ".3f")),
        ):
            st.metric(
                accuracy.metric_label(metric),
                value,
                help=accuracy.metric_help(metric),
                width="content",
            )
    verdict = accuracy.verdict(result, model.model_kind)
    if verdict:
        st.markdown(md_escape(verdict, limit=800))
    st.caption(HEADLINE_HELP.format(basis=md_escape(head.basis)))
