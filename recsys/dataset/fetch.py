"""The network half of the download: GroupLens' releases and their checksums, a
resumable fetch (HTTP Range) into a ``.part`` file, and the one-line errors.

A fetch that breaks off keeps its ``.part`` file, named by the checksum it must match;
the same command again asks the server for the rest (``Range: bytes=N-``) and hashes
what was there first, so a resumed zip is checked as a whole. A server that ignores the
range sends it all again, and the part is started over. A part that is already whole
(the server answers 416, Range Not Satisfiable) is hashed and used if it checks out.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from recsys.dataset.sources import RATINGS_FILE
from recsys.errors import DataError, RecsysError
from recsys.progress import Progress

BASE_URL = "https://files.grouplens.org/datasets/movielens"
TIMEOUT_S = 30.0
_BLOCK_BYTES = 1 << 16
_MD5_RE = re.compile(rb"\b[0-9a-fA-F]{32}\b")
# What a refused, dropped or timed-out connection raises (URLError is an OSError).
_NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Release:
    """A MovieLens release on files.grouplens.org.

    md5: the zip's checksum where it is known for certain (else the published
    ``<url>.md5`` is read); zip_mb and unpacked_mb: sizes for the messages, in MB.
    """

    name: str
    md5: str | None
    zip_mb: int
    unpacked_mb: int

    @property
    def url(self) -> str:
        return f"{BASE_URL}/{self.name}.zip"


# ml-25m's md5 is the one GroupLens publishes in ml-25m.zip.md5. ml-latest-small is
# "latest" (it may be refreshed) and ml-32m's is read from its .md5 file at each download.
RELEASES = {
    "ml-latest-small": Release("ml-latest-small", None, 1, 3),
    "ml-25m": Release("ml-25m", "6b51fb2759a8657d3bfcbfc42b592ada", 262, 1_150),
    "ml-32m": Release("ml-32m", None, 239, 880),
}
DEFAULT_RELEASE = "ml-latest-small"


class DownloadError(RecsysError):
    """The dataset could not be fetched; the message says how to get it by hand."""


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_url(url: str, redirected_from: str | None = None) -> None:
    """DownloadError unless ``url`` is https, or plain http to this machine (tests,
    mirrors). Checked on the first address and again on every redirect, so a server
    cannot send the download on to plain http elsewhere."""
    parts = urlparse(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        return
    what = f"the redirect from {redirected_from} to {url}" if redirected_from else url
    raise DownloadError(f"refusing {what}: only https (or http on this machine) is allowed")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an address ``check_url`` allows, before connecting."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, redirected_from=req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_CheckedRedirects)


def manual_steps(url: str, dest: Path, why: str, resumable: bool = False) -> DownloadError:
    """The one-line error that says where to put the files by hand."""
    host = urlparse(url).hostname or url
    zip_name = PurePosixPath(urlparse(url).path).name or "the zip"
    again = "run the same command again to resume, or " if resumable else ""
    return DownloadError(
        f"could not reach {host} ({why}); {again}download {zip_name} yourself from {url}, "
        f"unpack it into {dest.parent} (so that {dest / RATINGS_FILE} exists), "
        f"or set RECSYS_DATA to a MovieLens folder or .zip"
    )


def _why(err: BaseException) -> str:
    """A short, one-line reason for a network failure."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason} for {err.url}"
    reason = getattr(err, "reason", err)
    if isinstance(reason, TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    return " ".join(str(reason).split()) or type(reason).__name__


class _PartComplete(Exception):
    """HTTP 416 to a resumed fetch: the part already holds ``total`` bytes or more (the
    size the server gives, None where it gives none)."""

    def __init__(self, total: int | None):
        super().__init__(total)
        self.total = total


def _open(url: str, zip_url: str, dest: Path, start: int = 0) -> http.client.HTTPResponse:
    headers = {"User-Agent": "recsys-dashboard"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return _OPENER.open(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if start and err.code == 416:
            match = re.fullmatch(r"bytes \*/(\d+)", err.headers.get("Content-Range", "").strip())
            raise _PartComplete(int(match.group(1)) if match else None) from None
        raise manual_steps(zip_url, dest, _why(err), resumable=start > 0) from None
    except _NETWORK_ERRORS as err:
        raise manual_steps(zip_url, dest, _why(err), resumable=start > 0) from None


def _blocks(response, zip_url: str, dest: Path) -> Iterator[bytes]:
    """The response body in blocks; a dropped connection becomes a DownloadError."""
    while True:
        try:
            block = response.read(_BLOCK_BYTES)
        except _NETWORK_ERRORS as err:
            raise manual_steps(zip_url, dest, _why(err), resumable=True) from None
        if not block:
            return
        yield block


def published_md5(url: str, dest: Path) -> str:
    """The md5 (lower-case hex) that the server publishes at ``<url>.md5``."""
    md5_url = f"{url}.md5"
    text = b""
    with _open(md5_url, url, dest) as response:
        for block in _blocks(response, url, dest):
            text += block
            if len(text) > 4096:
                break
    match = _MD5_RE.search(text)
    if not match:
        raise DataError(md5_url, "holds no md5 checksum; refusing an unverified download")
    return match.group().decode().lower()


def _resume_from(response, start: int) -> int:
    """Where the body starts: ``start`` for a 206 that continues the part, else 0."""
    if start and response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        if content_range.startswith(f"bytes {start}-"):
            return start
    return 0


def fetch(
    url: str, part: Path, dest: Path, max_bytes: int, progress: Progress | None = None
) -> str:
    """Fetch ``url`` into ``part`` (resuming what is there); the md5 (hex) of all of it.

    ``dest``: the dataset folder, for the messages. The part file stays where the
    connection breaks, so that the next call resumes it. A part that is already whole
    (the server answers 416 to the range) is used as it is, and one longer than the file
    is started over; the caller's checksum then says whether it may be used.
    """
    start = part.stat().st_size if part.is_file() else 0
    digest = hashlib.md5()
    try:
        response = _open(url, url, dest, start)
    except _PartComplete as complete:
        if complete.total is not None and complete.total != start:
            part.unlink()  # longer than the file: not a part of it
            return fetch(url, part, dest, max_bytes, progress)
        with open(part, "rb") as whole:
            _hash_existing(whole, start, digest)
        if progress is not None:
            progress(start, start, progress_text(start, start))
        return digest.hexdigest()
    with response:
        start = _resume_from(response, start)
        length = int(response.headers.get("Content-Length") or 0) or None
        total = None if length is None else start + length
        if total is not None and total > max_bytes:
            raise DataError(url, f"is larger than {max_bytes:,} bytes; refusing it")
        with open(part, "r+b" if start else "wb") as out:
            if start:
                _hash_existing(out, start, digest)
            done = start
            for block in _blocks(response, url, dest):
                done += len(block)
                if done > max_bytes:
                    raise DataError(url, f"is larger than {max_bytes:,} bytes; refusing it")
                digest.update(block)
                out.write(block)
                if progress is not None:
                    progress(done, total or 0, progress_text(done, total))
    if total is not None and done != total:
        why = f"connection closed after {done:,} of {total:,} bytes"
        raise manual_steps(url, dest, why, resumable=True)
    return digest.hexdigest()


def _hash_existing(stream, size: int, digest) -> None:
    """Hash the first ``size`` bytes of ``stream`` and leave it positioned after them
    (a stream open for writing is cut there)."""
    stream.seek(0)
    left = size
    while left:
        block = stream.read(min(_BLOCK_BYTES * 16, left))
        if not block:
            break
        digest.update(block)
        left -= len(block)
    stream.seek(size)
    if stream.writable():
        stream.truncate()


def progress_text(done: int, total: int | None) -> str:
    """ "downloading 0.3 MB / 1.0 MB", or without the total where the server sends none."""
    if total is None:
        return f"downloading {size_text(done)}"
    return f"downloading {size_text(done)} / {size_text(total)}"


def size_text(n_bytes: int) -> str:
    """A byte count for people: "820 kB", "3.3 MB", "1.2 GB"."""
    if n_bytes < 1_000_000:
        return f"{n_bytes / 1000:.0f} kB"
    if n_bytes < 1_000_000_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e9:.2f} GB"
