"""Model: the architecture, the loss per epoch, test metrics, retraining and evaluation."""

import streamlit as st

from recsys.dashboard import charts
from recsys.dashboard.tables import architecture_table, model_facts
from recsys.dashboard.ui import frame, model_page, widgets

model = frame.require_model()
widgets.write_url("model", {})
st.title("Model")
manifest = model.manifest
metrics = manifest.get("metrics", {})
facts = model_facts(manifest)

st.subheader("Architecture")
architecture = architecture_table(manifest)
widgets.metric_row(
    [
        ("Parameters", f"{int(architecture['params'].sum()):,}", "The lab's model has 82,240"),
        *facts.inputs,
    ]
)
st.caption(f"Served: {facts.name}. {facts.architecture_note}")
st.dataframe(architecture, hide_index=True, height=widgets.table_height(len(architecture)))

st.subheader("Training")
left, right = st.columns([3, 2], gap="large")
chart = charts.loss_chart(model.history)
if chart is None:
    left.info("This bundle has no loss history.")
else:
    left.altair_chart(chart, width="stretch")
with right:
    if not facts.lab_split_metrics:
        st.info(
            "The hybrid model trains on every rating, so it has no test split of its own: "
            "its honest accuracy is the evaluation below, on held-out ratings.",
            icon=":material/info:",
        )
    widgets.metric_row(
        [
            ("Test RMSE", f"{widgets.metric_value(metrics, 'test_rmse_stars', '.3f')} ★", None),
            ("Test MSE", widgets.metric_value(metrics, "test_mse", ".4f"), None),
            ("Train MSE", widgets.metric_value(metrics, "train_mse", ".4f"), None),
            ("Fit time", f"{widgets.metric_value(metrics, 'fit_seconds', '.0f')} s", None),
        ]
    )
    st.caption(
        "MSE is in the scaled [-1, 1] units the network is trained in (the lab: 0.0713 "
        "train, 0.0815 test); RMSE is in stars. Test = the lab's held-out 20%."
    )
    with st.expander("How this bundle was made"):
        st.json({key: manifest.get(key, {}) for key in ("config", "counts", "versions")})

st.subheader("Retrain")
model_page.retrain_section(manifest.get("config", {}))

st.subheader("Kept bundles")
model_page.served_bundles_section(model.model_kind)

st.subheader("Evaluation against baselines")
model_page.evaluation_section(manifest.get("config", {}).get("preset", "lab"))
