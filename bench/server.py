"""Start ``streamlit run`` headless on a free local port, and stop it again.

The one server harness of the project: the bench and the browser tests (tests/e2e) both
start the app here. The server's output goes to a file, not a pipe: a pipe nobody reads
fills up and blocks the server (Streamlit's own end-to-end suite does the same).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port, subprocess_env
from recsys.settings import PROJECT_ROOT

HOST = "127.0.0.1"
HEALTH_TIMEOUT_S = 90.0


class ServerError(RuntimeError):
    """The app server did not come up."""


@dataclass(frozen=True)
class Server:
    app: Path
    process: subprocess.Popen
    port: int
    log_path: Path
    started: float  # time.perf_counter() just before the process was started

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def last_traceback(self, chars: int = 2500) -> str | None:
        """The last traceback the server logged (the app's own errors), if any."""
        log = self.log_tail(200_000)
        start = log.rfind("Traceback (most recent call last)")
        return log[start : start + chars].strip() if start >= 0 else None


def app_command(app: Path) -> list[str]:
    """The project's launcher for its own dashboard (imports warmed while the server
    starts, as ``make run`` does); plain ``streamlit run`` for any other script."""
    if app.resolve() == (PROJECT_ROOT / "dashboard.py").resolve():
        return [sys.executable, "-m", "recsys.dashboard.ui.serve"]
    return [sys.executable, "-m", "streamlit", "run", str(app)]


def streamlit_command(app: Path, port: int) -> list[str]:
    return [
        *app_command(app),
        "--server.headless",
        "true",
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]


@contextlib.contextmanager
def running_app(app: Path, log_dir: Path, **env: str) -> Iterator[Server]:
    """A fresh server for ``app`` with ``env`` added; stopped (its whole group) on exit."""
    port = free_port(HOST)
    log_path = log_dir / f"streamlit-{port}.log"
    with open(log_path, "wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            streamlit_command(app, port),
            cwd=PROJECT_ROOT,
            env=subprocess_env(**env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(app=app, process=process, port=port, log_path=log_path, started=started)
    try:
        yield server
    finally:
        stop(server)


@contextlib.contextmanager
def healthy_app(
    app: Path, log_dir: Path, *, timeout: float = HEALTH_TIMEOUT_S, **env: str
) -> Iterator[Server]:
    """``running_app``, entered once ``/_stcore/health`` answers (ServerError if it never
    does, with the tail of the server's log)."""
    with running_app(app, log_dir, **env) as server:
        wait_healthy(server, timeout)
        yield server


def stop(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL after 10 s."""
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


def wait_healthy(server: Server, timeout: float = HEALTH_TIMEOUT_S) -> float:
    """Seconds from the server's start until ``/_stcore/health`` answers ``ok``."""
    health = f"{server.url}_stcore/health"
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"streamlit exited with {server.process.returncode}: {server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(health, timeout=2) as answer:
                if answer.status == 200 and answer.read().strip() == b"ok":
                    return time.perf_counter() - server.started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise ServerError(f"no healthy server after {timeout:.0f} s: {server.log_tail()}")
