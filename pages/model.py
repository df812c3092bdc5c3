"""Model: the architecture, the loss per epoch, test metrics, retraining and evaluation."""

import streamlit as st

from recsys.dashboard.accuracy import leaky_text
from recsys.dashboard.tables import model_facts
from recsys.dashboard.ui import accuracy, frame, model_page, widgets

model = frame.require_model()
widgets.write_url("model", {})
st.title("Model")
manifest = model.manifest
metrics = manifest.get("metrics", {})
facts = model_facts(manifest)

st.subheader("How good is it?")
accuracy.headline_section(model)

st.subheader("Architecture")
model_page.architecture_section(manifest, "The lab's model has 82,240")

st.subheader("Training")
left, right = st.columns([3, 2], gap="large")
model_page.loss_section(left, model.history)
with right:
    leaky = leaky_text(metrics) if facts.lab_split_metrics else None
    if leaky is None:
        st.info(
            "The hybrid model trains on every rating, so it has no test split of its own: "
            "its honest accuracy is the evaluation on held-out ratings (above and below).",
            icon=":material/info:",
        )
        widgets.metric_row(
            [("Fit time", f"{widgets.metric_value(metrics, 'fit_seconds', '.0f')} s", None)]
        )
    else:
        st.caption(leaky)
        widgets.metric_row(
            [
                (
                    "Lab split: test RMSE (leaks)",
                    f"{widgets.metric_value(metrics, 'test_rmse_stars', '.3f')} ★",
                    "On the lab's random 20% of the rows, after scalers were fit on every "
                    "rating: flattering. The honest figure is above.",
                ),
                (
                    "Lab split: test MSE (leaks)",
                    widgets.metric_value(metrics, "test_mse", ".4f"),
                    "The same, in the scaled [-1, 1] units the network trains in "
                    "(the lab's: 0.0815)",
                ),
                (
                    "Train MSE",
                    widgets.metric_value(metrics, "train_mse", ".4f"),
                    "On the rows it trained on, in the scaled units (the lab's: 0.0713)",
                ),
                ("Fit time", f"{widgets.metric_value(metrics, 'fit_seconds', '.0f')} s", None),
            ]
        )
    with st.expander("How this bundle was made"):
        st.json({key: manifest.get(key, {}) for key in ("config", "counts", "versions")})

st.subheader("Retrain")
model_page.retrain_section(manifest.get("config", {}))

st.subheader("Kept bundles")
model_page.served_bundles_section(model.model_kind)

st.subheader("Evaluation against baselines")
model_page.evaluation_section(accuracy.evaluation_preset(manifest), model.model_kind)
