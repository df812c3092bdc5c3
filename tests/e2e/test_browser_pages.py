"""Explore, the Tour and picked movies in a real browser, and a presenter's path end to
end: the Tour from its first step to its last, then New user with the lab's fan."""

from __future__ import annotations

import re
import time

import pytest

from recsys.dashboard.tour import STEPS
from tests.e2e.browse import first_table, open_page, real_data, settle

pytestmark = pytest.mark.e2e

ROW_PX = 35  # the grid's row height (and its header's), in pixels
LABS_FAN = "The lab's fan: adventure + fantasy"


def select_row(tab, row: int) -> None:
    """Tick the selection box of ``row`` in the page's first table (a canvas grid)."""
    grid = tab.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    tab.mouse.click(box["x"] + 18, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)


def test_a_row_selected_on_new_user_opens_in_explore(page, app):
    open_page(page, app, "new_user")
    cells = first_table(page)
    select_row(page, 0)
    settle(page, "Explore")
    heading = page.locator("h2").first.inner_text().replace("\u200b", "")
    assert heading in cells, (heading, cells[:8])
    assert re.search(r"movie=\d+", page.url)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 1  # its histogram


def test_explore_search_narrows_the_catalogue(page, app):
    # A few of the catalogue's titles hold the words: MovieLens's, or the synthetic set's
    # "Synthetic Movie 12 (1994)" names when the app runs on those.
    words = "star wars" if real_data() else "movie 7"
    open_page(page, app, "explore")
    everything = page.get_by_text(re.compile(r"movies match")).first.inner_text()
    search = page.get_by_role("textbox", name="Search titles")
    search.fill(words)
    search.press("Enter")
    count = page.get_by_text(re.compile(r"movies match")).first
    deadline = time.monotonic() + 30
    while count.inner_text() == everything and time.monotonic() < deadline:
        time.sleep(0.2)  # the rerun after Enter has not reached the page yet
    settle(page, "Explore")
    assert count.inner_text() != everything
    titles = [cell for cell in first_table(page) if "(" in cell]
    # Each word of the search is in every title listed (in any order, anywhere).
    assert titles and all(
        all(word in title.lower() for word in words.split()) for title in titles
    ), titles


def test_a_picked_movie_joins_the_list_and_the_link(page, app):
    open_page(page, app, "new_user")
    box = page.get_by_role("combobox", name="Add a movie you liked")
    box.click()
    option = page.get_by_role("option").first
    title = option.inner_text()
    option.click()
    page.wait_for_url(re.compile(r"movies=\d+%3A5|movies=\d+:5"))
    settle(page, "New user")
    # A plain name (a substring match) holds any title, a hostile one included.
    assert page.get_by_role("button", name=title[:20]).count() == 1
    assert title not in first_table(page)  # a picked movie is never recommended back


def test_a_presenter_walks_the_tour_then_picks_the_labs_fan(page, app):
    open_page(page, app, "tour")
    for number, step in enumerate(STEPS, start=1):
        settle(page, step.title)
        assert f"step={step.slug}" in page.url
        assert page.get_by_text(f"Step {number} of {len(STEPS)}").first.is_visible()
        assert not page.locator("[data-testid='stException']").count()
        if number < len(STEPS):
            page.get_by_role("button", name="Next").first.click()
    page.get_by_role("link", name="Try it").first.click()
    settle(page, "New user")
    page.get_by_role("radio", name=LABS_FAN).click()  # a preset pill
    page.wait_for_url(re.compile(r"Adventure=5.*Fantasy=5"))
    settle(page, "New user")
    assert len(first_table(page)) > 0
    assert not page.locator("[data-testid='stException']").count()


def test_the_labs_fan_sees_adventure_and_fantasy_first(page, app):
    if real_data() is None:
        pytest.skip(
            "needs ml-latest-small in RECSYS_DATA: without it the app serves the hostile "
            "synthetic bundle (2 epochs over 4,000 ratings), too little to learn genre tastes"
        )
    open_page(page, app, "new_user")
    page.get_by_role("radio", name=LABS_FAN).click()
    page.wait_for_url(re.compile(r"Adventure=5.*Fantasy=5"))
    settle(page, "New user")
    rows = page.locator("[data-testid='stDataFrame']").first.locator("tbody tr")
    genres = [rows.nth(i).inner_text() for i in range(5)]
    assert all(("Adventure" in row or "Fantasy" in row) for row in genres), genres


def test_new_user_shows_five_results_on_a_projector(browser, app):
    """At 1280×720 (a projector) five result rows show without scrolling."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    try:
        open_page(tab, app, "new_user")
        grid = tab.locator("[data-testid='stDataFrame']").first
        grid.locator("canvas").first.wait_for()
        top = grid.bounding_box()["y"]
        visible_rows = int((720 - top - ROW_PX) // ROW_PX)
        assert visible_rows >= 5, f"the table starts at {top:.0f} px: {visible_rows} rows show"
    finally:
        context.close()


def test_new_user_at_1280_holds_still_names_its_download_and_shows_its_limit(page, app):
    """At 1280×720: nothing moves while the page loads or when Filters opens; the
    download is named after the view; a typed 500 is refused with the limit in view."""
    page.set_viewport_size({"width": 1280, "height": 720})
    top = page.locator("[data-testid='stNumberInput']").first
    table = page.locator("[data-testid='stDataFrame']").first
    page.goto(f"{app.url}new_user?Adventure=5&Fantasy=5&top=10")
    table.wait_for()
    first = table.bounding_box()
    settle(page, "New user")
    assert table.bounding_box() == first  # the results did not move as the page filled in
    top.scroll_into_view_if_needed()  # the click below must not scroll
    before = top.bounding_box()
    page.locator("[data-testid='stPopover'] button").first.click()
    page.get_by_text("Only movies with any of these genres").wait_for()
    page.wait_for_timeout(500)
    assert top.bounding_box() == before  # opening Filters leaves "How many movies" put
    page.keyboard.press("Escape")

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").first.click()
    assert download.value.suggested_filename == "new-user-adventure5-fantasy5-top10.csv"
    text = download.value.path().read_text(encoding="utf-8")
    assert text.startswith("# view: New user") and "\nrank,title," in text

    field = page.get_by_test_id("stNumberInputField").first
    field.fill("500")
    field.press("Enter")
    page.wait_for_timeout(1000)
    settle(page, "New user")
    assert page.get_by_text("Showing 10 movies; this page lists at most 100.").is_visible()
    assert "top=10" in page.url  # 500 was not served
