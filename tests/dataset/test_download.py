"""download_dataset against a local HTTP server that serves a zip and its .md5."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from recsys.dataset.download import DownloadError, download_dataset
from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError
from recsys.progress import TextBar

ZIP_NAME = "ml-latest-small.zip"
README = "MovieLens licence: research use, with attribution.\n"


@dataclass
class Server:
    """A local server over ``folder``; ``requests`` lists the paths asked for."""

    folder: Path
    base_url: str
    requests: list[str] = field(default_factory=list)

    @property
    def zip_url(self) -> str:
        return f"{self.base_url}/{ZIP_NAME}"

    def publish(self, zip_bytes: bytes, md5: str | None = None, bsd_style: bool = False) -> None:
        """Serve ``zip_bytes`` and its md5 beside it, as md5sum writes it ("<hex>  <name>")
        or, with ``bsd_style``, as BSD's md5 does ("MD5 (<name>) = <hex>")."""
        (self.folder / ZIP_NAME).write_bytes(zip_bytes)
        md5 = md5 or hashlib.md5(zip_bytes).hexdigest()
        line = f"MD5 ({ZIP_NAME}) = {md5}" if bsd_style else f"{md5}  {ZIP_NAME}"
        (self.folder / f"{ZIP_NAME}.md5").write_text(line + "\n")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "www"
    folder.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
            requests.append(self.path)

    handler = functools.partial(Handler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval lets shutdown() return at once.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Server(folder, f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _dataset_zip(
    make_dataset, top: str | None = "ml-latest-small", extra: dict | None = None
) -> bytes:
    """A valid MovieLens zip (ratings, movies, README.txt) as bytes."""
    folder = make_dataset(name="src")
    (folder / "README.txt").write_text(README)
    zip_path = folder.parent / "built.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"{top}/{file.name}" if top else file.name)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return zip_path.read_bytes()


def _old_dataset(target: Path) -> Path:
    """A dataset already in place, with a marker file to show it was not touched."""
    dest = target / "ml-latest-small"
    dest.mkdir(parents=True)
    (dest / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,5\n")
    (dest / "movies.csv").write_text("movieId,title,genres\n1,Old (1990),Drama\n")
    (dest / "marker.txt").write_text("the earlier dataset")
    return dest


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{ZIP_NAME}"


def _leftovers(target: Path) -> list[str]:
    """Anything in ``target`` besides the dataset folder (temp files, half unpacks)."""
    return sorted(p.name for p in target.iterdir() if p.name != "ml-latest-small")


@pytest.mark.parametrize("bsd_style", [False, True], ids=["md5sum", "bsd-md5"])
def test_download_unpacks_the_zip_with_its_readme(server, make_dataset, tmp_path, bsd_style):
    server.publish(_dataset_zip(make_dataset), bsd_style=bsd_style)
    target = tmp_path / "data"
    result = download_dataset(target=target, url=server.zip_url)
    dest = target / "ml-latest-small"
    assert result == {"path": str(dest), "status": "downloaded"}
    assert (dest / "README.txt").read_text() == README
    assert len(load_movielens(dest).ratings) == 3
    assert _leftovers(target) == []
    assert server.requests == [f"/{ZIP_NAME}.md5", f"/{ZIP_NAME}"]


def test_download_of_a_flat_zip_replaces_the_earlier_dataset(server, make_dataset, tmp_path):
    server.publish(_dataset_zip(make_dataset, top=None))
    target = tmp_path / "data"
    dest = _old_dataset(target)
    download_dataset(target=target, url=server.zip_url)
    assert not (dest / "marker.txt").exists()
    assert (dest / "README.txt").read_text() == README
    assert len(load_movielens(dest).ratings) == 3
    assert _leftovers(target) == []


def test_progress_bar_shows_bytes_done_of_total(server, make_dataset, tmp_path, capsys):
    zip_bytes = _dataset_zip(make_dataset)
    server.publish(zip_bytes)
    download_dataset(target=tmp_path / "data", url=server.zip_url, progress=TextBar())
    err = capsys.readouterr().err
    total_kb = f"{len(zip_bytes) / 1000:.0f} kB"
    assert err.endswith(f"] 100% downloading {total_kb} / {total_kb}\n")


def test_checksum_mismatch_is_refused_and_the_old_dataset_kept(server, make_dataset, tmp_path):
    zip_bytes = _dataset_zip(make_dataset)
    server.publish(zip_bytes, md5="0" * 32)
    target = tmp_path / "data"
    dest = _old_dataset(target)
    with pytest.raises(DataError) as excinfo:
        download_dataset(target=target, url=server.zip_url)
    assert excinfo.value.path == server.zip_url
    assert excinfo.value.reason == (
        f"md5 {hashlib.md5(zip_bytes).hexdigest()} differs from the published {'0' * 32}: "
        f"the download is damaged or was tampered with; {dest} was left as it was"
    )
    assert (dest / "marker.txt").read_text() == "the earlier dataset"
    assert _leftovers(target) == []


def test_zip_with_an_escaping_entry_is_refused(server, make_dataset, tmp_path):
    server.publish(_dataset_zip(make_dataset, extra={"../evil.txt": "gotcha"}))
    target = tmp_path / "data"
    dest = _old_dataset(target)
    with pytest.raises(DataError) as excinfo:
        download_dataset(target=target, url=server.zip_url)
    assert str(excinfo.value) == (
        f"{server.zip_url}: entry '../evil.txt' escapes the target folder; refusing the zip"
    )
    assert not (tmp_path / "evil.txt").exists()
    assert (dest / "marker.txt").exists()
    assert _leftovers(target) == []


def test_unpacking_stops_past_the_cap_even_if_the_sizes_lie(
    server, make_dataset, tmp_path, monkeypatch
):
    # Skip the check of declared sizes, so only the count of written bytes can stop it.
    monkeypatch.setattr("recsys.dataset.download.check_zip_members", lambda *args: None)
    # Spaces compress well: the zip passes the cap, what it unpacks to does not.
    zip_bytes = _dataset_zip(make_dataset, extra={"ml-latest-small/links.csv": " " * 100_000})
    server.publish(zip_bytes)
    target = tmp_path / "data"
    cap = len(zip_bytes)
    with pytest.raises(DataError, match=f"unpacks to more than {cap:,} bytes"):
        download_dataset(target=target, url=server.zip_url, max_unpacked_bytes=cap)
    assert _leftovers(target) == []
    assert not (target / "ml-latest-small").exists()


def test_zip_without_movielens_files_is_refused(server, tmp_path):
    zip_path = tmp_path / "other.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("other/README.txt", README)
    server.publish(zip_path.read_bytes())
    target = tmp_path / "data"
    with pytest.raises(DataError, match="holds no ratings.csv and movies.csv"):
        download_dataset(target=target, url=server.zip_url)
    assert list(target.iterdir()) == []


def test_only_the_files_the_project_reads_are_unpacked(server, make_dataset, tmp_path):
    # Before: every entry was unpacked, so a zip could write anything it liked (and
    # "ratings.csv/inner.txt" clashed with the file ratings.csv).
    extra = {
        "ml-latest-small/ratings.csv/inner.txt": "x",
        "ml-latest-small/run.sh": "echo not a dataset file",
        "ml-latest-small/deeper/tags.csv": "userId,movieId,tag,timestamp\n1,1,fun,5\n",
    }
    server.publish(_dataset_zip(make_dataset, extra=extra))
    target = tmp_path / "data"
    download_dataset(target=target, url=server.zip_url)
    dest = target / "ml-latest-small"
    assert sorted(p.name for p in dest.iterdir()) == [
        "README.txt",
        "movies.csv",
        "ratings.csv",
        "tags.csv",
    ]
    assert len(load_movielens(dest).ratings) == 3
    assert _leftovers(target) == []


def test_no_network_says_where_to_put_the_files(tmp_path):
    target = tmp_path / "data"
    url = _closed_port_url()
    with pytest.raises(DownloadError) as excinfo:
        download_dataset(target=target, url=url)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("could not reach 127.0.0.1 (")
    assert f"download {ZIP_NAME} yourself from {url}" in message
    assert f"unpack it into {target} " in message
    assert "RECSYS_DATA" in message


def test_missing_checksum_file_is_a_download_error(server, make_dataset, tmp_path):
    (server.folder / ZIP_NAME).write_bytes(_dataset_zip(make_dataset))
    with pytest.raises(DownloadError, match=r"HTTP 404"):
        download_dataset(target=tmp_path / "data", url=server.zip_url)


def test_plain_http_to_another_host_is_refused(tmp_path):
    with pytest.raises(DownloadError, match="only https"):
        download_dataset(target=tmp_path, url="http://example.org/ml-latest-small.zip")


def test_if_missing_with_a_dataset_present_makes_no_request(server, tmp_path, monkeypatch):
    monkeypatch.delenv("RECSYS_DATA", raising=False)
    target = tmp_path / "data"
    dest = _old_dataset(target)
    result = download_dataset(target=target, url=server.zip_url, if_missing=True)
    assert result == {"path": str(dest), "status": "present"}
    assert server.requests == []
    assert (dest / "marker.txt").exists()


def test_if_missing_finds_the_dataset_named_by_recsys_data(tmp_path, monkeypatch):
    elsewhere = _old_dataset(tmp_path / "elsewhere")
    monkeypatch.setenv("RECSYS_DATA", str(elsewhere))
    result = download_dataset(target=tmp_path / "data", url=_closed_port_url(), if_missing=True)
    assert result == {"path": str(elsewhere), "status": "present"}
