"""Start the dashboard's server with its heavy modules already imported.

``python -m recsys.dashboard.ui.serve [streamlit options]`` is ``streamlit run
dashboard.py [options]``, except that numpy, pandas, SciPy, Altair and the app's own
modules are imported first, while the server starts, instead of during the first
visitor's page load (they are most of that first script run's time on 2 cores).
``make run`` and the bench start the app this way.
"""

from __future__ import annotations

import sys

from recsys.settings import PROJECT_ROOT


def warm_imports() -> None:
    """Import what every page's first run needs (no TensorFlow: serving never uses it)."""
    import altair  # noqa: F401
    import pandas  # noqa: F401
    import scipy.sparse  # noqa: F401

    import recsys.dashboard.charts  # noqa: F401
    import recsys.dashboard.ui.frame  # noqa: F401
    import recsys.dashboard.ui.new_user  # noqa: F401
    import recsys.dashboard.ui.tour  # noqa: F401
    import recsys.serving.recommender  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    warm_imports()
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["streamlit", "run", str(PROJECT_ROOT / "dashboard.py"), *args]
    cli.main()


if __name__ == "__main__":
    main()
