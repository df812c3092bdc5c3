"""Section ``app``: the dashboard, started headless with a bundle present.

- ``healthy_s``: from ``streamlit run`` to ``/_stcore/health`` answering.
- ``first_page_s``: from opening the page in headless Chromium until the first script
  run finished, the main content is visible and every element of the main area is
  drawn; the median of ``Plan.first_page_loads`` cold loads (``first_page_samples_s``),
  each a freshly started server opened in a fresh browser, since one load varies by
  ±0.3 s on 2 cores (the lower median of an even count: always one load's figure).
  ``first_page_steps_s``: the steps of that load. Without a
  browser, the first (cold) script run under AppTest.
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
  way in the same run (its loads taken in turn with the dashboard's), and the
  dashboard's first page as a multiple of it: how much of the first page is
  Streamlit's own cost on this machine, whatever its load.
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
        "first_page": first_page,
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
    if seen is not None:
        more, reference = cold_first_pages(server, env, plan.first_page_loads)
        loads = [seen["first_page"], *more]
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
    median = sorted(loads, key=lambda load: load.rendered_s)[(len(loads) - 1) // 2]
    first_page_s = median.rendered_s  # one load's figure, with its steps
    reference_s = statistics.median_low(reference)
    return _result(
        healthy_s,
        first_page_s,
        rss,
        tensorflow,
        scripted,
        {
            "first_page_samples_s": [rounded(load.rendered_s, 3) for load in loads],
            "start_to_first_page_s": rounded(seen["start_to_first_page_s"], 3),
            "reference_first_page_s": rounded(reference_s, 3),
            "reference_first_page_samples_s": [rounded(x, 3) for x in reference],
            "first_page_vs_reference": rounded(first_page_s / reference_s, 2),
            "first_page_steps_s": {k: round(v, 3) for k, v in asdict(median).items()},
            "browser_slider_ms": rounded(seen["slider_ms"], 2),
            "browser_page_switch_ms": rounded(seen["page_switch_ms"], 2),
            "pages": seen["pages"],
        },
    )


def cold_first_pages(
    server: Server, env: dict[str, str], loads: int
) -> tuple[list[web.FirstPage], list[float]]:
    """The dashboard's first page ``loads - 1`` more times (its first load is the bench's
    own server's), and bare Streamlit's (``bench/reference_app.py``) ``loads`` times,
    taken in turn: each load a freshly started server opened in a fresh browser."""
    log_dir = server.log_path.parent
    dashboard, reference = [], []
    for i in range(loads):
        if i:
            dashboard.append(cold_first_page(Path(server.app), log_dir, env))
        reference.append(cold_first_page(REFERENCE_APP, log_dir, {}).rendered_s)
    return dashboard, reference


def cold_first_page(app: Path, log_dir: Path, env: dict[str, str]) -> web.FirstPage:
    """The first page of ``app`` on its own fresh server, in a fresh browser."""
    from playwright.async_api import async_playwright

    async def first_page(url: str) -> web.FirstPage:
        async with async_playwright() as playwright:
            browser = await web.launch(playwright)
            try:
                return (await web.first_visit(browser, url))[2]
            finally:
                await browser.close()

    log(f"app: a cold first page of {app.name} in headless Chromium")
    with healthy_app(app, log_dir, **env) as fresh:
        return asyncio.run(first_page(fresh.url))


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
