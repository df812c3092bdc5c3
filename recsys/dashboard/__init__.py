"""Everything the app needs. Streamlit is imported only under ``recsys.dashboard.ui``."""
