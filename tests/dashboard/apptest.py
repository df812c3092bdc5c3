"""Helpers for driving the dashboard through Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recsys.dashboard.tour import STEPS
from recsys.settings import PROJECT_ROOT

ROOT = PROJECT_ROOT
DASHBOARD = ROOT / "dashboard.py"
PAGES = {
    "overview": "pages/overview.py",
    "new_user": "pages/new_user.py",
    "existing_user": "pages/existing_user.py",
    "similar_movies": "pages/similar_movies.py",
    "explore": "pages/explore.py",
    "model": "pages/model.py",
    "tour": "pages/tour.py",
}
TITLES = {
    "overview": "Overview",
    "new_user": "New user",
    "existing_user": "Existing user",
    "similar_movies": "Similar movies",
    "explore": "Explore",
    "model": "Model",
    "tour": STEPS[0].title,
}
TIMEOUT = 60  # seconds; a first run may load a dataset, a training run trains


# A browser on the server's machine, and one behind a proxy (AppTest has no request
# of its own: recsys.dashboard.ui.access.visitor_request is the seam).
LOCAL_VISITOR = (("Host", "localhost:8501"),)
PROXIED_VISITOR = (("Host", "proxy.example"), ("X-Forwarded-For", "203.0.113.7"))


def visit_as(monkeypatch: pytest.MonkeyPatch, headers: tuple[tuple[str, str], ...]) -> None:
    """Every session of this test sends ``headers`` with its request."""
    from recsys.dashboard.ui import access

    monkeypatch.setattr(access, "visitor_request", lambda: (list(headers), None))


def wait_for_jobs(artifacts: Path, timeout_s: float = TIMEOUT) -> None:
    """Wait until no training or evaluation runs for ``artifacts``."""
    import time

    from recsys.dashboard.ui.jobs import job_registry

    deadline = time.monotonic() + timeout_s
    while (job := job_registry().running(artifacts)) is not None:
        assert time.monotonic() < deadline, f"{job.describe()} still runs"
        job.finished.wait(0.2)


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    artifacts: Path,
    data: Path | None,
    page: str = "overview",
    params: dict[str, str] | None = None,
    headers: tuple[tuple[str, str], ...] = LOCAL_VISITOR,
) -> AppTest:
    """A new session whose first run opens ``page`` with ``params`` (a shared link),
    from a browser sending ``headers`` (default: on the server's machine)."""
    visit_as(monkeypatch, headers)
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(artifacts))
    monkeypatch.setenv("RECSYS_DATA", str(data) if data else str(artifacts / "no-dataset-here"))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT)
    at.switch_page(PAGES[page])
    at.query_params.update(params or {})
    return ok(at.run())


def ok(at: AppTest) -> AppTest:
    """The run raised nothing; return it for chaining."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    return ok(at.switch_page(PAGES[page]).run())


def texts(at: AppTest) -> str:
    """Every text the run showed, one per line (markdown, captions, alerts, headers)."""
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption")
    for kind in (*kinds, "info", "warning", "error", "success"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def sidebar_text(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in (*at.sidebar.markdown, *at.sidebar.caption))


def table(at: AppTest, having: str):
    """The first dataframe with a column named ``having``."""
    for frame in at.dataframe:
        if having in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {having!r} column")


def unescape(markdown: str) -> str:
    """Undo md_escape's backslashes and drop its zero-width spaces (what the browser
    shows)."""
    markdown = markdown.replace("\u200b", "")
    out, skip = [], False
    for i, char in enumerate(markdown):
        if skip:
            out.append(char)
            skip = False
        elif char == "\\" and i + 1 < len(markdown):
            skip = True
        else:
            out.append(char)
    return "".join(out)
