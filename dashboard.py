"""The dashboard's entry point: a router over pages/ with a shared sidebar.

Run it with ``streamlit run dashboard.py`` (or ``make run``). Every rerun reads only
CURRENT and manifest.json to find the served bundle; the Recommender itself is cached
once per process (see recsys/ui.py).
"""

import streamlit as st

from recsys.dashboard import ui

ui.page_config()

with ui.routing():
    page = st.navigation(ui.app_pages())
    # With no usable bundle, the frame shows why and how to get one (first-start
    # training, a dataset upload, or a retrain offer) and stops before the page runs.
    ui.frame()
    page.run()
