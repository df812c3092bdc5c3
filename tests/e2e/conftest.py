"""The browser tests' fixtures: Debian's Chromium and the app servers (one per module).

Chromium must be Debian's, at /usr/bin/chromium; a browser is never downloaded. Without
it these tests skip, unless RECSYS_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import CHROMIUM, CHROMIUM_ARGS, browser_missing
from bench.server import Server, healthy_app
from tests.e2e.app_data import hostile_bundle, real_bundle
from tests.e2e.browse import APP, VIEWPORT, WAIT_MS, app_env, real_data


def _unavailable(reason: str) -> None:
    if os.environ.get("RECSYS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"RECSYS_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    missing = browser_missing()
    if missing:
        _unavailable(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab (a new app session) that fails the test on any JavaScript dialog."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()
    assert not dialogs, f"a dialog opened: {dialogs}"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("RECSYS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ------------------------------------------------------------------ the app servers


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[Server]:
    """The app on the real data when RECSYS_DATA has it, else on the synthetic data."""
    data = real_data()
    if data is not None:
        artifacts = real_bundle(data)
    else:
        data, artifacts, _ = hostile_bundle()
    with healthy_app(APP, tmp_path_factory.mktemp("app"), **app_env(artifacts, data)) as server:
        yield server


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory) -> Iterator[tuple[Server, dict[str, int]]]:
    """The app on a synthetic dataset whose most-rated movies have hostile titles."""
    data, artifacts, ids = hostile_bundle()
    with healthy_app(APP, tmp_path_factory.mktemp("hostile"), **app_env(artifacts, data)) as server:
        yield server, ids
