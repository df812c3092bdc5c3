"""Nothing jumps while a page loads (1280×720): the space of what is drawn late is kept
from the start, so a reader's place does not move under them."""

from __future__ import annotations

import pytest

from tests.e2e.browse import PAGES, settle

pytestmark = pytest.mark.e2e

PROJECTOR = {"width": 1280, "height": 720}

# Every distinct top, below the page's title, of the first heading that reads ``window.watched``,
# from the moment it is drawn until the test reads them.
RECORD_TOPS = """
window.tops = [];
const watch = () => {
  const heads = Array.from(document.querySelectorAll("h3"));
  const head = heads.find((h) => h.innerText.startsWith(window.watched || "\\u0000"));
  const title = document.querySelector("h1");
  if (head && title) {
    // From the page's title: the frame's own padding, set by its style sheet, is not
    // what is measured here.
    const top = Math.round(head.getBoundingClientRect().top - title.getBoundingClientRect().top);
    if (window.tops[window.tops.length - 1] !== top) window.tops.push(top);
  }
  requestAnimationFrame(watch);
};
requestAnimationFrame(watch);
"""


@pytest.fixture
def projector_tab(browser):
    context = browser.new_context(viewport=PROJECTOR)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def test_existing_users_tables_stay_put_while_its_charts_draw(projector_tab, hostile_app):
    server, _ = hostile_app
    tab = projector_tab
    tab.add_init_script("window.watched = 'The movies they rated';" + RECORD_TOPS)
    tab.goto(f"{server.url}existing_user")
    settle(tab, PAGES["existing_user"])
    tab.wait_for_timeout(1000)
    tops = tab.evaluate("window.tops")
    assert tops, "the heading above the rated movies was never drawn"
    assert len(set(tops)) == 1, f"the rated movies' heading moved while loading: {tops}"


# Every distinct height of the genre sliders' box, from the moment it is drawn.
RECORD_GENRES = """
window.heights = [];
const watch = () => {
  const box = document.querySelector(".st-key-nu_genres");
  if (box) {
    const height = Math.round(box.getBoundingClientRect().height);
    if (window.heights[window.heights.length - 1] !== height) window.heights.push(height);
  }
  requestAnimationFrame(watch);
};
requestAnimationFrame(watch);
"""


def test_new_users_sliders_keep_their_space_on_a_first_visit(projector_tab, hostile_app):
    server, _ = hostile_app
    tab = projector_tab
    tab.add_init_script(RECORD_GENRES)
    tab.goto(f"{server.url}new_user")
    settle(tab, PAGES["new_user"])
    tab.wait_for_timeout(1000)
    heights = tab.evaluate("window.heights")
    assert heights and heights[-1] > 0, "the genre sliders were never drawn"
    assert tab.locator(".st-key-nu_genres [data-testid='stSlider']").count() == 14
    assert len(set(heights)) == 1, f"the genre sliders' box changed height while loading: {heights}"


def test_existing_users_top_list_stays_put_while_the_tables_above_it_draw(
    projector_tab, hostile_app
):
    server, _ = hostile_app
    tab = projector_tab
    tab.add_init_script("window.watched = 'Top ';" + RECORD_TOPS)
    tab.goto(f"{server.url}existing_user")
    settle(tab, PAGES["existing_user"])
    tab.wait_for_timeout(1000)
    tops = tab.evaluate("window.tops")
    assert tops, "the top list's heading was never drawn"
    assert len(set(tops)) == 1, f"the top list's heading moved while the tables drew: {tops}"


# Every distinct top of the page's title in the window, from the moment it is drawn.
RECORD_TITLE = """
window.titleTops = [];
const watchTitle = () => {
  const title = document.querySelector("h1");
  if (title) {
    const top = Math.round(title.getBoundingClientRect().top);
    const seen = window.titleTops;
    if (seen[seen.length - 1] !== top) seen.push(top);
  }
  requestAnimationFrame(watchTitle);
};
requestAnimationFrame(watchTitle);
"""


def test_the_title_stays_put_while_the_style_sheet_arrives(projector_tab, hostile_app):
    # The project's style sheet applies just after the first paint; in the normal mode
    # it must move nothing. (Presenter mode's larger text moves the page once.)
    server, _ = hostile_app
    tab = projector_tab
    tab.add_init_script(RECORD_TITLE)
    tab.goto(f"{server.url}new_user")
    settle(tab, PAGES["new_user"])
    tab.wait_for_timeout(1000)
    tops = tab.evaluate("window.titleTops")
    assert tops, "the title was never drawn"
    assert len(set(tops)) == 1, f"the title moved while the page loaded: {tops}"
