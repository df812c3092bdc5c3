"""The dashboard's Streamlit layer, the only part of ``recsys`` that imports Streamlit.

One module per concern; pages import what they need (``from recsys.dashboard.ui import
frame, new_user``):

- ``frame``: page config, the pages list, the served model or the screen that says why
  there is none (first start, a refused bundle, the dataset upload), the sidebar.
- ``cache``: the cached loaders, keyed on the bundle's path and manifest hash.
- ``widgets``: errors, movie tables, metrics, pickers, kept state, the URL.
- ``jobs``: background training and evaluation, followed with a progress bar.
- ``new_user``, ``existing_user``, ``similar``, ``overview_page``, ``model_page``: each
  page's own widgets and state.

The work behind the widgets is plain Python beside this package: tables in
``recsys.dashboard.overview``, charts in ``charts``, link parsing in ``urls``, jobs in
``jobs``, text escaping in ``text``, downloads in ``export``. TensorFlow is imported only
inside the background training job.

Nothing is imported here: the launcher (``serve``) runs before any of it, so that it
can import the rest itself while the server starts.
"""
