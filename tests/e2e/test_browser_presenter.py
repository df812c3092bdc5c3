"""Presenter mode in a real browser at 1280×720 (a projector): on from the link, kept
across pages, text of at least 18 px in dark ink (contrast at least 4.5:1), no empty
band above the title; off, the page is as before."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.browse import go, open_page, settle

pytestmark = pytest.mark.e2e

PROJECTOR = {"width": 1280, "height": 720}

# Every visible text in the main area and the sidebar: its font size, and its colour
# (opacity and alpha folded in) as it lands on the page's white or light-grey ground.
_TEXTS = r"""
() => {
  const out = [];
  const root = document.querySelector('[data-testid="stApp"]');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || !el.getClientRects().length) continue;
    if (el.closest('[data-testid="stIconMaterial"], [data-testid="stDataFrame"], '
        + '[data-testid="stVegaLiteChart"], [data-testid="stSkeleton"], svg, '
        + '[data-testid="stExpanderIcon"], [data-testid="stSkipToContent"]')) continue;
    if (el.closest('[aria-hidden="true"]')) continue;
    let alpha = 1;
    for (let e = el; e; e = e.parentElement) alpha *= parseFloat(getComputedStyle(e).opacity);
    const style = getComputedStyle(el);
    const rgba = style.color.match(/[\d.]+/g).map(Number);
    const ground = el.closest('[data-testid="stSidebar"]') ? [240, 242, 246] : [255, 255, 255];
    alpha *= rgba.length > 3 ? rgba[3] : 1;
    if (alpha < 0.05) continue;  // not shown (a slider's hidden end label)
    const seen = [0, 1, 2].map(i => rgba[i] * alpha + ground[i] * (1 - alpha));
    out.push({text: text.slice(0, 40), px: parseFloat(style.fontSize), rgb: seen, ground,
              testid: (el.closest('[data-testid]') || {}).dataset?.testid});
  }
  return out;
}
"""


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    high, low = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _readable(tab) -> tuple[list[str], list[str]]:
    """The texts under 18 px, and those under 4.5:1 contrast."""
    small, faint = [], []
    for item in tab.evaluate(_TEXTS):
        if item["px"] < 18:
            small.append(f"{item['text']!r} {item['px']}px ({item['testid']})")
        ratio = contrast(item["rgb"], item["ground"])
        if ratio < 4.5:
            faint.append(f"{item['text']!r} {ratio:.1f}:1 ({item['testid']})")
    return small, faint


def _title_top(tab) -> float:
    return tab.locator("h1").first.bounding_box()["y"]


def test_presenter_mode_from_the_link_reads_on_a_projector_on_every_page(browser, app):
    context = browser.new_context(viewport=PROJECTOR)
    tab = context.new_page()
    try:
        open_page(tab, app, "existing_user")
        plain_small, _ = _readable(tab)
        assert plain_small  # without presenter mode the text is 14 px

        open_page(tab, app, "existing_user", "?present=1")
        for name in ("existing_user", "new_user", "explore"):
            if name != "existing_user":
                go(tab, name)  # through the menu: the mode is kept
            assert "present=1" in tab.url, name
            small, faint = _readable(tab)
            assert not small, (name, small[:8])
            assert not faint, (name, faint[:8])
            assert _title_top(tab) <= 48, name  # no empty band above the title (96 px before)
    finally:
        context.close()


def test_a_new_user_at_1280_sees_the_search_and_results_first_and_a_neutral_not_rated(browser, app):
    context = browser.new_context(viewport=PROJECTOR)
    tab = context.new_page()
    try:
        open_page(tab, app, "new_user", "?Adventure=5&top=10")
        search = tab.get_by_role("combobox", name="Add a movie you liked").bounding_box()
        grid = tab.locator("[data-testid='stDataFrame']").first.bounding_box()
        assert search["y"] + search["height"] <= 720, search  # the title search in view
        assert grid["y"] + 2 * 35 <= 720, grid  # the header and the first result in view
        values = tab.get_by_test_id("stSliderThumbValue")
        unrated = [
            values.nth(i)
            for i in range(values.count())
            if values.nth(i).inner_text() == "not rated"
        ]
        assert unrated
        colour = unrated[0].evaluate("e => getComputedStyle(e).color")
        red, green, _ = (int(c) for c in colour[colour.index("(") + 1 : -1].split(",")[:3])
        assert red - green < 40, colour  # grey ink, not the accent red of an error
    finally:
        context.close()


def test_an_unknown_address_says_so_and_shows_the_overview(page, app):
    page.goto(f"{app.url}no_such_page")
    page.locator("h1", has_text="Overview").wait_for()
    page.get_by_text("There is no page called “no_such_page”").wait_for()
    open_page(page, app, "overview")
    assert not page.get_by_text("There is no page called").count()


# The font every table on the page draws its cells with (the grid's CSS variable, read
# when the table is first drawn).
_TABLE_FONTS = r"""
() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).map(grid => {
  const themed = grid.querySelector('[style*="--gdg-base-font-style"]');
  if (!themed) return null;
  const style = getComputedStyle(themed).getPropertyValue('--gdg-base-font-style').trim();
  return parseFloat(style.split(' ').pop());
})
"""


def _table_fonts(tab, settled: str) -> list[float]:
    """Every table's font size, once each satisfies ``settled`` (a JavaScript test of a
    size ``px``; the second run draws the page just after the first one stops), or as
    they stand after 15 s."""
    every = f"f.every(px => px !== null && ({settled}))"
    check = f"() => {{ const f = ({_TABLE_FONTS})(); return f.length > 0 && {every}; }}"
    with contextlib.suppress(PlaywrightTimeout):  # the caller's assertion says what stood
        tab.wait_for_function(check, timeout=15_000)
    return tab.evaluate(_TABLE_FONTS)


def _flip_presenter_toggle(tab) -> None:
    tab.get_by_test_id("stSidebar").get_by_text("Presenter mode", exact=True).click()
    settle(tab, "Existing user")


def test_the_sidebar_toggle_redraws_every_table_at_the_modes_size_both_ways(browser, app):
    """Existing user's tables include plain ones (no selection, no key of their own),
    which the browser keeps where they stand unless the page is drawn anew."""
    context = browser.new_context(viewport=PROJECTOR)
    tab = context.new_page()
    try:
        open_page(tab, app, "existing_user")
        fonts = _table_fonts(tab, "px < 16")
        assert fonts and max(fonts) < 16, fonts
        _flip_presenter_toggle(tab)
        fonts = _table_fonts(tab, "px >= 18")
        assert None not in fonts and min(fonts) >= 18, fonts  # the plain tables too
        _flip_presenter_toggle(tab)
        fonts = _table_fonts(tab, "px < 16")
        assert None not in fonts and max(fonts) < 16, fonts  # no presenter sheet left over
    finally:
        context.close()
