"""The dashboard in a real browser: Debian's Chromium, driven by Playwright.

Each server is ``streamlit run dashboard.py`` on a free local port, its output in a
file (a pipe could fill up and block it), waited for on ``/_stcore/health``: the one
harness that the bench uses too, ``bench.server.healthy_app``. Screenshots of every page
go to RECSYS_SCREENSHOTS (default: a temporary folder).

Chromium must be Debian's, at /usr/bin/chromium; a browser is never downloaded. Without
it these tests skip, unless RECSYS_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.common import CHROMIUM, CHROMIUM_ARGS, browser_missing
from bench.server import Server, healthy_app
from recsys.settings import PROJECT_ROOT
from tests.e2e.app_data import MARKDOWN_TITLE, XSS_TITLE, hostile_bundle, real_bundle

pytestmark = pytest.mark.e2e

APP = PROJECT_ROOT / "dashboard.py"
VIEWPORT = {"width": 1400, "height": 1500}
WAIT_MS = 30_000
PAGES = {
    "overview": "Overview",
    "new_user": "New user",
    "existing_user": "Existing user",
    "similar_movies": "Similar movies",
    "model": "Model",
}


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


def _real_data() -> Path | None:
    from recsys.dataset.movielens import dataset_present

    value = os.environ.get("RECSYS_DATA")
    return Path(value) if value and dataset_present(Path(value)) else None


def _env(artifacts: Path, data: Path) -> dict[str, str]:
    """The app's own artifacts and data."""
    return {"RECSYS_ARTIFACTS": str(artifacts), "RECSYS_DATA": str(data)}


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[Server]:
    """The app on the real data when RECSYS_DATA has it, else on the synthetic data."""
    data = _real_data()
    if data is not None:
        artifacts = real_bundle(data)
    else:
        data, artifacts, _ = hostile_bundle()
    with healthy_app(APP, tmp_path_factory.mktemp("app"), **_env(artifacts, data)) as server:
        yield server


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory) -> Iterator[tuple[Server, dict[str, int]]]:
    """The app on a synthetic dataset whose most-rated movies have hostile titles."""
    data, artifacts, ids = hostile_bundle()
    with healthy_app(APP, tmp_path_factory.mktemp("hostile"), **_env(artifacts, data)) as server:
        yield server, ids


# ------------------------------------------------------------------ helpers


def settle(tab, title: str) -> None:
    """Wait for the page's title, then for the script run and charts to finish."""
    tab.locator("h1", has_text=title).wait_for()
    deadline = time.monotonic() + WAIT_MS / 1000
    busy = "[data-testid='stStatusWidget'], [data-testid='stSkeleton'], [data-testid='stSpinner']"
    while tab.locator(busy).count() and time.monotonic() < deadline:
        time.sleep(0.1)
    tab.wait_for_timeout(500)  # Vega draws its charts just after the run ends


def open_page(tab, app: Server, name: str, query: str = "") -> None:
    tab.goto(f"{app.url}{'' if name == 'overview' else name}{query}")
    settle(tab, PAGES[name])


def go(tab, name: str) -> None:
    """Switch pages with the sidebar menu, as a user does (same session)."""
    tab.get_by_role("link", name=PAGES[name], exact=True).click()
    settle(tab, PAGES[name])


def first_table(tab) -> list[str]:
    """The cells of the page's first table (the grid keeps an accessible copy in the DOM)."""
    return tab.locator("[data-testid='stDataFrame']").first.locator("td").all_inner_texts()


def pick(tab, label: str, text: str) -> None:
    """Type into a searchable picker and choose the option that reads ``text``."""
    box = tab.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    tab.get_by_role("option", name=text, exact=True).click()


# ------------------------------------------------------------------ tests


def test_every_page_opens_and_is_captured(page, app, screenshots):
    showcase = {"similar_movies": "?movie=Shrek"} if _real_data() else {}
    for name, title in PAGES.items():
        open_page(page, app, name, showcase.get(name, ""))
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.get_by_text("Test RMSE").is_visible()  # the shared frame
        assert not page.locator("[data-testid='stException']").count()
        assert not page.locator("[data-testid='stAlertContentError']").count(), title
        page.screenshot(path=str(screenshots / f"{name}.png"))


def test_a_slider_changes_the_list_and_keeps_its_value_across_pages(page, app):
    open_page(page, app, "new_user")
    before = first_table(page)
    horror = page.get_by_role("slider", name="Horror")
    horror.focus()
    page.keyboard.press("End")  # 5 stars
    page.wait_for_url("**Horror=5**")
    settle(page, "New user")
    assert first_table(page) != before
    go(page, "overview")
    go(page, "similar_movies")
    go(page, "new_user")
    assert page.get_by_role("slider", name="Horror").input_value() == "5"
    assert page.get_by_role("slider", name="Fantasy").input_value() == "5"  # the default preset
    assert "Horror=5" in page.url


def test_user_2_and_a_movies_neighbours(page, app):
    open_page(page, app, "existing_user")
    box = page.get_by_role("combobox", name="User (type to search)")
    for user in (3, 2):  # user 2 is the default: pick another first
        box.click()
        box.fill(f"user {user} ·")
        page.get_by_role("option").first.click()
        page.wait_for_url(f"**user={user}**")
    settle(page, "Existing user")
    assert box.input_value().startswith("user 2 ·")
    assert page.get_by_text("The movies they rated, highest prediction first").is_visible()
    assert first_table(page), "user 2's rated movies are listed"

    go(page, "similar_movies")
    if _real_data():
        target = "Shrek (2001)"
        pick(page, "Movie (type to search by title)", target)
    else:
        page.get_by_role("combobox", name="Movie (type to search by title)").click()
        target = page.get_by_role("option").nth(1).inner_text()
        page.get_by_role("option").nth(1).click()
    heading = page.locator("h3", has_text="nearest to")
    heading.filter(has_text=target).wait_for()
    settle(page, "Similar movies")
    grid = page.locator("[data-testid='stDataFrame']").first
    assert grid.locator("tbody tr").count() == 10  # the default 10 neighbours
    assert target not in grid.locator("tbody tr td:first-child").all_inner_texts()


def test_hostile_titles_show_as_literal_text(page, hostile_app):
    server, ids = hostile_app
    for key, title in (("xss", XSS_TITLE), ("markdown", MARKDOWN_TITLE)):
        open_page(page, server, "similar_movies", f"?movie={ids[key]}")
        heading = page.locator("h3", has_text="nearest to")
        shown = heading.inner_text().replace("\u200b", "")  # md_escape's zero-width breaks
        assert shown.endswith(title)
        box = page.get_by_role("combobox", name="Movie (type to search by title)")
        assert box.input_value() == title
    # The picker's options are text too.
    box.click()
    box.fill("click me")
    assert page.get_by_role("option").first.inner_text() == MARKDOWN_TITLE
    scripts = page.evaluate(
        "() => [...document.scripts].filter(s => s.text.includes('alert(')).length"
    )
    assert scripts == 0
    assert page.locator("a[href^='javascript']").count() == 0


def test_the_overview_also_opens_at_slash_overview(page, app):
    page.goto(f"{app.url}overview")
    settle(page, PAGES["overview"])
    assert "Page not found" not in page.inner_text("body")
    assert (
        page.get_by_role("link", name=PAGES["overview"], exact=True).count() == 1
    )  # one menu entry
