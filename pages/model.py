"""Model: the architecture, the loss per epoch, test metrics, retraining and evaluation."""

import streamlit as st

from recsys.dashboard import charts
from recsys.dashboard.tables import architecture_table
from recsys.dashboard.ui import frame, model_page, widgets

model = frame.require_model()
widgets.write_url("model", {})
st.title("Model")
manifest = model.manifest
metrics = manifest.get("metrics", {})

st.subheader("Architecture")
architecture = architecture_table(manifest)
widgets.metric_row(
    [
        ("Parameters", f"{int(architecture['params'].sum()):,}", "The lab's model has 82,240"),
        ("User inputs", "14", "The user's average rating per genre (not userId, count, ave)"),
        ("Movie inputs", "16", "Year, ave rating and 14 genre flags; movieId is not fed"),
        ("Embedding", "32", "Each tower's L2-normalised output; the prediction is their dot"),
    ]
)
st.caption("Two towers, each Dense 256 relu → Dense 128 relu → Dense 32, as in the lab.")
st.dataframe(architecture, hide_index=True, height=widgets.table_height(len(architecture)))

st.subheader("Training")
left, right = st.columns([3, 2], gap="large")
chart = charts.loss_chart(model.history)
if chart is None:
    left.info("This bundle has no loss history.")
else:
    left.altair_chart(chart, width="stretch")
with right:
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

st.subheader("Evaluation against baselines")
model_page.evaluation_section(manifest.get("config", {}).get("preset", "lab"))
