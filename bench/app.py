"""Section ``app``: the dashboard, started headless with a bundle present.

- ``healthy_s``: from ``streamlit run`` to ``/_stcore/health`` answering.
- ``first_page_s``: from opening the page in headless Chromium until the first script
  run finished and the main content (a table or chart) is visible; without a browser,
  the first (cold) script run under AppTest.
- ``rss_mb``, ``tensorflow_imported``: the server's resident memory (children
  included) and whether any TensorFlow library is mapped into it, after every page
  was shown once; without a browser, those of the AppTest process instead.
- ``slider_ms``, ``page_switch_ms``: medians of the script run after a New user slider
  change and after a page switch, ``at.run()`` under AppTest in a fresh process: the
  server's own work. ``browser_slider_ms``/``browser_page_switch_ms`` are the same runs
  on the real server as the browser sees them (rerun request sent to script_finished
  received), which adds the websocket and competition for the CPU with Chromium.
- ``reference_first_page_s``, ``first_page_vs_reference``: the first page of bare
  Streamlit (``bench/reference_app.py``: a title and six metrics), measured the same
  way in the same run, and the dashboard's first page as a multiple of it: how much
  of the first page is Streamlit's own cost on this machine, whatever its load.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import browser as web
from bench.common import (
    browser_missing,
    log,
    maps_mention,
    rounded,
    subprocess_env,
    tree_rss_mb,
)
from bench.plan import Plan
from bench.server import Server, healthy_app
from recsys.settings import PROJECT_ROOT

TENSORFLOW_LIBRARY = "libtensorflow"
REFERENCE_APP = Path(__file__).with_name("reference_app.py")


def app_env(artifacts: Path, data: Path | None) -> dict[str, str]:
    env = {"RECSYS_ARTIFACTS": str(artifacts), "TF_CPP_MIN_LOG_LEVEL": "3"}
    if data is not None:
        env["RECSYS_DATA"] = str(data)
    return env


async def _browse(server: Server, repeats: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await web.launch(playwright)
        try:
            page, watcher, first_page = await web.first_visit(browser, server.url)
            start_to_first_page_s = time.perf_counter() - server.started
            names, new_user, others = await web.new_user_and_others(page)
            slides, switches = [], []
            for i in range(repeats):
                switches.append(await web.switch_page(page, watcher, new_user))
                slides.append(await web.nudge_slider(page, watcher, i))
                switches.append(await web.switch_page(page, watcher, others[i % len(others)]))
        finally:
            await browser.close()
    return {
        "first_page_s": first_page.rendered_s,
        "first_page_steps_s": {k: round(v, 3) for k, v in asdict(first_page).items()},
        "start_to_first_page_s": start_to_first_page_s,
        "slider_ms": statistics.median(slides),
        "page_switch_ms": statistics.median(switches),
        "pages": names,
    }


def apptest_timings(app: Path, env: dict[str, str], repeats: int) -> dict:
    """``bench.apptest_worker`` in a fresh process (cold caches, no TensorFlow around)."""
    command = [sys.executable, "-m", "bench.apptest_worker", str(app), "--repeats", str(repeats)]
    done = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"AppTest worker failed: {done.stderr.strip()[-1500:]}")
    return json.loads(done.stdout)


def run_app(server: Server, healthy_s: float, env: dict[str, str], plan: Plan) -> dict:
    """Measure on ``server``, freshly started (no session has run the script yet)."""
    no_browser = browser_missing()
    seen = None
    if no_browser is None:
        log("app: first page and page visits in headless Chromium")
        try:
            seen = asyncio.run(_browse(server, plan.app_repeats))
        except web.AppError as err:
            raise web.AppError(f"{err}; server log: {server.last_traceback()}") from None
    rss = tree_rss_mb(server.pid)
    tensorflow = maps_mention(server.pid, TENSORFLOW_LIBRARY)
    reference = None if seen is None else reference_first_page(server.log_path.parent)
    log("app: AppTest script-run timings in a fresh process")
    scripted = apptest_timings(Path(server.app), env, plan.app_repeats)
    if seen is None:  # no browser: the first script run and the worker's own process
        return _result(
            healthy_s,
            scripted["first_run_s"],
            scripted["rss_mb"],
            scripted["tensorflow_imported"],
            scripted,
            {"browser_skipped": no_browser},
        )
    return _result(
        healthy_s,
        seen["first_page_s"],
        rss,
        tensorflow,
        scripted,
        {
            "start_to_first_page_s": rounded(seen["start_to_first_page_s"], 3),
            "reference_first_page_s": rounded(reference, 3),
            "first_page_vs_reference": rounded(seen["first_page_s"] / reference, 2),
            "first_page_steps_s": seen["first_page_steps_s"],
            "browser_slider_ms": rounded(seen["slider_ms"], 2),
            "browser_page_switch_ms": rounded(seen["page_switch_ms"], 2),
            "pages": seen["pages"],
        },
    )


def reference_first_page(log_dir: Path) -> float:
    """Seconds to the first page of ``bench/reference_app.py`` (bare Streamlit), on its
    own fresh server, in a fresh browser, measured as the dashboard's first page is."""
    from playwright.async_api import async_playwright

    async def first_page(url: str) -> float:
        async with async_playwright() as playwright:
            browser = await web.launch(playwright)
            try:
                return (await web.first_visit(browser, url))[2].rendered_s
            finally:
                await browser.close()

    log("app: the reference page (bare Streamlit) in headless Chromium")
    with healthy_app(REFERENCE_APP, log_dir) as reference:
        return asyncio.run(first_page(reference.url))


def _result(healthy_s, first_page_s, rss, tensorflow, scripted: dict, extra: dict) -> dict:
    return {
        "healthy_s": rounded(healthy_s, 3),
        "first_page_s": rounded(first_page_s, 3),
        "rss_mb": rounded(rss, 1),
        "tensorflow_imported": bool(tensorflow),
        "slider_ms": rounded(scripted["slider_ms"], 2),
        "page_switch_ms": rounded(scripted["page_switch_ms"], 2),
        "first_page_method": "chromium" if "browser_skipped" not in extra else "first script run",
        "memory_of": "server" if "browser_skipped" not in extra else "AppTest process",
        "script_first_run_s": rounded(scripted["first_run_s"], 3),
        "slider_changes": scripted["slider_changes"],
        "page_switches": scripted["page_switches"],
        **extra,
    }
