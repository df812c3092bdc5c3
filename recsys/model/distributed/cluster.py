"""Who is in the training cluster (``TF_CONFIG``), and N local workers for a one-host run.

``TF_CONFIG`` is TensorFlow's own way to describe a cluster: the same JSON on every
host but for ``task``, e.g. ``{"cluster": {"worker": ["a:2222", "b:2222"]}, "task":
{"type": "worker", "index": 1}}``. TensorFlow's ``MultiWorkerMirroredStrategy`` reads it
and does all the talking between workers; this module only reads it to know this
worker's place, and (``run_local_workers``) starts N processes with a ``TF_CONFIG``
each, in a network namespace of their own (``recsys.model.distributed.private_network``).

Each worker's gRPC server listens on every interface, whatever host ``TF_CONFIG``
names, and runs any graph sent to it, unauthenticated. Local workers are therefore
started where only their loopback interface exists, or not at all unless the operator
opts in (``RECSYS_ALLOW_OPEN_WORKER_PORTS=1``); a ``--distributed`` worker warns that
its network must admit only the cluster's hosts. No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from recsys.errors import RecsysError, UsageError, printable
from recsys.model.distributed.private_network import (
    PrivateNetwork,
    PrivateNetworkUnavailable,
    private_network,
)
from recsys.settings import PROJECT_ROOT

TF_CONFIG = "TF_CONFIG"
# The operator's consent to local workers on open ports where no private network can be
# had; "1" only.
OPEN_PORTS_SWITCH = "RECSYS_ALLOW_OPEN_WORKER_PORTS"
# Set by the launcher for the workers it starts: they need not warn about their ports
# (the launcher has closed them, or warned itself).
LOCAL_WORKER = "RECSYS_LOCAL_WORKER"
JOIN_TIMEOUT_S = 120.0  # how long a worker waits for the others before giving up
# Set by the supervisor for the worker it runs: a file the worker creates once the
# cluster has trained a first step together.
JOINED_FILE = "RECSYS_JOINED_FILE"
_POLL_S = 0.2


class ClusterError(RecsysError):
    """A worker died or could not be reached; the training stopped, no bundle written."""


@dataclass(frozen=True)
class Cluster:
    """This process's place in the cluster.

    addresses: every task's ``host:port``, the chief first (``"chief"`` job, else worker 0).
    index: this process's position in ``addresses``.
    """

    addresses: tuple[str, ...]
    index: int

    @property
    def workers(self) -> int:
        return len(self.addresses)

    @property
    def is_chief(self) -> bool:
        """The chief writes the bundle; the others only train."""
        return self.index == 0

    def describe(self, index: int) -> str:
        return f"worker {index} ({self.addresses[index]})"


def cluster_from_env(env: Mapping[str, str] | None = None) -> Cluster:
    """The cluster that ``TF_CONFIG`` describes; UsageError, in one line, if it is
    missing or malformed."""
    raw = (os.environ if env is None else env).get(TF_CONFIG, "")
    if not raw.strip():
        raise UsageError(
            f"{TF_CONFIG} is not set: --distributed needs the cluster in {TF_CONFIG} "
            "(or use --workers N to start N workers on this machine)"
        )
    try:
        config = json.loads(raw)
        jobs = config["cluster"]
        task_type, task_index = config["task"]["type"], int(config["task"]["index"])
        chiefs, workers = list(jobs.get("chief", [])), list(jobs.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise UsageError(f"{TF_CONFIG} is not a valid cluster description ({err})") from None
    addresses = tuple(str(a) for a in chiefs + workers)
    offset = {"chief": 0, "worker": len(chiefs)}.get(task_type)
    if offset is None or not addresses or len(chiefs) > 1:
        raise UsageError(f"{TF_CONFIG}: expected one optional chief and workers, got {raw!r}")
    index = offset + task_index
    if not 0 <= task_index < len(chiefs if task_type == "chief" else workers):
        raise UsageError(f"{TF_CONFIG}: task {task_type} {task_index} is not in the cluster")
    return Cluster(addresses, index)


def _free_ports(n: int) -> list[int]:
    """n ports free right now (the OS picks them). Another process may take one before
    its worker listens on it: the worker then stops with one line
    (``recsys.model.distributed``)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def local_tf_configs(n: int, ports: list[int] | None = None) -> list[str]:
    """``TF_CONFIG`` for each of n workers on this machine, reached at ``127.0.0.1``
    (``ports``, else ports free now)."""
    workers = [f"127.0.0.1:{port}" for port in ports or _free_ports(n)]
    return [
        json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
        for i in range(n)
    ]


@dataclass(frozen=True)
class LocalRun:
    """The chief's stdout and stderr once every worker has finished."""

    stdout: str
    stderr: str


def run_local_workers(args: list[str], n: int, timeout_s: float | None = None) -> LocalRun:
    """Run ``python -m recsys ARGS`` as n workers of one cluster on this machine.

    The workers run in a private network namespace, where only ``lo`` exists, so their
    ports are reachable from each other only; where the system refuses one, UsageError
    (one line) unless ``RECSYS_ALLOW_OPEN_WORKER_PORTS=1``, and then a warning on stderr.
    Each worker gets its own ``TF_CONFIG``; outputs go to files (never a pipe that can
    fill). When one worker fails, the others are stopped and ClusterError says, in one
    line, which failed and why; the chief writes the bundle only after a full training,
    so the bundle that was there stays as it was.
    """
    with ExitStack() as stack:
        network = network_for_local_workers(stack, n)
        ports = network.ports(n) if network is not None else None
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recsys-workers-")))
        procs: list[subprocess.Popen] = []
        try:
            for i, tf_config in enumerate(local_tf_configs(n, ports)):
                procs.append(_start_worker(args, i, tf_config, logs, network))
            failed = _wait_all(procs, timeout_s)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        if failed:
            reasons = [_failure(i, procs[i].returncode, logs / f"{i}.err") for i in failed]
            raise ClusterError(
                f"the {n}-worker training stopped: {'; '.join(reasons)}; "
                "no bundle was written, the served one is unchanged"
            )
        return LocalRun(
            stdout=(logs / "0.out").read_text(errors="replace"),
            stderr=(logs / "0.err").read_text(errors="replace"),
        )


def network_for_local_workers(stack: ExitStack, n: int) -> PrivateNetwork | None:
    """A private network for n workers on this machine, held open by ``stack``. Where
    the system refuses one: UsageError (one line), or None if the operator opted in to
    open ports (``RECSYS_ALLOW_OPEN_WORKER_PORTS=1``), with a warning on stderr."""
    try:
        return stack.enter_context(private_network())
    except PrivateNetworkUnavailable as err:
        reason = str(err)
    if os.environ.get(OPEN_PORTS_SWITCH) != "1":
        raise UsageError(
            f"--workers: no private network for the workers on this system ({reason}), and "
            "their ports would listen on every interface and run any graph sent to them; "
            f"set {OPEN_PORTS_SWITCH}=1 to train on open ports anyway, only on a machine "
            "that no one else can reach"
        )
    print(
        f"warning: {OPEN_PORTS_SWITCH}=1: the {n} workers' ports listen on every interface, "
        "unauthenticated: whoever reaches them can run code as this user while they train",
        file=sys.stderr,
    )
    return None


def _start_worker(
    args: list[str], index: int, tf_config: str, logs: Path, network: PrivateNetwork | None
) -> subprocess.Popen:
    """``python -m recsys ARGS`` as worker ``index``, in ``network`` (if any), its output
    to ``logs/<index>.out`` and ``.err``."""
    out, err = open(logs / f"{index}.out", "wb"), open(logs / f"{index}.err", "wb")
    with out, err:
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "recsys", *args],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_ROOT,
                env={**os.environ, TF_CONFIG: tf_config, LOCAL_WORKER: "1"},
                preexec_fn=None if network is None else network.enter,
            )
        except subprocess.SubprocessError:  # the child could not join the namespace
            raise ClusterError(
                f"worker {index} could not join the workers' private network; "
                "no bundle was written, the served one is unchanged"
            ) from None


def open_port_warning(cluster: Cluster) -> str | None:
    """The warning a ``--distributed`` worker prints at start (None for the workers of
    ``run_local_workers``, whose launcher took care of their ports)."""
    if os.environ.get(LOCAL_WORKER) == "1":
        return None
    return (
        f"warning: this worker's port ({cluster.addresses[cluster.index]}) listens on every "
        "interface, unauthenticated, and runs any code sent to it: train across hosts "
        "only on an isolated network whose firewall admits the cluster's hosts alone"
    )


def _wait_all(procs: list[subprocess.Popen], timeout_s: float | None) -> list[int]:
    """Wait for every process; at the first failure (or past ``timeout_s``) stop the
    rest. The indices of the ones that failed, the first failure first."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    failed: list[int] = []
    while any(p.poll() is None for p in procs):
        failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
        if failed:
            break
        if deadline is not None and time.monotonic() > deadline:
            failed = [i for i, p in enumerate(procs) if p.poll() is None]
            for i in failed:
                procs[i].send_signal(signal.SIGTERM)
            break
        time.sleep(_POLL_S)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return failed or [i for i, p in enumerate(procs) if p.returncode != 0]


def _failure(index: int, code: int, stderr: Path) -> str:
    """``worker 1 was killed (signal 9)`` or ``worker 0 exited with 2: <its last line>``."""
    lines = [
        line.strip()
        for line in stderr.read_text(errors="replace").replace("\r", "\n").splitlines()
        if line.strip()
    ]
    last = lines[-1].removeprefix("error: ") if lines else ""
    if code < 0:
        name = _signal_name(-code)
        what = f"worker {index} was stopped by {name}"
    else:
        what = f"worker {index} exited with {code}"
    return printable(f"{what}: {last}" if last else what)


def report_joined() -> None:
    """Tell this worker's supervisor (if any) that the cluster trains: create the file
    named in ``RECSYS_JOINED_FILE``. Cheap enough to call after every step."""
    path = os.environ.get(JOINED_FILE)
    if path and not os.path.exists(path):
        Path(path).touch()


def supervised() -> bool:
    """Whether this process is a worker that a supervisor runs."""
    return bool(os.environ.get(JOINED_FILE))


def _die_with_parent() -> None:  # pragma: no cover (runs in the child, before exec)
    """Linux: the worker is killed when its supervisor dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def supervise_worker(args: list[str], cluster: Cluster, join_timeout: float) -> int:
    """Run ``python -m recsys ARGS`` (this worker's training) in a child and watch it.

    TensorFlow waits an hour for a worker that cannot be reached, holding Python's lock,
    so the worker cannot stop itself: if the cluster has not trained a first step within
    ``join_timeout`` seconds, the supervisor kills it and says so in one line. A worker
    killed by a signal is one line, too; both exit 2. Otherwise the worker's own exit
    status. The worker shares this process's stdout and stderr; it dies with it.
    """
    with tempfile.TemporaryDirectory(prefix="recsys-worker-") as folder:
        joined = Path(folder) / "joined"
        child = subprocess.Popen(
            [sys.executable, "-m", "recsys", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, JOINED_FILE: str(joined)},
            preexec_fn=_die_with_parent,
        )

        def stop_on_sigterm(_signum, _frame):  # run_local_workers stops a failed run so
            _stop(child)
            sys.exit(128 + signal.SIGTERM)

        previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
        try:
            deadline = time.monotonic() + join_timeout
            while child.poll() is None:
                if not joined.exists() and time.monotonic() > deadline:
                    _stop(child)
                    others = [cluster.describe(i) for i in range(cluster.workers)]
                    others = [o for i, o in enumerate(others) if i != cluster.index]
                    print(
                        f"error: could not train with {', '.join(others) or 'the cluster'} "
                        f"within {join_timeout:g} s (not started or not reachable); "
                        "no bundle was written",
                        file=sys.stderr,
                    )
                    return 2
                time.sleep(_POLL_S)
        finally:
            signal.signal(signal.SIGTERM, previous)
            _stop(child)
    if child.returncode < 0:
        name = _signal_name(-child.returncode)
        print(
            f"error: worker {cluster.index} was stopped by {name}; no bundle was written",
            file=sys.stderr,
        )
        return 2
    return child.returncode


def _stop(child: subprocess.Popen) -> None:
    """Kill the worker (TensorFlow catches SIGTERM) and reap it."""
    if child.poll() is None:
        child.kill()
        child.wait()


def _signal_name(number: int) -> str:
    return signal.Signals(number).name if number in signal.valid_signals() else str(number)
