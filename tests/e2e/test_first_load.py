"""The first visitor of a fresh server sees the router's menu only.

A ``pages/`` folder beside ``dashboard.py`` would make Streamlit's first script run in a
process build a menu of that folder's file names ("dashboard", "new user", …), shown
until ``st.navigation`` replaces it; the launcher tells Streamlit first that the app
routes itself (``recsys.dashboard.ui.serve.route_with_navigation``). The browser
keeps every menu the server sends while the first page loads (both menus may come
within milliseconds, too quickly to be drawn apart), and every menu the sidebar shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.server import Server, healthy_app
from recsys.settings import PROJECT_ROOT
from tests.e2e.app_data import hostile_bundle
from tests.e2e.browse import APP, app_env, settle

pytestmark = pytest.mark.e2e

# Every distinct list of link texts that the sidebar's menu shows, in order.
RECORD_MENUS = """
window.shownMenus = [];
new MutationObserver(() => {
  const links = document.querySelectorAll("[data-testid='stSidebarNavItems'] a");
  const texts = Array.from(links, (link) => link.innerText.trim()).filter(Boolean);
  const last = window.shownMenus[window.shownMenus.length - 1];
  if (texts.length && (!last || last.join("|") !== texts.join("|"))) {
    window.shownMenus.push(texts);
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory) -> Iterator[Server]:
    """A server that no session has visited yet (its own, not the module-wide app)."""
    data, artifacts, _ = hostile_bundle()
    with healthy_app(APP, tmp_path_factory.mktemp("first"), **app_env(artifacts, data)) as server:
        yield server


def sent_menus(frames: list[bytes]) -> list[list[str]]:
    """The page names of each navigation message among the server's frames."""
    menus = []
    for frame in frames:
        message = ForwardMsg.FromString(frame)
        if message.WhichOneof("type") == "navigation":
            menus.append([app_page.page_name for app_page in message.navigation.app_pages])
    return menus


def test_the_first_load_shows_no_menu_of_file_names(page, fresh_app):
    # Streamlit names a folder's page after its file: pages/new_user.py is "new user".
    file_names = {"dashboard"} | {
        path.stem.replace("_", " ") for path in (PROJECT_ROOT / "pages").glob("*.py")
    }
    assert len(file_names) > 1, "no pages/ folder to list"
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived", lambda payload: isinstance(payload, bytes) and frames.append(payload)
        ),
    )
    page.add_init_script(RECORD_MENUS)
    page.goto(fresh_app.url)
    settle(page, "Overview")
    sent, shown = sent_menus(frames), page.evaluate("window.shownMenus")
    assert sent and shown, "no menu was sent or shown"
    for menu in sent + shown:
        assert not set(menu) & file_names, f"a menu of file names: {menu}"
