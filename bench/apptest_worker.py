"""Time the app's script runs with Streamlit's AppTest, in a fresh process.

``python -m bench.apptest_worker APP --repeats N`` prints one JSON object: the first
(cold) run in seconds, and the median milliseconds of a slider change on the New user
page and of a page switch. Run as its own process so caches start cold and the bench's
own imports (TensorFlow) cannot leak into the app.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.common import rss_mb
from recsys.dashboard.ui.serve import route_apptest_with_navigation
from recsys.settings import PROJECT_ROOT

TIMEOUT_S = 120


def page_files(app: Path) -> list[str]:
    """The app's pages relative to the entry point: pages/*.py, helpers left out."""
    folder = app.parent / "pages"
    return sorted(
        path.relative_to(app.parent).as_posix()
        for path in folder.glob("*.py")
        if not path.name.startswith("_")
    )


class AppRaised(RuntimeError):
    """The app showed an exception; the message names the step and the app's error."""


def _check(at, step: str) -> None:
    if at.exception:
        error = at.exception[0]
        trace = " | ".join(line.strip() for line in error.stack_trace[-6:])
        raise AppRaised(f"{step}: {error.message} ({trace})")


def _timed_run(at, step: str) -> float:
    start = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - start) * 1000.0
    _check(at, step)
    return elapsed


def _numeric_slider(at):
    """The page's first slider with a number for its value: an st.slider, else an
    st.select_slider over numbers (New user's genre sliders)."""
    for slider in (*at.slider, *at.select_slider):
        if isinstance(slider.value, int | float) and not isinstance(slider.value, bool):
            return slider
    return None


def _other_value(slider) -> float:
    """A value of ``slider`` other than its current one."""
    if hasattr(slider, "min"):
        return slider.min if slider.value != slider.min else slider.min + slider.step
    return 0.0 if slider.value else 5.0  # a genre slider: "not rated" or 5 stars


def measure(app: Path, repeats: int) -> dict:
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    # The app hides error details from users; a benchmark that hits one must say what.
    config.set_option("client.showErrorDetails", "full")
    if app.resolve() == (PROJECT_ROOT / "dashboard.py").resolve():
        route_apptest_with_navigation()  # as its launcher serves it
    at = AppTest.from_file(str(app), default_timeout=TIMEOUT_S)
    first_run_s = _timed_run(at, "the first run") / 1000.0
    pages = page_files(app)
    new_user = next((p for p in pages if "new" in Path(p).stem.lower()), None)
    others = [p for p in pages if p != new_user] or pages
    switches, slides = [], []
    for i in range(repeats):
        if new_user is None:
            break
        at.switch_page(others[i % len(others)])
        switches.append(_timed_run(at, f"switch {i} to {others[i % len(others)]}"))
        at.switch_page(new_user)
        switches.append(_timed_run(at, f"switch {i} to {new_user}"))
        slider = _numeric_slider(at)
        if slider is None:
            break
        value = _other_value(slider)
        slider.set_value(value)
        slides.append(_timed_run(at, f"slider change {i} ({slider.label} = {value})"))
    return {
        "first_run_s": first_run_s,
        "slider_ms": statistics.median(slides) if slides else None,
        "page_switch_ms": statistics.median(switches) if switches else None,
        "pages": pages,
        "new_user_page": new_user,
        "slider_changes": len(slides),
        "page_switches": len(switches),
        "rss_mb": rss_mb(),
        "tensorflow_imported": "tensorflow" in sys.modules,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apptest_worker")
    parser.add_argument("app", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(measure(args.app.resolve(), args.repeats)))
    except AppRaised as err:
        print(f"the app raised at {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
