"""Where the workers' ports can be reached from.

TensorFlow's gRPC server listens on every interface and runs any graph sent to it.
``train --workers N`` must open no port that another host (or a process outside the
run) can reach: its workers run in a private network namespace; where there is none,
it refuses unless the operator opts in, and then warns. A ``--distributed`` worker
warns at start. A port taken by another process stops the run in one line.

The slow tests start real workers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recsys.errors import UsageError
from recsys.model.bundle import current_bundle
from recsys.model.distributed import cluster
from recsys.model.distributed.cluster import (
    OPEN_PORTS_SWITCH,
    TF_CONFIG,
    Cluster,
    ClusterError,
    local_tf_configs,
    run_local_workers,
)
from recsys.model.distributed.private_network import (
    FIRST_PORT,
    PrivateNetworkUnavailable,
    private_network,
)
from recsys.model.distributed.shards import shard_path
from recsys.settings import PROJECT_ROOT
from tests.helpers import run_cli

LINUX_PROC = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux) to see the sockets"
)
LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp*
WILDCARDS = {"00000000", "0" * 32}  # 0.0.0.0 and ::


def _namespace_kinds_or_skip(kinds: tuple[str, ...] = ("net", "user")) -> None:
    try:
        with private_network(kinds):
            pass
    except PrivateNetworkUnavailable as err:
        pytest.skip(f"this system gives no network namespace ({err})")


def _listeners(proc_net: Path) -> dict[int, tuple[str, int]]:
    """The LISTEN sockets of one namespace's ``/proc/.../net``: inode -> (address, port)."""
    found = {}
    for name in ("tcp", "tcp6"):
        for line in (proc_net / name).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == LISTEN:
                found[int(fields[9])] = (address, int(port, 16))
    return found


def _socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets that process ``pid`` holds open."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:[") : -1]))
    except OSError:  # the process ended meanwhile
        pass
    return inodes


def _processes_naming(text: str) -> list[int]:
    """The processes whose command line holds ``text``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                pids.append(int(entry))
    return pids


@pytest.fixture
def no_private_network(monkeypatch):
    """The launcher finds no network namespace (as on a system that refuses one)."""

    def refused(*_args, **_kwargs):
        raise PrivateNetworkUnavailable("unshare: Operation not permitted")

    monkeypatch.setattr(cluster, "private_network", refused)
    monkeypatch.delenv(OPEN_PORTS_SWITCH, raising=False)


# ------------------------------------------------------------------ the namespace itself


@LINUX_PROC
@pytest.mark.parametrize("kinds", [("net",), ("user",)], ids=["as-root", "user-namespace"])
def test_a_private_network_holds_only_loopback_and_hides_its_ports(kinds):
    """A process that joins the namespace sees only ``lo``, up; a socket it opens on
    every interface is not among this namespace's listeners, and it reaches itself on
    127.0.0.1 (the workers reach one another so)."""
    _namespace_kinds_or_skip(kinds)
    probe = f"""
import json, os, socket
server = socket.socket()
server.bind(("0.0.0.0", {FIRST_PORT}))
server.listen()
socket.create_connection(("127.0.0.1", {FIRST_PORT}), timeout=5)
print(json.dumps({{
    "namespace": os.readlink("/proc/self/ns/net"),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "socket": os.readlink(f"/proc/self/fd/{{server.fileno()}}"),
}}), flush=True)
input()
"""
    with private_network(kinds) as network:
        child = subprocess.Popen(
            [sys.executable, "-c", probe],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=network.enter,
        )
        try:
            seen = json.loads(child.stdout.readline())
            here = _listeners(Path("/proc/self/net"))
        finally:
            child.communicate("\n", timeout=10)
    assert seen["namespace"] != os.readlink("/proc/self/ns/net")
    assert seen["interfaces"] == ["lo"]
    assert int(seen["socket"][len("socket:[") : -1]) not in here


# ------------------------------------------------------------------ refused, or opted in

# Runs the command line with the launcher's namespace refused, as on a system without
# one (a seccomp filter, user namespaces turned off).
NO_NAMESPACE_CLI = """
import sys
from recsys.cli.main import main
from recsys.model.distributed import cluster
from recsys.model.distributed.private_network import PrivateNetworkUnavailable

def refused(*_args, **_kwargs):
    raise PrivateNetworkUnavailable("unshare: Operation not permitted")

cluster.private_network = refused
sys.exit(main(sys.argv[1:]))
"""


def test_without_a_private_network_local_workers_are_refused(no_private_network, tmp_path):
    with pytest.raises(UsageError) as excinfo:  # no worker starts: ClusterError else
        run_local_workers(["info", "--data", str(tmp_path / "nowhere")], 2)
    message = str(excinfo.value)
    assert "\n" not in message
    assert "no private network" in message and "unshare: Operation not permitted" in message
    assert f"set {OPEN_PORTS_SWITCH}=1" in message


def test_the_cli_refuses_local_workers_without_a_private_network(synthetic_data, tmp_path):
    """``train --workers 2``: one line, exit 2, nothing written."""
    artifacts = tmp_path / "artifacts"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_NAMESPACE_CLI,
            "train",
            "--model",
            "lab",
            "--workers",
            "2",
            "--epochs",
            "1",
            "--data",
            str(synthetic_data),
            "--artifacts",
            str(artifacts),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != OPEN_PORTS_SWITCH},
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: --workers: no private network for the workers")
    assert f"{OPEN_PORTS_SWITCH}=1" in done.stderr
    assert not artifacts.exists() or not any(artifacts.rglob("bundle-*"))


def test_opted_in_local_workers_run_on_open_ports_with_a_warning(
    no_private_network, monkeypatch, capsys, synthetic_data
):
    monkeypatch.setenv(OPEN_PORTS_SWITCH, "1")
    run = run_local_workers(["info", "--data", str(synthetic_data)], 2)
    assert "ratings" in run.stdout  # the workers ran
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1, warning
    assert warning.startswith(f"warning: {OPEN_PORTS_SWITCH}=1: the 2 workers' ports listen ")
    assert "every interface, unauthenticated" in warning


def test_a_distributed_worker_warns_that_its_port_is_open(tmp_path):
    """At start, before anything else: one line, naming its address and the firewall."""
    tf_config = local_tf_configs(2)[0]
    address = json.loads(tf_config)["cluster"]["worker"][0]
    missing = tmp_path / "nowhere"
    args = ["--data", str(missing), "--artifacts", str(tmp_path / "artifacts")]
    done = run_cli("train", "--distributed", "--model", "lab", *args, env={TF_CONFIG: tf_config})
    assert done.returncode == 2  # the data is missing
    warning, error = done.stderr.splitlines()
    assert warning.startswith(f"warning: this worker's port ({address}) listens on every ")
    assert "runs any code sent to it" in warning and "firewall" in warning
    assert error.startswith("error: ") and str(missing) in error


# ------------------------------------------------------------------ the shards' folder


@pytest.mark.parametrize("linked", [".shards", ".shards/key"])
def test_a_shards_folder_that_is_a_link_is_refused(linked, tmp_path):
    artifacts, elsewhere = tmp_path / "artifacts", tmp_path / "elsewhere"
    (artifacts / linked).parent.mkdir(parents=True)
    elsewhere.mkdir()
    (artifacts / linked).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError) as excinfo:
        shard_path(artifacts, "key", Cluster(("a:1", "b:2"), 1))
    assert str(excinfo.value) == (
        f"{artifacts / linked}: is a symbolic link; training writes its shards there and "
        "follows no link: remove it (a folder is made in its place)"
    )


def test_a_worker_writes_no_shard_through_a_linked_shards_folder(synthetic_data, tmp_path):
    """``train --distributed`` (a cluster of one) stops in one line, exit 2, before it
    writes a shard; the folder the link points to stays empty."""
    artifacts, elsewhere = tmp_path / "artifacts", tmp_path / "elsewhere"
    artifacts.mkdir()
    elsewhere.mkdir()
    (artifacts / ".shards").symlink_to(elsewhere, target_is_directory=True)
    tf_config = json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}
    )
    done = run_cli(
        "train",
        "--distributed",
        "--model",
        "lab",
        "--epochs",
        "1",
        "--data",
        str(synthetic_data),
        "--artifacts",
        str(artifacts),
        env={TF_CONFIG: tf_config},
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {artifacts / '.shards'}: is a symbolic link"), done.stderr
    assert "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []
    assert (artifacts / ".shards").is_symlink()


# ------------------------------------------------------------------ real workers (slow)


@pytest.mark.slow
def test_a_port_taken_before_its_worker_listens_stops_the_run_in_one_line(
    no_private_network, monkeypatch, synthetic_data, tmp_path
):
    """On open ports (opted in), another process takes worker 1's port between the
    launcher's choice and the worker's listen: the run ends within seconds, not at the
    join timeout, with one line naming the port."""
    monkeypatch.setenv(OPEN_PORTS_SWITCH, "1")
    artifacts = tmp_path / "artifacts"
    with socket.socket() as thief:
        thief.bind(("127.0.0.1", 0))
        thief.listen()
        taken = thief.getsockname()[1]
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            ports = [free.getsockname()[1], taken]
        monkeypatch.setattr(cluster, "_free_ports", lambda n: ports[:n])
        start = time.monotonic()
        with pytest.raises(ClusterError) as excinfo:
            run_local_workers(
                [
                    "train",
                    "--distributed",
                    "--model",
                    "lab",
                    "--epochs",
                    "1",
                    "--join-timeout",
                    "300",
                    "--data",
                    str(synthetic_data),
                    "--artifacts",
                    str(artifacts),
                ],
                2,
            )
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"worker 1 could not listen on port {taken} (127.0.0.1:{taken} in TF_CONFIG)" in message
    assert "Traceback" not in message and "tensorflow" not in message
    assert time.monotonic() - start < 150
    assert not any(artifacts.rglob("bundle-*"))


@pytest.mark.slow
@LINUX_PROC
def test_two_local_workers_listen_on_no_port_outside_their_namespace(synthetic_data, tmp_path):
    """During a real ``train --workers 2``: the workers run in another network namespace,
    where their servers listen; none of their sockets listens on a wildcard address of
    this one (other hosts would reach it)."""
    _namespace_kinds_or_skip()
    artifacts = tmp_path / "artifacts"
    err = open(tmp_path / "err", "wb")
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recsys",
            "train",
            "--model",
            "lab",
            "--workers",
            "2",
            "--epochs",
            "2",
            "--data",
            str(synthetic_data),
            "--artifacts",
            str(artifacts),
        ],
        stdout=subprocess.DEVNULL,
        stderr=err,
        cwd=PROJECT_ROOT,
    )
    here = os.readlink("/proc/self/ns/net")
    namespaces, exposed, listened_inside = set(), set(), False
    try:
        deadline = time.monotonic() + 280
        while launcher.poll() is None and time.monotonic() < deadline:
            host = _listeners(Path("/proc/self/net"))
            for pid in _processes_naming(str(artifacts)):
                if b"--distributed" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue  # the launcher itself
                try:
                    namespaces.add(os.readlink(f"/proc/{pid}/ns/net"))
                    inside = _listeners(Path(f"/proc/{pid}/net"))  # its namespace's view
                except OSError:
                    continue  # ended meanwhile
                inodes = _socket_inodes(pid)
                exposed |= {host[i] for i in inodes & host.keys() if host[i][0] in WILDCARDS}
                listened_inside |= bool(inodes & inside.keys())
            time.sleep(0.2)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        launcher.wait()
        err.close()
    stderr = (tmp_path / "err").read_text(errors="replace")
    assert launcher.returncode == 0, stderr[-2000:]
    assert listened_inside  # seen while the workers' servers listened
    assert namespaces and here not in namespaces
    assert not exposed, f"the workers listen on {exposed} in this host's namespace"
    assert "port" not in stderr  # no warning: the ports are closed
    assert current_bundle(artifacts).exists()
