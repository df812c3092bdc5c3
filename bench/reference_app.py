"""The bench's reference page: bare Streamlit, a title and six metrics, nothing of the
project's. ``app.reference_first_page_s`` is its first page, measured in the same run
and the same way as the dashboard's (``bench.app``): what Streamlit itself costs a
first visit on this machine."""

import streamlit as st

st.set_page_config(page_title="Reference", layout="wide")
st.title("Reference")
for i, column in enumerate(st.columns(6)):
    column.metric(f"metric {i + 1}", f"{(i + 1) * 1000:,}")
