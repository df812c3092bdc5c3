"""The dashboard in a real browser: Debian's Chromium, driven by Playwright.

Each server is the app's launcher (``python -m recsys.dashboard.ui.serve``, which runs
``streamlit run dashboard.py``) on a free local port, its output in a file (a pipe could
fill up and block it), waited for on ``/_stcore/health``: the one
harness that the bench uses too, ``bench.server.healthy_app``. Screenshots of every page
go to RECSYS_SCREENSHOTS (default: a temporary folder).

Chromium must be Debian's, at /usr/bin/chromium; a browser is never downloaded. Without
it these tests skip, unless RECSYS_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import pytest

from tests.e2e.app_data import MARKDOWN_TITLE, XSS_TITLE
from tests.e2e.browse import PAGES, first_table, go, open_page, pick, real_data, settle

pytestmark = pytest.mark.e2e

# ------------------------------------------------------------------ tests


def test_every_page_opens_and_is_captured(page, app, screenshots):
    showcase = {"similar_movies": "?movie=Shrek"} if real_data() else {}
    for name, title in PAGES.items():
        open_page(page, app, name, showcase.get(name, ""))
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.get_by_text("which leaks", exact=False).is_visible()  # the shared frame
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
    stars = page.get_by_role("slider", name="Horror").get_attribute("aria-valuetext")
    assert stars == "5 ★"
    fantasy = page.get_by_role("slider", name="Fantasy")  # the default preset
    assert fantasy.get_attribute("aria-valuetext") == "5 ★"
    assert page.get_by_role("slider", name="Drama").get_attribute("aria-valuetext") == "not rated"
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
    if real_data():
        target = "Shrek (2001)"
        pick(page, "Movie (type to search by title)", target)
    else:
        page.get_by_role("combobox", name="Movie (type to search by title)").click()
        target = page.get_by_role("option").nth(1).inner_text()
        page.get_by_role("option").nth(1).click()
    heading = page.locator("h3", has_text="most like")
    heading.filter(has_text=target).wait_for()
    settle(page, "Similar movies")
    grid = page.locator("[data-testid='stDataFrame']").first
    assert grid.locator("tbody tr").count() == 10  # the default 10 neighbours
    assert target not in grid.locator("tbody tr td:first-child").all_inner_texts()


def test_hostile_titles_show_as_literal_text(page, hostile_app):
    server, ids = hostile_app
    for key, title in (("xss", XSS_TITLE), ("markdown", MARKDOWN_TITLE)):
        open_page(page, server, "similar_movies", f"?movie={ids[key]}")
        heading = page.locator("h3", has_text="most like")
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


def test_the_overview_opens_a_tab_on_a_click_and_its_guide_leads_to_the_pages(page, app):
    open_page(page, app, "overview")
    main = page.get_by_test_id("stMain")
    assert main.get_by_test_id("stVegaLiteChart").count() == 0  # the first tab: the guide
    assert main.get_by_test_id("stDataFrame").count() == 0
    page.get_by_role("tab", name="Per genre").click()
    page.wait_for_url("**tab=per-genre**")
    settle(page, PAGES["overview"])
    assert main.get_by_test_id("stVegaLiteChart").count() == 2
    assert "Drama" in first_table(page)
    page.get_by_role("tab", name="Start here").click()
    settle(page, PAGES["overview"])
    assert "tab=" not in page.url
    main.get_by_role("link", name="Tour").click()
    settle(page, PAGES["tour"])
    assert "/tour" in page.url
