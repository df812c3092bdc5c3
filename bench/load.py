"""Section ``load``: concurrent browser sessions against one headless server.

Each session is its own Playwright context (its own Streamlit session). It opens the
app, then ``iterations`` times: switches to New user, moves a slider, switches to
another page. A session fails on any exception shown by the app, any run that does not
finish, or any browser error. Rerun times are the server's script runs, timed on each
session's websocket (see ``bench.browser``), so under load they include waiting for
the CPU. Memory growth is the server's resident memory after all sessions minus before
them; before is taken after a warm-up session (the full run) or after the ``app``
section's visits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bench import browser as web
from bench.common import browser_missing, log, percentile, rounded, tree_rss_mb
from bench.keys import blank
from bench.plan import Plan
from bench.server import Server


@dataclass
class SessionResult:
    slider_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    error: str | None = None


async def _session(browser, url: str, iterations: int, index: int) -> SessionResult:
    result = SessionResult()
    context = await browser.new_context()
    try:
        page = await context.new_page()
        watcher = web.RunWatcher()
        watcher.attach(page)
        await web.open_app(page, watcher, url)
        _, new_user, others = await web.new_user_and_others(page)
        for i in range(iterations):
            result.page_ms.append(await web.switch_page(page, watcher, new_user))
            result.slider_ms.append(await web.nudge_slider(page, watcher, index + i))
            other = others[(index + i) % len(others)]
            result.page_ms.append(await web.switch_page(page, watcher, other))
    except Exception as err:  # a failed session is a result, not a crash of the bench
        result.error = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
    finally:
        await context.close()
    return result


async def _drive(server: Server, plan: Plan) -> tuple[list, float, float]:
    """(session results, server RSS before, after) in MB."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await web.launch(playwright)
        try:
            if plan.load_warmup_iterations is not None:
                warm = await _session(browser, server.url, plan.load_warmup_iterations, 0)
                if warm.error:
                    raise web.AppError(f"warm-up session failed: {warm.error}")
            before = tree_rss_mb(server.pid)
            results = await asyncio.gather(
                *(
                    _session(browser, server.url, plan.load_iterations, i)
                    for i in range(plan.load_sessions)
                )
            )
            after = tree_rss_mb(server.pid)
        finally:
            await browser.close()
    return list(results), before, after


def run_load(server: Server, plan: Plan) -> dict:
    """``plan.load_sessions`` concurrent sessions on ``server`` (already healthy)."""
    sessions, iterations = plan.load_sessions, plan.load_iterations
    if (reason := browser_missing()) is not None:
        return blank("load", skipped=reason)
    log(f"load: {sessions} sessions x {iterations} iterations")
    results, before, after = asyncio.run(_drive(server, plan))
    summary = _summary(results, before, after, iterations)
    if summary["failed"]:
        summary["server_traceback"] = server.last_traceback()
    return summary


def _summary(results: list[SessionResult], before: float, after: float, iterations: int) -> dict:
    reruns = [ms for r in results for ms in r.slider_ms + r.page_ms]
    slider = [ms for r in results for ms in r.slider_ms]
    pages = [ms for r in results for ms in r.page_ms]
    errors = [r.error for r in results if r.error]
    return {
        "sessions": len(results),
        "failed": len(errors),
        "p50_ms": rounded(percentile(reruns, 50), 2),
        "p95_ms": rounded(percentile(reruns, 95), 2),
        "rss_growth_mb": rounded(after - before, 1),
        "iterations": iterations,
        "reruns": len(reruns),
        "slider_p50_ms": rounded(percentile(slider, 50), 2),
        "page_switch_p50_ms": rounded(percentile(pages, 50), 2),
        "max_ms": rounded(max(reruns), 2) if reruns else None,
        "rss_before_mb": rounded(before, 1),
        "rss_after_mb": rounded(after, 1),
        "errors": errors[:5],
    }
