"""Start the dashboard's server with its heavy modules already imported.

``python -m recsys.dashboard.ui.serve [streamlit options]`` is ``streamlit run
dashboard.py [options]``, except that numpy, pandas, SciPy, Altair and the app's own
modules are imported first, while the server starts, instead of during the first
visitor's page load (they are most of that first script run's time on 2 cores).
It also loads the served models and the first page's tables into the app's caches
(``warm_caches``), and tells Streamlit that the app routes with ``st.navigation``
(``route_with_navigation``). ``make run`` and the bench start the app this way.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from recsys.settings import PROJECT_ROOT


def warm_imports() -> None:
    """Import what every page's first run needs (no TensorFlow: serving never uses it):
    the libraries, and every module of ``recsys.dashboard``, the pages' own code."""
    import importlib
    import pkgutil

    import altair
    import pandas
    import scipy.sparse  # noqa: F401
    from streamlit import delta_generator
    from streamlit.string_util import is_emoji

    import recsys.dashboard
    import recsys.serving.recommender  # noqa: F401

    for module in pkgutil.walk_packages(recsys.dashboard.__path__, "recsys.dashboard."):
        importlib.import_module(module.name)

    # Two things Streamlit does once per process, on the first visitor's run, that cost
    # about 0.3 s each on 2 cores: compiling its emoji pattern (for the page's favicon,
    # "🎬"), and walking the whole call stack to warn about a script run without
    # ``streamlit run``, which this launcher is.
    is_emoji("🎬")
    delta_generator._use_warning_has_been_displayed = True
    # Altair compiles its shorthand patterns and schema validators on the first chart.
    altair.Chart(pandas.DataFrame({"n": [1]})).mark_bar().encode(x="n:Q").to_dict()


# Streamlit's loggers that warn when a cached function runs outside a page's run.
_QUIET_WHILE_WARMING = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)


@contextlib.contextmanager
def _quiet_streamlit() -> Iterator[None]:
    """Streamlit's "no runtime" warnings off: they are expected before the server runs.
    (A filter, not a level: Streamlit resets its loggers' levels when it reads its
    config.)"""
    loggers = [logging.getLogger(name) for name in _QUIET_WHILE_WARMING]
    quiet = logging.Filter("-")  # matches no logger name: drops every record
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def warm_caches() -> None:
    """Fill the app's caches with what the first page shows (the served models, the
    dataset's and the model's overview) while the server starts, so that the first
    visitor does not wait for them. Streamlit's caches are global to the process, so
    what is loaded here is what the pages find. Best effort: anything missing or broken
    is left for the page, which says what to do about it."""
    from recsys.config import MODELS
    from recsys.dashboard.ui import cache
    from recsys.dataset.movielens import dataset_present
    from recsys.settings import resolve_data_path

    for model in (None, *MODELS):
        with contextlib.suppress(Exception):  # the page reports it as it should
            loaded = cache.current_model(model)
            if model is None:
                cache.model_overview(loaded)
    data_path = resolve_data_path(None)
    with contextlib.suppress(Exception):
        if dataset_present(data_path):
            cache.dataset_overview(data_path)


def route_with_navigation() -> None:
    """Tell Streamlit, before the first visitor, that the app is routed by
    ``st.navigation`` and not by its ``pages/`` folder.

    Streamlit decides once per process (``PagesManager.uses_pages_directory``), on the
    first session: while the flag is unset, a ``pages/`` folder beside the entry point
    makes that session's first script run build a menu of the folder's file names,
    shown until ``dashboard.py``'s ``st.navigation`` replaces it (the flag is cleared
    by ``st.navigation`` itself). Clearing it first spares the first visitor that flash.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def route_apptest_with_navigation() -> None:
    """The same for Streamlit's AppTest (the tests and the bench drive the app with
    it), which forgets the flag before each of its runs: from now on in this process,
    every run is set up as the launcher sets up the server."""
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager.__init__, "routes_with_navigation", False):
        return
    original = PagesManager.__init__

    def routed(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        route_with_navigation()

    routed.routes_with_navigation = True  # type: ignore[attr-defined]
    PagesManager.__init__ = routed  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    route_with_navigation()
    with _quiet_streamlit():
        warm_imports()
        warm_caches()
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "dashboard.py"), *args]
    cli.main()


if __name__ == "__main__":
    main()
