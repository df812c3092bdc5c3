"""A private network for the workers of a one-machine run: a Linux network namespace
where only the loopback interface exists.

TensorFlow's gRPC server listens on every interface whatever host ``TF_CONFIG`` names
(TensorFlow 2.21 binds ``0.0.0.0``/``[::]`` and has no setting for the address), with
no authentication: whoever reaches a worker's port can send it a graph, which may read
and write any file the worker can. Inside a namespace of its own a worker's port is
reachable from its fellow workers only: no other host, and no process of this machine
outside the namespace.

- As root (``CAP_SYS_ADMIN``): a new network namespace (``unshare(CLONE_NEWNET)``).
- Otherwise: a user namespace too, the caller mapped to root in it
  (``unshare --user --map-root-user --net``), where the kernel lets users make one.

A short-lived holder process makes the namespace and brings ``lo`` up; the launcher
keeps file descriptors of it (they keep it alive) and each worker joins it (``setns``)
between fork and exec. Nothing here imports more than the standard library, so the
holder stays single-threaded, as a new user namespace requires.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import select
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sh22x"  # struct ifreq: the name, then the flags (of a 24-byte union)
_READY_TIMEOUT_S = 20.0
# In a new network namespace the kernel's ephemeral ports are 32768–60999 whatever the
# host's setting; ports below them are never handed to an outgoing connection, so a
# worker's connection cannot take the port another worker is about to listen on.
FIRST_PORT = 20000
KINDS = ("net", "user")  # the ways to make the namespace, tried in this order


class PrivateNetworkUnavailable(Exception):
    """This system will not make a network namespace (not Linux, no permission, user
    namespaces turned off); ``str()`` says why, in one line."""


@dataclass(frozen=True)
class PrivateNetwork:
    """Open file descriptors of the namespace (and of its user namespace, where the
    caller is not root): while they are open the namespace lives."""

    net_fd: int
    user_fd: int | None

    def enter(self) -> None:
        """Join the namespace: the user namespace first (to be root in it), then the
        network. Meant for ``subprocess.Popen(preexec_fn=...)``, in the single-threaded
        child between fork and exec."""
        if self.user_fd is not None:
            _setns(self.user_fd, CLONE_NEWUSER)
        _setns(self.net_fd, CLONE_NEWNET)

    def ports(self, n: int) -> list[int]:
        """n ports free in the namespace, none of which an outgoing connection takes."""
        return [FIRST_PORT + i for i in range(n)]


@contextmanager
def private_network(kinds: tuple[str, ...] = KINDS) -> Iterator[PrivateNetwork]:
    """A fresh network namespace with only ``lo``, up, made the first way of ``kinds``
    the system allows; PrivateNetworkUnavailable if it allows none. Closed (and gone,
    once its processes end) on exit."""
    if not sys.platform.startswith("linux"):
        raise PrivateNetworkUnavailable(f"network namespaces are Linux's ({sys.platform})")
    _libc()  # loaded here: a worker's child calls it between fork and exec, where
    # loading a library could wait forever on a lock another thread held at the fork
    holder = subprocess.Popen(
        [sys.executable, "-I", "-c", _HOLDER, *kinds],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    fds: list[int] = []
    try:
        kind = _await_ready(holder)
        fds.append(os.open(f"/proc/{holder.pid}/ns/net", os.O_RDONLY))
        if kind == "user":
            fds.append(os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY))
        network = PrivateNetwork(fds[0], fds[1] if kind == "user" else None)
        _release(holder)
        yield network
    finally:
        _release(holder)
        for fd in fds:
            os.close(fd)


def _await_ready(holder: subprocess.Popen) -> str:
    """``net`` or ``user``: how the holder made the namespace; else the holder's reason."""
    ready, _, _ = select.select([holder.stdout], [], [], _READY_TIMEOUT_S)
    line = holder.stdout.readline().decode(errors="replace").strip() if ready else ""
    kind, _, reason = line.partition(" ")
    if kind in ("net", "user"):
        return kind
    if kind == "error":
        raise PrivateNetworkUnavailable(reason)
    raise PrivateNetworkUnavailable("the namespace's holder process did not answer")


def _release(holder: subprocess.Popen) -> None:
    """End the holder: it waits for its stdin to close."""
    holder.stdin.close()
    if holder.poll() is None:
        try:
            holder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    holder.stdout.close()


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _libc_call(name: str, *args: int) -> None:
    if getattr(_libc(), name)(*args) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")


def _setns(fd: int, kind: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12
        os.setns(fd, kind)
    else:
        _libc_call("setns", fd, kind)


def make_namespace(kinds: tuple[str, ...] = KINDS) -> str:
    """Move this (single-threaded) process into a new network namespace with ``lo`` up,
    the first way of ``kinds`` that the system allows: ``net`` (root's), ``user`` (with
    a user namespace that maps this user to root). The way taken; OSError says why not."""
    for kind in kinds:
        try:
            if kind == "net":
                _libc_call("unshare", CLONE_NEWNET)
            else:
                _enter_new_user_namespace()
            break
        except OSError as err:
            if kind == kinds[-1] or err.errno != errno.EPERM:
                raise
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(probe, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))
    return kind


def _enter_new_user_namespace() -> None:
    """A new user namespace where this user is root, with a new network namespace."""
    uid, gid = os.geteuid(), os.getegid()
    _libc_call("unshare", CLONE_NEWUSER | CLONE_NEWNET)
    maps = {"setgroups": "deny", "uid_map": f"0 {uid} 1", "gid_map": f"0 {gid} 1"}
    for name, text in maps.items():  # setgroups first: the kernel's order
        with open(f"/proc/self/{name}", "w") as stream:
            stream.write(text)


def _hold(kinds: tuple[str, ...]) -> None:
    """The holder: make the namespace, say how (or why not) on stdout, then wait for the
    launcher to close stdin."""
    try:
        print(make_namespace(kinds), flush=True)
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        print(f"error {err.strerror or err}{where}", flush=True)
        return
    sys.stdin.read()


# Run with ``python -I`` (no site, no current folder): this module's own file, read by
# path, so the holder imports the standard library only.
_HOLDER = (
    "import runpy, sys; "
    f"runpy.run_path({__file__!r}, run_name='holder')['_hold'](tuple(sys.argv[1:]))"
)
