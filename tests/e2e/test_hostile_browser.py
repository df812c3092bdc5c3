"""A hostile dataset and hostile links in a real browser: no link whose target came from
data or from the URL, and no icon drawn from a title (issue 14, finding 4).

Titles carry ``https://…``, ``www.…``, ``a@b.c``, ``:material/home:`` and ``:smile:``;
the Existing user page is opened with ``user=https://evil.example/login``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.server import Server, healthy_app
from tests.e2e.browse import APP, app_env, open_page
from tests.security.conftest import ICON_TITLE, LINK_TITLE, write_hostile_titles

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def link_app(tmp_path_factory) -> Iterator[tuple[Server, dict[str, int]]]:
    from tests.helpers import train_small_bundle

    root = tmp_path_factory.mktemp("links")
    ids = write_hostile_titles(root / "data")
    train_small_bundle(root / "data", root / "artifacts", epochs=2, preset="full")
    with healthy_app(APP, root, **app_env(root / "artifacts", root / "data")) as server:
        yield server, ids


def _hrefs(tab) -> list[str]:
    """Every link's target as the browser resolves it (a relative one against the page)."""
    return tab.locator("a[href]").evaluate_all("(links) => links.map((a) => a.href)")


def _material_icons(tab) -> list[str]:
    return tab.locator("[data-testid='stIconMaterial']").all_inner_texts()


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("existing_user", "?user=https://evil.example/login"),
        ("existing_user", "?user=www.evil.example"),
        ("similar_movies", "?movie={link}"),
        ("similar_movies", "?movie={icon}"),
        ("new_user", "?top=https://evil.example/&include=mail@evil.example"),
        ("overview", "?tab=most-rated"),  # the most-rated movies: the hostile titles
    ],
)
def test_no_link_or_icon_comes_from_data_or_the_url(page, link_app, name, query):  # noqa: F811
    server, ids = link_app
    open_page(page, server, name, query.format(link=ids[LINK_TITLE], icon=ids[ICON_TITLE]))
    shown = page.locator("body").inner_text()
    if "user=" in query or "{link}" in query:
        assert "evil" in shown  # the hostile text is shown, as text
    # Every link stays in the app: its pages, or a heading's in-page anchor ("#…",
    # which Streamlit derives from the heading's text and which leads nowhere else),
    # both resolved by the browser to the app's own address.
    foreign = [h for h in _hrefs(page) if not h.startswith(server.url)]
    assert not foreign, foreign
    assert "home" not in _material_icons(page)
    assert "😄" not in shown
