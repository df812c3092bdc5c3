"""The Model page's forms: retrain (with the job's progress and the quality gate's
verdict), the kept bundles with a way back, and the saved evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from recsys.config import MODELS, PRESETS, RECIPES
from recsys.dashboard import accuracy
from recsys.dashboard.access import (
    BROWSER_BATCH,
    BROWSER_EPOCHS,
    BROWSER_LR,
    browser_training_problem,
)
from recsys.dashboard.accuracy import PRESET_WORDS
from recsys.dashboard.charts import evaluation_chart, loss_chart
from recsys.dashboard.jobs import Job, JobBusyError
from recsys.dashboard.tables import architecture_table, kept_bundles_table, model_facts
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.access import authorized, may_operate, visitor_access
from recsys.dashboard.ui.cache import artifacts_dir
from recsys.dashboard.ui.jobs import job_panel, start_evaluation, start_training
from recsys.dashboard.ui.widgets import (
    metric_row,
    show_chart,
    show_error,
    show_table,
    table_height,
)
from recsys.errors import known_errors
from recsys.evaluation import evaluation_tables, load_evaluation
from recsys.model import kinds
from recsys.model.bundle import KEEP_PER_MODEL, previous_bundle, rollback, serve_bundle
from recsys.model.bundle.gate import TOLERANCE

_MY_TRAINING = "_my_training"  # when this session's last training started
_SERVED_ANYWAY = "_served_anyway"  # the refused bundle this session served anyway
_ROLLED_BACK = "_rolled_back"  # the message after a rollback, shown once


def architecture_section(manifest: Mapping[str, Any], parameters_help: str | None = None) -> None:
    """The served network's parameter count and inputs, in words, then its layers."""
    facts = model_facts(manifest)
    architecture = architecture_table(manifest)
    metric_row(
        [("Parameters", f"{int(architecture['params'].sum()):,}", parameters_help), *facts.inputs]
    )
    st.caption(f"Served: {facts.name}. {facts.architecture_note}")
    show_table(st, architecture, hide_index=True, height=table_height(len(architecture)))


def loss_section(slot: Any, history: Mapping[str, Any]) -> None:
    """The loss per epoch in ``slot`` (a column), or a note that the bundle has none."""
    chart = loss_chart(history)
    if chart is None:
        slot.info("This bundle has no loss history.")
    else:
        show_chart(slot, chart, width="stretch")


def training_finished_message(job: Job) -> None:
    """The outcome of a finished training job: an error, the quality gate's refusal
    with a "Serve it anyway" button, or a success."""
    if job.error:
        show_error(job.error, "Nothing was replaced: the previous model, if any, is still served.")
        return
    report = job.result if isinstance(job.result, Mapping) else {}  # train's JSON
    seconds = report.get("seconds")
    took = f" in {seconds:.0f} s" if isinstance(seconds, float) else ""
    kind = report.get("model", "new")
    bundle = str(report.get("bundle", ""))
    if report.get("served", True) or st.session_state.get(_SERVED_ANYWAY) == bundle:
        st.success(
            f"New model trained{took}; every open session now serves it as the {kind} model.",
            icon=":material/check_circle:",
        )
        return
    reason = (report.get("gate") or {}).get("reason", "")
    st.warning(
        f"New {kind} model trained{took}, but **not served**: {md_escape(reason)}. The "
        "previous one is still served; the new one is kept.",
        icon=":material/warning:",
    )
    if not visitor_access().allowed:
        return  # the retrain section says why
    if st.button("Serve it anyway", key="serve_anyway", type="primary"):
        if not authorized("Serving it anyway"):
            return
        try:
            serve_bundle(artifacts_dir(), bundle)
        except known_errors() as err:
            show_error(err)
            return
        st.session_state[_SERVED_ANYWAY] = bundle
        st.rerun()


def served_bundles_section(model: str) -> None:
    """The kept bundles of ``model`` and a button that serves the previous one."""
    artifacts = artifacts_dir()
    note = st.session_state.pop(_ROLLED_BACK, None)
    if note:
        st.success(note, icon=":material/undo:")
    kept = kept_bundles_table(artifacts, model)
    st.caption(
        f"The last {KEEP_PER_MODEL} bundles of the {model} model are kept (and the served "
        "one). Validation RMSE: the quality gate's figure, in stars, on a fixed slice of "
        "the training ratings; a new model more than "
        f"{TOLERANCE:.0%} worse than the served one is kept but not served."
    )
    show_table(
        st,
        kept,
        hide_index=True,
        column_config={
            "validation RMSE": st.column_config.NumberColumn(format="%.3f ★"),
            "served": st.column_config.CheckboxColumn(),
        },
    )
    if not may_operate("Serving the previous model"):
        return
    try:
        previous = previous_bundle(artifacts, model)
    except known_errors():
        previous = None
    clicked = st.button(
        "Serve the previous model",
        key="rollback",
        icon=":material/undo:",
        disabled=previous is None,
        help=f"Serve {previous.name}" if previous else "No older bundle is kept",
    )
    if not clicked or not authorized("Serving the previous model"):
        return
    try:
        now = rollback(artifacts, model)
    except known_errors() as err:
        show_error(err)
        return
    st.session_state[_ROLLED_BACK] = f"Now serving {now.name} as the {model} model."
    st.rerun()


def retrain_section(config: Mapping[str, Any]) -> None:
    """The retrain form, for the operator (``recsys.dashboard.access``), bounded to what
    a browser may ask. A running training (from any session) shows its progress and,
    to the operator, a Cancel button; the session that started it then sees how it went."""
    allowed = may_operate("Retraining", sign_in=True)
    job = job_panel("train", cancel=allowed)
    if job is not None and job.running:
        return
    if job is not None and st.session_state.get(_MY_TRAINING) == job.started:
        training_finished_message(job)
    if not allowed:
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
        epochs = cells[0].number_input("Epochs", *BROWSER_EPOCHS, value=None, placeholder=keep)
        lr = cells[1].number_input(
            "Learning rate", *BROWSER_LR, value=None, step=0.001, format="%.4f", placeholder=keep
        )
        batch_size = cells[2].number_input(
            "Batch size", *BROWSER_BATCH, value=None, placeholder=keep
        )
        submitted = st.form_submit_button(
            "Train a new model", type="primary", icon=":material/model_training:"
        )
    st.caption(
        "The new bundle is written beside the old one and swapped in atomically; "
        "a failed or cancelled run changes nothing, and a clearly worse one is kept but "
        "not served."
    )
    if not submitted:
        return
    try:
        overrides = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": int(seed)}
        make_config = kinds.model_kind(model).make_config
        train_config = make_config(recipe=recipe, preset=preset, **overrides)
    except known_errors() as err:
        show_error(err)
        return
    problem = browser_training_problem(train_config)
    if problem:
        show_error(problem)
        return
    if not authorized("Retraining"):
        return
    try:
        st.session_state[_MY_TRAINING] = start_training(train_config, requested=True).started
    except JobBusyError as err:
        show_error(err)
        return
    st.rerun()


def evaluation_section(preset: str, model_kind: str) -> None:
    """The latest saved evaluation (table and chart), a running one's progress, and a
    button to run a new one."""
    result = load_evaluation(artifacts_dir())  # None when absent or damaged; never raises
    if result:
        _show_evaluation(result, model_kind)
        other = accuracy.beside(result.get("protocol"))
        shown_beside = load_evaluation(artifacts_dir(), other)
        if shown_beside:
            st.markdown(f"**{md_escape(accuracy.protocol_title(other))}**")
            _show_evaluation(shown_beside, model_kind, chart_key=f"eval_metric_{other}")
    else:
        st.info("No evaluation saved yet.", icon=":material/science:")
    allowed = may_operate("Running an evaluation")
    job = job_panel("evaluate", cancel=allowed)
    if job is not None and job.running:
        return
    if job is not None and job.error:
        show_error(job.error)
    if not allowed:
        return
    clicked = st.button(
        "Run a new evaluation",
        icon=":material/science:",
        key="run_evaluation",
        help=f"Held-out 20% of each user's ratings, one seed, {PRESET_WORDS[preset]}: "
        "about a minute on 2 cores. `python -m recsys evaluate --seeds 3` averages three.",
    )
    if not clicked or not authorized("Running an evaluation"):
        return
    try:
        start_evaluation(preset, requested=True)
    except JobBusyError as err:
        show_error(err)
        return
    st.rerun()


def _show_evaluation(
    result: Mapping[str, Any], model_kind: str, chart_key: str = "eval_metric"
) -> None:
    """The mean of each metric per model (a table with plain labels, and a chart of one
    metric)."""
    means, stds = evaluation_tables(result)
    st.caption(
        f"Computed on {md_escape(accuracy.basis(result))}. Every model was trained on the "
        "same ratings and scored on the same held-out ones; hover a column for what it means."
    )
    shown = accuracy.plain_table(means)
    config: dict[str, Any] = {
        "model": st.column_config.TextColumn(
            "model", help="Ours, the lab's network, simple baselines and well-known libraries"
        )
    }
    for metric in means.columns[1:]:
        config[accuracy.metric_label(metric)] = st.column_config.NumberColumn(
            help=accuracy.metric_help(metric), format="%.3f"
        )
    show_table(st, shown, hide_index=True, column_config=config, placeholder="—")
    with st.expander("What the models are"):
        st.markdown(
            "\n".join(f"- **{name}**: {what}" for name, what in accuracy.MODEL_WORDS.values())
        )
    if stds is not None:
        with st.expander("Standard deviations over seeds"):
            show_table(st, accuracy.plain_table(stds), hide_index=True, placeholder="—")
    metrics = list(means.columns[1:])
    if metrics:
        metric = st.selectbox("Chart", metrics, key=chart_key, format_func=accuracy.metric_label)
        ours = accuracy.model_label(accuracy.evaluated_name(model_kind))
        chart = evaluation_chart(
            means.assign(model=means["model"].map(accuracy.model_label)),
            metric,
            accuracy.metric_label(metric),
            ours=ours,
        )
        show_chart(st, chart, width="stretch")
