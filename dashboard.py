"""The dashboard's entry point: a router over pages/ with a shared sidebar.

Run it with ``make run`` (``python -m recsys.dashboard.ui.serve``, which routes by
``st.navigation`` from the first load; plain ``streamlit run dashboard.py`` would show
Streamlit's menu of the pages/ files for a moment first). Every rerun reads only
CURRENT and manifest.json to find the served bundle; the Recommender itself is cached
once per process (see recsys/dashboard/ui/cache.py).
"""

import streamlit as st

from recsys.dashboard.ui import frame

frame.page_config()

with frame.routing():
    page = st.navigation(frame.app_pages())
    # With no usable bundle, the frame shows why and how to get one (first-start
    # training, a dataset upload, or a retrain offer) and stops before the page runs.
    frame.draw()
    with frame.page_body():
        page.run()
