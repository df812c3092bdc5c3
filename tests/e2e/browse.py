"""Helpers for the browser tests: open a page, wait for its run, read its tables."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.server import Server
from recsys.settings import PROJECT_ROOT
from tests.dashboard.apptest import TITLES

APP = PROJECT_ROOT / "dashboard.py"
VIEWPORT = {"width": 1400, "height": 1500}
WAIT_MS = 30_000
PAGES = TITLES  # page name in the URL → its h1, the same as the AppTests'


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
    menu = tab.get_by_test_id("stSidebarNavItems")
    menu.get_by_role("link", name=PAGES[name], exact=True).click()
    settle(tab, PAGES[name])


def first_table(tab) -> list[str]:
    """The cells of the page's first table (the grid keeps an accessible copy in the DOM)."""
    cells = tab.locator("[data-testid='stDataFrame']").first.locator("td")
    cells.first.wait_for(state="attached")  # the grid fills its copy just after drawing
    return cells.all_inner_texts()


def pick(tab, label: str, text: str) -> None:
    """Type into a searchable picker and choose the option that reads ``text``."""
    box = tab.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    tab.get_by_role("option", name=text, exact=True).click()


def real_data() -> Path | None:
    from recsys.dataset.movielens import dataset_present

    value = os.environ.get("RECSYS_DATA")
    return Path(value) if value and dataset_present(Path(value)) else None


def app_env(artifacts: Path, data: Path) -> dict[str, str]:
    """The app's own artifacts and data."""
    return {"RECSYS_ARTIFACTS": str(artifacts), "RECSYS_DATA": str(data)}
