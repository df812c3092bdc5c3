"""The bench runs in --quick mode and reports every key of the issue. No speed is checked.

Without /usr/bin/chromium the bench skips its browser pieces (the keys stay, null, with a
reason); with RECSYS_REQUIRE_BROWSER=1 (CI) they must have run.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
from numbers import Real

import numpy as np
import pytest

from bench import lab
from bench.plan import QUICK
from bench.serving import interleaved
from recsys.settings import PROJECT_ROOT

QUICK_TIMEOUT_S = 300

NUMBER, FLAG, COUNT = "number", "flag", "count"
# The sections and keys, spelled out here (not imported from bench), with types.
EXPECTED = {
    "train": {
        "lab_s": NUMBER,
        "fast_s": NUMBER,
        "lab_test_mse": NUMBER,
        "fast_test_mse": NUMBER,
        "speedup": NUMBER,
    },
    "new_user": {"lab_median_ms": NUMBER, "median_ms": NUMBER, "p99_ms": NUMBER, "speedup": NUMBER},
    "nearest": {"lab_s": NUMBER, "ours_s": NUMBER, "speedup": NUMBER},
    "hybrid": {
        "train_s": NUMBER,
        "train_rows_per_s": NUMBER,
        "new_user_picks_median_ms": NUMBER,
        "lab_median_ms": NUMBER,
        "speedup": NUMBER,
    },
    "app": {
        "healthy_s": NUMBER,
        "first_page_s": NUMBER,
        "rss_mb": NUMBER,
        "tensorflow_imported": FLAG,
        "slider_ms": NUMBER,
        "page_switch_ms": NUMBER,
    },
    "scale": {
        "ratings": COUNT,
        "build_s": NUMBER,
        "peak_rss_mb": NUMBER,
        "embed_s": NUMBER,
        "new_user_ms": NUMBER,
        "similar_ms": NUMBER,
        "train_rows_per_s_1": NUMBER,
        "train_rows_per_s_2": NUMBER,
        "allreduce_overhead": NUMBER,
        "train_peak_rss_mb_per_worker": NUMBER,
        "ml32m_build_s": NUMBER,
        "ml32m_peak_rss_mb": NUMBER,
        "bruteforce_1m_ms": NUMBER,
    },
    "load": {
        "sessions": COUNT,
        "failed": COUNT,
        "p50_ms": NUMBER,
        "p95_ms": NUMBER,
        "rss_growth_mb": NUMBER,
    },
}
BROWSER_SECTIONS = ("app", "load")


def _has_type(value, kind: str) -> bool:
    if kind == FLAG:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == COUNT:
        return isinstance(value, int)
    return isinstance(value, Real)


def _browser_required() -> bool:
    return os.environ.get("RECSYS_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def quick_run() -> tuple[subprocess.CompletedProcess, dict]:
    """``python -m bench --quick --json``, once for this module."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
    )
    try:
        results = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not one JSON object:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done, results


@pytest.mark.slow
@pytest.mark.e2e
def test_quick_run_succeeds_and_prints_one_object(quick_run):
    done, results = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert isinstance(results, dict)
    assert results["mode"] == "quick"


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("section", sorted(EXPECTED))
def test_section_has_every_key_with_its_type(quick_run, section):
    _, results = quick_run
    values = results[section]
    assert "error" not in values, values["error"]
    missing = set(EXPECTED[section]) - set(values)
    assert not missing, f"{section} lacks {sorted(missing)}"
    skipped = values.get("skipped")
    if skipped:
        assert section in BROWSER_SECTIONS, f"{section} skipped: {skipped}"
        assert all(values[key] is None for key in EXPECTED[section])
        return
    for key, kind in EXPECTED[section].items():
        assert _has_type(values[key], kind), f"{section}.{key} = {values[key]!r}, not a {kind}"


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("section", BROWSER_SECTIONS)
def test_browser_pieces_ran_or_say_why(quick_run, section):
    _, results = quick_run
    values = results[section]
    if not (PROJECT_ROOT / "dashboard.py").exists():
        assert values.get("skipped"), "no dashboard.py, yet the section claims to have run"
        pytest.skip("dashboard.py is not in the project yet")
    browser_ran = (
        values.get("first_page_method") == "chromium"
        if section == "app"
        else values.get("sessions") is not None
    )
    if _browser_required():
        assert browser_ran, f"RECSYS_REQUIRE_BROWSER=1 but {section}: {values}"
    elif not browser_ran:
        reason = values.get("browser_skipped") or values.get("skipped")
        assert reason, f"{section} skipped its browser pieces without a reason"
        pytest.skip(f"{section}: {reason}")
    if section == "app":  # bare Streamlit's first page, measured in the same run
        assert values["reference_first_page_s"] > 0
        # Each figure is the (lower) median of its cold loads, as many of each; the steps
        # are those of the dashboard's median load.
        loads = {key: values[f"{key}_samples_s"] for key in ("first_page", "reference_first_page")}
        for key, samples in loads.items():
            assert len(samples) == QUICK.first_page_loads
            assert values[f"{key}_s"] == pytest.approx(statistics.median_low(samples), abs=0.002)
        steps = values["first_page_steps_s"]
        assert steps["rendered_s"] == pytest.approx(values["first_page_s"], abs=0.002)
        assert steps["html_s"] <= steps["run_finished_s"] <= steps["rendered_s"]
        ratio = values["first_page_s"] / values["reference_first_page_s"]
        assert values["first_page_vs_reference"] == pytest.approx(ratio, abs=0.01)
    if section == "load":
        assert values["failed"] == 0, values.get("errors")
        assert values["sessions"] >= 2


def test_lab_nearest_loop_matches_a_vectorised_argmin():
    rng = np.random.default_rng(3)
    vms = rng.standard_normal((25, 32))
    distance = ((vms[:, None, :] - vms[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distance, np.inf)
    assert np.array_equal(lab.nearest(vms), distance.argmin(axis=1))


def test_interleaved_times_every_call_once_per_setting():
    lab_seen, our_seen, entered = [], [], []

    @contextlib.contextmanager
    def setting(name: str):
        entered.append(name)
        yield

    lab_ms, our_ms = interleaved(
        lab_seen.append,
        our_seen.append,
        {"a": lambda: setting("a"), "b": lambda: setting("b")},
        3,
        10,
    )
    assert lab_seen == [0, 1, 2]
    assert our_seen == [*range(4), *range(4), *range(4, 8), *range(4, 8), 8, 9, 8, 9]
    assert entered == ["a", "b"] * 3
    assert len(lab_ms) == 3
    assert {name: len(times) for name, times in our_ms.items()} == {"a": 10, "b": 10}
