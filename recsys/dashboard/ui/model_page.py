"""The Model page's forms: retrain (with the job's progress) and the saved evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from recsys.config import HYBRID, MODELS, PRESETS, RECIPES, hybrid_config, recipe_config
from recsys.dashboard.charts import evaluation_chart
from recsys.dashboard.jobs import Job, evaluation_work
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.dashboard.ui.jobs import follow_running, start_job, start_training
from recsys.dashboard.ui.widgets import may_retrain, show_error
from recsys.errors import known_errors
from recsys.evaluation import evaluation_tables, load_evaluation
from recsys.settings import resolve_data_path

_MY_TRAINING = "_my_training"  # when this session's last training started


def training_finished_message(job: Job) -> None:
    """The outcome of a finished training job, once."""
    if job.error:
        show_error(job.error, "Nothing was replaced: the previous model, if any, is still served.")
    else:
        seconds = getattr(job.result, "seconds", None)
        took = f" in {seconds:.0f} s" if isinstance(seconds, float) else ""
        st.success(
            f"New model trained{took}; every open session now serves it.",
            icon=":material/check_circle:",
        )


def retrain_section(config: Mapping[str, Any]) -> None:
    """The retrain form. A running training (from any session) is followed to its end;
    the session that started it then sees how it went."""
    job = follow_running("train")
    if job is not None and st.session_state.get(_MY_TRAINING) == job.started:
        training_finished_message(job)
    if not may_retrain():
        return
    served_preset = config.get("preset") if config.get("preset") in PRESETS else "lab"
    keep = "the recipe's"
    with st.form("retrain"):
        model = st.radio(
            "Model",
            MODELS,
            horizontal=True,
            key="retrain_model",
            help="hybrid: the whole catalogue, genres and rated movies · lab: the lab's "
            "network (preset and recipe apply to it only)",
        )
        cells = st.columns(3)
        preset = cells[0].selectbox("Preset", PRESETS, index=PRESETS.index(served_preset))
        recipe = cells[1].selectbox(
            "Recipe",
            RECIPES,
            help="fast: 12 epochs, batch 256, lr 0.003 decaying · "
            "lab: 30 epochs, batch 32, lr 0.01",
        )
        seed = cells[2].number_input("Seed", 0, 2**31 - 1, value=1)
        cells = st.columns(3)
        epochs = cells[0].number_input("Epochs", 1, 500, value=None, placeholder=keep)
        lr = cells[1].number_input(
            "Learning rate", 1e-5, 1.0, value=None, step=0.001, format="%.4f", placeholder=keep
        )
        batch_size = cells[2].number_input("Batch size", 1, 65536, value=None, placeholder=keep)
        submitted = st.form_submit_button(
            "Train a new model", type="primary", icon=":material/model_training:"
        )
    st.caption(
        "The new bundle is written beside the old one and swapped in atomically; "
        "a failed run changes nothing."
    )
    if not submitted:
        return
    try:
        overrides = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": int(seed)}
        if model == HYBRID:
            train_config = hybrid_config(**overrides)
        else:
            train_config = recipe_config(recipe, preset=preset, **overrides)
    except known_errors() as err:
        show_error(err)
        return
    st.session_state[_MY_TRAINING] = start_training(train_config).started
    st.rerun()


def evaluation_section(preset: str) -> None:
    """The latest saved evaluation (table and chart) and a button to run a new one."""
    result = load_evaluation(artifacts_dir())  # None when absent or damaged; never raises
    if result:
        _show_evaluation(result)
    else:
        st.info("No evaluation saved yet.", icon=":material/science:")
    job = follow_running("evaluate")
    if job is not None and job.error:
        show_error(job.error)
    if st.button("Run a new evaluation", icon=":material/science:", key="run_evaluation"):
        artifacts = artifacts_dir()
        work = evaluation_work(preset, "fast", resolve_data_path(None), artifacts)
        start_job("evaluate", "Evaluation", work, artifacts)
        st.rerun()


def _show_evaluation(result: Mapping[str, Any]) -> None:
    """The mean of each metric per model (a table, and a chart of one metric)."""
    means, stds = evaluation_tables(result)
    st.caption(
        f"Protocol **{md_escape(result.get('protocol', '?'))}**, preset "
        f"**{md_escape(result.get('preset', '?'))}**, recipe "
        f"**{md_escape(result.get('recipe', '?'))}**. RMSE and MAE in stars (lower is "
        "better); the ranking metrics at 10 and coverage: higher is better."
    )
    digits = dict.fromkeys(means.columns[1:], st.column_config.NumberColumn(format="%.4f"))
    st.dataframe(means, hide_index=True, column_config=digits, placeholder="—")
    if stds is not None:
        with st.expander("Standard deviations over seeds"):
            st.dataframe(stds, hide_index=True, placeholder="—")
    metrics = list(means.columns[1:])
    if metrics:
        metric = st.selectbox("Chart", metrics, key="eval_metric")
        st.altair_chart(evaluation_chart(means, metric), width="stretch")
