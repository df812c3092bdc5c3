"""The Overview page's own widget: the warning that the model was trained on other data."""

from __future__ import annotations

import streamlit as st

from recsys.dashboard.overview import Overview
from recsys.dashboard.text import error_text, md_escape
from recsys.errors import StaleBundleError
from recsys.model.bundle import check_fresh
from recsys.serving.recommender import Recommender


def warn_if_stale(model: Recommender, shown: Overview) -> None:
    """Say so when the served model was trained on other data than the dataset shown."""
    if shown.fingerprint is None:
        return
    try:
        check_fresh(model.manifest, data_fingerprint=shown.fingerprint)
    except StaleBundleError as err:
        st.warning(
            f"{md_escape(error_text(err))}: the model's predictions are from that data. "
            "Retrain on the Model page to use this dataset.",
            icon=":material/history:",
        )
