"""The large releases: --dataset, known checksums, resuming with HTTP Range, and the
disk-space check, against a local server that can break a download off halfway."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from recsys.dataset import download as download_module
from recsys.dataset.download import DownloadError, download_dataset
from recsys.dataset.fetch import RELEASES
from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError
from tests.dataset.test_download import _dataset_zip, _old_dataset
from tests.helpers import run_cli


@dataclass
class RangeServer:
    """Serves ``files`` by name; honours ``Range: bytes=N-`` unless ``ignore_range``;
    ``cut_after`` bytes into the next zip response, it closes the connection."""

    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut_after: int | None = None
    ignore_range: bool = False
    redirects: dict[str, str] = field(default_factory=dict)  # name: the Location sent

    def publish(self, name: str, zip_bytes: bytes) -> str:
        self.files[name] = zip_bytes
        self.files[f"{name}.md5"] = f"{hashlib.md5(zip_bytes).hexdigest()}  {name}\n".encode()
        return f"{self.base_url}/{name}"


@pytest.fixture
def server() -> Iterator[RangeServer]:
    state = RangeServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            name = self.path.lstrip("/")
            wanted = self.headers.get("Range")
            state.requests.append((self.path, wanted))
            if name in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[name])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(name)
            if body is None:
                self.send_error(404)
                return
            start = 0
            if wanted and not state.ignore_range:
                start = int(wanted.removeprefix("bytes=").rstrip("-"))
                if start >= len(body):  # as real servers answer a range past the end
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            cut = state.cut_after if name.endswith(".zip") else None
            if cut is not None:
                state.cut_after = None
                self.wfile.write(body[start : start + cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body[start:])

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _big_zip(make_dataset) -> bytes:
    """A valid zip of some 100 kB (random padding does not compress)."""
    pad = hashlib.sha256(b"x").hexdigest() * 3000  # ~190 kB of text, compresses a bit
    return _dataset_zip(make_dataset, extra={"ml-latest-small/pad.txt": pad})


def _parts(target: Path) -> list[str]:
    return sorted(p.name for p in target.iterdir() if p.name.endswith(".part"))


def test_a_broken_download_resumes_where_it_stopped(server, make_dataset, tmp_path):
    zip_bytes = _big_zip(make_dataset)
    url = server.publish("ml-latest-small.zip", zip_bytes)
    target = tmp_path / "data"
    dest = _old_dataset(target)
    half = len(zip_bytes) // 2
    server.cut_after = half
    with pytest.raises(DownloadError) as excinfo:
        download_dataset(target=target, url=url)
    assert "\n" not in str(excinfo.value)
    assert "run the same command again to resume" in str(excinfo.value)
    assert (dest / "marker.txt").exists()  # the old dataset is untouched
    assert len(_parts(target)) == 1
    result = download_dataset(target=target, url=url)
    assert result["status"] == "downloaded"
    assert server.requests[-1] == ("/ml-latest-small.zip", f"bytes={half}-")
    assert len(load_movielens(dest).ratings) == 3
    assert _parts(target) == []


def test_a_server_without_ranges_starts_the_part_over(server, make_dataset, tmp_path):
    zip_bytes = _big_zip(make_dataset)
    url = server.publish("ml-latest-small.zip", zip_bytes)
    target = tmp_path / "data"
    server.cut_after = 1000
    with pytest.raises(DownloadError):
        download_dataset(target=target, url=url)
    server.ignore_range = True
    download_dataset(target=target, url=url)
    assert len(load_movielens(target / "ml-latest-small").ratings) == 3
    assert _parts(target) == []


def test_too_little_disk_space_stops_before_unpacking(server, make_dataset, tmp_path, monkeypatch):
    url = server.publish("ml-latest-small.zip", _dataset_zip(make_dataset))
    target = tmp_path / "data"
    dest = _old_dataset(target)
    usage = download_module.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda _path: usage._replace(free=10))
    with pytest.raises(DataError, match="not enough disk space to unpack it: needs .*, 0 kB free"):
        download_dataset(target=target, url=url)
    assert (dest / "marker.txt").exists()
    assert sorted(p.name for p in target.iterdir()) == ["ml-latest-small"]


def test_ml_25m_is_checked_against_its_known_md5(server, make_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr("recsys.dataset.fetch.BASE_URL", server.base_url)
    server.publish("ml-25m.zip", _dataset_zip(make_dataset, top="ml-25m"))
    with pytest.raises(DataError, match=f"differs from the published {RELEASES['ml-25m'].md5}"):
        download_dataset(target=tmp_path / "data", dataset="ml-25m")
    assert [path for path, _ in server.requests] == ["/ml-25m.zip"]  # no .md5 asked for


def test_ml_32m_is_checked_against_its_published_md5(server, make_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr("recsys.dataset.fetch.BASE_URL", server.base_url)
    server.publish("ml-32m.zip", _dataset_zip(make_dataset, top="ml-32m"))
    result = download_dataset(target=tmp_path / "data", dataset="ml-32m")
    assert result == {"path": str(tmp_path / "data" / "ml-32m"), "status": "downloaded"}
    assert [path for path, _ in server.requests] == ["/ml-32m.zip.md5", "/ml-32m.zip"]


def test_cli_offers_the_releases_and_refuses_others(tmp_path):
    done = run_cli("download", "--dataset", "ml-1b", "--dest", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "ml-latest-small" in done.stderr and "ml-32m" in done.stderr


# ---------------------------------------------------------------------------- redirects


@pytest.fixture
def connections(monkeypatch) -> list[tuple]:
    """Every address a connection is opened to; one beyond this machine fails at once
    (and is recorded), so a test never reaches the network."""
    opened: list[tuple] = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            raise OSError(f"test: no connection to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def test_a_redirect_to_plain_http_elsewhere_is_refused_before_connecting(
    server, make_dataset, tmp_path, connections
):
    # Before: the rule was checked on the first address only, and a 302 was followed.
    url = server.publish("ml-latest-small.zip", _dataset_zip(make_dataset))
    elsewhere = "http://203.0.113.7/ml-latest-small.zip"
    server.redirects["ml-latest-small.zip"] = elsewhere
    target = tmp_path / "data"
    with pytest.raises(DownloadError) as refused:
        download_dataset(target=target, url=url)
    assert str(refused.value) == (
        f"refusing the redirect from {url} to {elsewhere}: "
        "only https (or http on this machine) is allowed"
    )
    assert all(address[0] == "127.0.0.1" for address in connections), connections
    assert not (target / "ml-latest-small").exists()


def test_a_redirect_of_the_checksum_is_checked_too(server, make_dataset, tmp_path, connections):
    url = server.publish("ml-latest-small.zip", _dataset_zip(make_dataset))
    server.redirects["ml-latest-small.zip.md5"] = "http://203.0.113.7/ml-latest-small.zip.md5"
    with pytest.raises(DownloadError, match="^refusing the redirect from "):
        download_dataset(target=tmp_path / "data", url=url)
    assert all(address[0] == "127.0.0.1" for address in connections), connections


def test_a_redirect_on_this_machine_is_still_followed(server, make_dataset, tmp_path):
    zip_bytes = _dataset_zip(make_dataset)
    server.publish("moved/ml-latest-small.zip", zip_bytes)
    url = server.publish("ml-latest-small.zip", zip_bytes)
    server.redirects["ml-latest-small.zip"] = f"{server.base_url}/moved/ml-latest-small.zip"
    result = download_dataset(target=tmp_path / "data", url=url)
    assert len(load_movielens(result["path"]).ratings) == 3
    assert ("/moved/ml-latest-small.zip", None) in server.requests


# ---------------------------------------------------------------------------- a whole part


def _part_of(target: Path, zip_bytes: bytes) -> Path:
    """Where a download of ml-latest-small keeps its part (named by the zip's md5)."""
    target.mkdir(parents=True, exist_ok=True)
    return target / f".ml-latest-small.{hashlib.md5(zip_bytes).hexdigest()[:12]}.zip.part"


def test_a_whole_part_left_behind_is_verified_and_used(server, make_dataset, tmp_path):
    # Before: the range past its end got HTTP 416, and every later download failed.
    zip_bytes = _big_zip(make_dataset)
    url = server.publish("ml-latest-small.zip", zip_bytes)
    target = tmp_path / "data"
    _part_of(target, zip_bytes).write_bytes(zip_bytes)
    result = download_dataset(target=target, url=url)
    assert len(load_movielens(result["path"]).ratings) == 3
    zip_requests = [r for r in server.requests if r[0] == "/ml-latest-small.zip"]
    assert zip_requests == [("/ml-latest-small.zip", f"bytes={len(zip_bytes)}-")]  # no refetch
    assert _parts(target) == []


@pytest.mark.parametrize("wrong", ["damaged", "too long"])
def test_a_part_that_fails_its_check_is_deleted_and_fetched_again(
    server, make_dataset, tmp_path, wrong
):
    zip_bytes = _big_zip(make_dataset)
    url = server.publish("ml-latest-small.zip", zip_bytes)
    target = tmp_path / "data"
    part = _part_of(target, zip_bytes)
    part.write_bytes(b"x" * len(zip_bytes) if wrong == "damaged" else zip_bytes + b"tail")
    result = download_dataset(target=target, url=url)
    assert len(load_movielens(result["path"]).ratings) == 3
    zip_requests = [r for r in server.requests if r[0] == "/ml-latest-small.zip"]
    assert zip_requests[-1] == ("/ml-latest-small.zip", None)  # the whole file, afresh
    assert _parts(target) == []
