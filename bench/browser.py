"""Driving the running app in headless Chromium (Playwright, async API).

Script runs are timed from the Streamlit websocket itself: a run starts when the
browser sends a ``rerun_script`` BackMsg (a widget change or a page switch) and ends
when the server sends ``script_finished``. That is the server's time for the run as the
browser sees it, independent of debounces in widgets and of how fast the DOM paints.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.common import CHROMIUM, CHROMIUM_ARGS

# What "the page's main content" is: a table or a chart in the main area.
CONTENT = ", ".join(
    f'[data-testid="stMain"] [data-testid="{testid}"]'
    for testid in ("stDataFrame", "stTable", "stVegaLiteChart", "stMetric")
)
EXCEPTION = '[data-testid="stException"]'
# Every element of the main area drawn: none still waits for its code (Streamlit shows a
# skeleton while an element's chunk loads), and every chart has its canvas or SVG.
ALL_DRAWN = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return main !== null && main.querySelector('[data-testid="stSkeleton"]') === null &&
        [...main.querySelectorAll('[data-testid="stVegaLiteChart"]')]
            .every((chart) => chart.querySelector('canvas, svg') !== null);
}"""
NAV_LINK = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'
# Streamlit >= 1.60 renders a (visually hidden) range input; older ones a role=slider div.
SLIDER_THUMB = (
    '[data-testid="stSlider"] input[type="range"], [data-testid="stSlider"] [role="slider"]'
)
STREAM_PATH = "/_stcore/stream"
RUN_TIMEOUT_S = 60.0


class AppError(RuntimeError):
    """The app showed an exception, or a run did not finish in time."""


@dataclass
class RunWatcher:
    """Collects (sent, finished) times of script runs on one page's websocket."""

    sent: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, socket) -> None:
        if STREAM_PATH in socket.url:
            socket.on("framesent", self._on_sent)
            socket.on("framereceived", self._on_received)

    def _on_sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        now = time.perf_counter()
        if isinstance(payload, str):
            return
        message = BackMsg()
        message.ParseFromString(payload)
        if message.WhichOneof("type") == "rerun_script":
            self.sent.append(now)

    def _on_received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        now = time.perf_counter()
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        message.ParseFromString(payload)
        if message.WhichOneof("type") == "script_finished":
            self.finished.append(now)
            self.statuses.append(ForwardMsg.ScriptFinishedStatus.Name(message.script_finished))

    async def wait_finished(self, count: int, timeout: float = RUN_TIMEOUT_S) -> float:
        """Wait until ``count`` runs have finished; the time the last one did."""
        deadline = time.perf_counter() + timeout
        while len(self.finished) < count:
            if time.perf_counter() > deadline:
                raise AppError(f"script run {count} did not finish within {timeout:.0f} s")
            await asyncio.sleep(0.005)
        return self.finished[count - 1]

    async def timed_run(self, action) -> float:
        """Milliseconds from the rerun request that ``action`` causes to script_finished."""
        sent_before, finished_before = len(self.sent), len(self.finished)
        await action()
        deadline = time.perf_counter() + RUN_TIMEOUT_S
        while len(self.sent) <= sent_before:
            if time.perf_counter() > deadline:
                raise AppError("the action sent no rerun request")
            await asyncio.sleep(0.002)
        started = self.sent[sent_before]
        # The run that answers this request is the first to finish after it was sent.
        count = finished_before + 1
        while True:
            ended = await self.wait_finished(count)
            if ended >= started:
                return (ended - started) * 1000.0
            count += 1


async def launch(playwright):
    """Debian's Chromium, headless; never a downloaded browser build."""
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
    )


async def check_no_exception(page, where: str = "") -> None:
    if await page.locator(EXCEPTION).count():
        text = " ".join((await page.locator(EXCEPTION).first.inner_text()).split())
        raise AppError(f"the app shows an exception{where}: {text[:120]}")


@dataclass(frozen=True)
class FirstPage:
    """Seconds from navigation start to each step of the first page load."""

    html_s: float  # the page's HTML parsed
    run_requested_s: float  # the frontend (JS loaded) asked the server for the first run
    run_finished_s: float  # the server's first script run finished
    rendered_s: float  # the main content visible and every element drawn: fully rendered


async def open_app(page, watcher: RunWatcher, url: str) -> FirstPage:
    """Load the app and wait until its main content is visible and every element of
    the main area is drawn (``ALL_DRAWN``)."""
    start = time.perf_counter()
    await page.goto(url, wait_until="domcontentloaded")
    html = time.perf_counter()
    finished = await watcher.wait_finished(1)
    shown = page.locator(f"{CONTENT}, {EXCEPTION}").first
    await shown.wait_for(state="visible", timeout=RUN_TIMEOUT_S * 1000)
    await page.wait_for_function(ALL_DRAWN, timeout=RUN_TIMEOUT_S * 1000)
    rendered = time.perf_counter()
    await check_no_exception(page, " on the first page")
    requested = watcher.sent[0] if watcher.sent else finished
    return FirstPage(
        html_s=html - start,
        run_requested_s=requested - start,
        run_finished_s=finished - start,
        rendered_s=rendered - start,
    )


async def first_visit(browser, url: str) -> tuple:
    """A fresh browser context's first visit to the app at ``url``: (the page, its
    RunWatcher, the first page's timings)."""
    page = await (await browser.new_context()).new_page()
    watcher = RunWatcher()
    watcher.attach(page)
    return page, watcher, await open_app(page, watcher, url)


async def nav_links(page) -> list[str]:
    """The page names in the app's navigation, in order (an icon's name left out)."""
    links = page.locator(NAV_LINK)
    names = []
    for i in range(await links.count()):
        lines = [line.strip() for line in (await links.nth(i).inner_text()).splitlines()]
        names.append([line for line in lines if line][-1] if any(lines) else "")
    return names


async def switch_page(page, watcher: RunWatcher, name: str) -> float:
    """Click the navigation link called ``name``; the run's milliseconds."""
    names = await nav_links(page)
    link = page.locator(NAV_LINK).nth(names.index(name))

    async def click() -> None:
        await link.click()

    ms = await watcher.timed_run(click)
    await check_no_exception(page, f" on {name!r}")
    return ms


async def nudge_slider(page, watcher: RunWatcher, index: int) -> float:
    """Move slider ``index`` (mod the count) one step by keyboard; the run's milliseconds."""
    thumbs = page.locator(SLIDER_THUMB)
    await thumbs.first.wait_for(state="attached", timeout=RUN_TIMEOUT_S * 1000)
    thumb = thumbs.nth(index % await thumbs.count())
    now = await _number(thumb, "value", "aria-valuenow")
    top = await _number(thumb, "max", "aria-valuemax")
    key = "ArrowRight" if now < top else "ArrowLeft"

    async def press() -> None:
        await thumb.focus()
        await thumb.press(key)

    ms = await watcher.timed_run(press)
    await check_no_exception(page, f" after moving slider {index % await thumbs.count()}")
    return ms


async def _number(element, *attributes: str) -> float:
    """The first of ``attributes`` that ``element`` carries, as a number (0 if none)."""
    for attribute in attributes:
        value = await element.get_attribute(attribute)
        if value not in (None, ""):
            return float(value)
    return 0.0


def pick_page(names: list[str], *words: str) -> str | None:
    """The first page whose name contains all ``words`` (case-insensitive)."""
    for name in names:
        if all(word in name.lower() for word in words):
            return name
    return None


async def new_user_and_others(page) -> tuple[list[str], str, list[str]]:
    """(every page name, the New user page, the other pages) from the navigation."""
    names = await nav_links(page)
    new_user = pick_page(names, "new", "user") or pick_page(names, "new")
    if new_user is None:
        raise AppError(f"no New user page among {names}")
    return names, new_user, [name for name in names if name != new_user] or [new_user]
