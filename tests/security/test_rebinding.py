"""Finding 2: DNS rebinding. A real server (the project's one harness) answers 403 on
its session (WebSocket) and upload endpoints to a request with a foreign Host header,
and serves the hosts it was configured for (localhost and 127.0.0.1)."""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Iterator

import pytest

from bench.server import HOST, Server, healthy_app
from recsys.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("rebinding")
    env = {"RECSYS_ARTIFACTS": str(folder / "artifacts"), "RECSYS_DATA": str(folder / "none")}
    with healthy_app(PROJECT_ROOT / "dashboard.py", folder, **env) as running:
        yield running


def _status(server: Server, request: str) -> int:
    """The status code of one raw HTTP/1.1 request."""
    with socket.create_connection((HOST, server.port), timeout=10) as conn:
        conn.sendall(request.encode("latin-1"))
        head = conn.recv(4096).decode("latin-1")
    return int(head.split(" ", 2)[1])


def _websocket(server: Server, host: str) -> int:
    key = base64.b64encode(os.urandom(16)).decode()
    return _status(
        server,
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}\r\n\r\n",
    )


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "localhost.evil"]
)
def test_a_foreign_host_gets_403_on_the_session(server, host):
    assert _websocket(server, host.format(port=server.port)) == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_the_configured_hosts_open_a_session(server, host):
    assert _websocket(server, host.format(port=server.port)) == 101


def test_a_foreign_host_gets_403_on_upload(server):
    body = "--b\r\nContent-Disposition: form-data; name=file; filename=x.zip\r\n\r\nx\r\n--b--\r\n"
    status = _status(
        server,
        f"PUT /_stcore/upload_file/session/file HTTP/1.1\r\nHost: evil.example\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(body)}\r\n"
        f"Origin: http://evil.example\r\n\r\n{body}",
    )
    assert status == 403
