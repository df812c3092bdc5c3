"""Shared helpers: progress on stderr, timing statistics, process memory, ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from recsys.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a quiet, self-contained headless Chromium (no network beyond the app).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)


def log(message: str) -> None:
    """Progress goes to stderr, so that ``--json`` leaves stdout to the one object."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def time_calls(call: Callable[[int], object], n: int) -> np.ndarray:
    """[n] milliseconds, one per ``call(i)``."""
    times = np.empty(n)
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times[i] = (time.perf_counter() - start) * 1000.0
    return times


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit numpy's BLAS to one thread inside the block (threadpoolctl, if installed).

    On a small shared machine, OpenBLAS's threads wait on cores that other processes
    hold; one thread is often faster for the small products that serving does.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) of ``values``; None when there are none."""
    array = np.asarray(list(values), dtype=float)
    return float(np.percentile(array, q)) if array.size else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator / denominator)


def rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


# ------------------------------------------------------------------ process memory


def _status_kib(pid: int | str, field: str) -> int:
    """A ``kB`` field (VmRSS, VmHWM) of /proc/<pid>/status; 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of one process, in MB (2**20 bytes)."""
    return _status_kib(pid, "VmRSS") / 1024.0


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of one process, in MB."""
    return _status_kib(pid, "VmHWM") / 1024.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc/<pid>/task/*/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in task.read_text().split())
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MB."""
    return sum(rss_mb(p) for p in process_tree(pid))


def maps_mention(pid: int, needle: str) -> bool:
    """True when any process of the tree has a file mapped whose path contains ``needle``."""
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/maps") as maps:
                if any(needle in line for line in maps):
                    return True
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return False


# ------------------------------------------------------------------ environment


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def browser_missing() -> str | None:
    """Why no headless browser can run here, or None when one can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment with the project importable and ``extra`` set."""
    env = dict(os.environ)
    paths = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra)
    return env


def machine() -> dict:
    """Where the figures come from: CPU model, cores, memory."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except FileNotFoundError:
        pass
    total_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                total_kib = int(line.split()[1])
    except FileNotFoundError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "ram_gb": round(total_kib / 1024**2, 1),
        "python": sys.version.split()[0],
        "chromium": shutil.which("chromium") is not None or CHROMIUM.exists(),
        "date": time.strftime("%Y-%m-%d"),
    }
