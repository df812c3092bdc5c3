"""Fetch ml-latest-small from GroupLens, check it, and unpack it safely.

The zip is downloaded to a temporary file beside the target, its md5 is checked
against the one GroupLens publishes beside it (``<url>.md5``), and it is unpacked
into a temporary folder that is then renamed into place. A failed or interrupted
download therefore never leaves half a dataset, nor damages one that was there.
Only the files the project reads (ratings, movies, tags, links) and the zip's README.txt
(the licence) are unpacked; any other entry stays packed.

``install_dataset`` puts a zip that a user uploaded (bytes) where the app looks for
data, with the same checks and the same safe unpacking.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlparse

from recsys.dataset.fetch import (
    DEFAULT_RELEASE,
    RELEASES,
    DownloadError,  # noqa: F401 - re-exported: callers catch it from here
    check_url,
    fetch,
    published_md5,
    size_text,
)
from recsys.dataset.movielens import dataset_present, load_movielens
from recsys.dataset.sources import (
    MOVIES_FILE,
    RATINGS_FILE,
    Source,
    check_zip_members,
    entry_key,
    scan_sources,
)
from recsys.dataset.tags import TAGS_FILE
from recsys.errors import DataError, UsageError
from recsys.progress import Progress
from recsys.settings import DEFAULT_DATA_DIR, resolve_data_path
from recsys.settings import max_unpacked_bytes as max_unpacked_bytes_setting

GROUPLENS_URL = RELEASES[DEFAULT_RELEASE].url
_BLOCK_BYTES = 1 << 16
UPLOAD_CAP_MB = 200  # megabytes; the same cap as server.maxUploadSize (the zip is ~1 MB)
# The files unpacked from a zip (download or upload): the ones the project reads, and the
# licence. Any other entry stays packed, whatever it holds.
DATASET_FILES = (RATINGS_FILE, MOVIES_FILE, TAGS_FILE, "links.csv", "README.txt")


def download_dataset(
    target: str | os.PathLike | None = None,
    url: str | None = None,
    if_missing: bool = False,
    progress: Progress | None = None,
    *,
    max_unpacked_bytes: int | None = None,
    dataset: str = DEFAULT_RELEASE,
) -> dict:
    """Download, verify and unpack a MovieLens zip into ``<target>/<name>/``.

    target: the folder that receives the dataset folder (default: the project's data/).
    dataset: a GroupLens release (``RELEASES``: ml-latest-small, ml-25m, ml-32m).
    url: the zip's address (default: the release's on GroupLens); its checksum is the
        release's known md5, else read from ``<url>.md5``. Plain http is refused except
        on this machine (tests, mirrors), for the address given and for every redirect.
    if_missing: return without touching the network where a dataset is found already:
        in the target's folder, or where the loader looks (``RECSYS_DATA``, else
        data/ml-latest-small).
    progress: told ``(bytes done, bytes in all or 0 if unknown, "downloading 0.3 MB /
        1.0 MB")`` as the zip arrives; the CLI passes a ``TextBar``.
    max_unpacked_bytes: the most bytes the zip may unpack to.

    A download that breaks off keeps its ``.part`` file; the same call again resumes it
    (HTTP Range). A part left whole is used if its checksum matches; a resumed part that
    does not match is deleted and the download started over, once. The disk's free space
    is checked before the download and before the unpacking. Returns {"path": the
    dataset folder, "status": "downloaded" or "present"}.
    Raises DownloadError when the server cannot be reached, DataError when the zip is
    damaged, tampered with or unsafe, or the disk too full; the folder that was there is
    then left as it was.
    """
    if dataset not in RELEASES:
        raise UsageError(f"unknown dataset {dataset!r}; choose one of {', '.join(RELEASES)}")
    release = RELEASES[dataset]
    url = url or release.url
    max_unpacked_bytes = max_unpacked_bytes or max_unpacked_bytes_setting()
    target_dir = Path(target) if target else DEFAULT_DATA_DIR
    dest = target_dir / _dataset_name(url)
    if if_missing:
        for found in (dest, resolve_data_path()):
            if dataset_present(found):
                return {"path": str(found), "status": "present"}
    check_url(url)
    if dest.exists() and not dest.is_dir():
        raise DataError(dest, "exists and is not a folder; move it away or pass --dest")
    known = release.md5 if url == release.url else None
    expected_md5 = known or published_md5(url, dest)
    target_dir.mkdir(parents=True, exist_ok=True)
    part = _part_path(target_dir, dest, expected_md5)
    if url == release.url and not part.exists():
        _check_space(target_dir, (release.zip_mb + release.unpacked_mb) * 10**6, "download")
    resumed = part.is_file()
    got_md5 = fetch(url, part, dest, max_unpacked_bytes, progress)
    if resumed and got_md5 != expected_md5:
        # A part left by an earlier run that does not check out: start it over, once.
        part.unlink(missing_ok=True)
        got_md5 = fetch(url, part, dest, max_unpacked_bytes, progress)
    try:
        if got_md5 != expected_md5:
            raise DataError(
                url,
                f"md5 {got_md5} differs from the published {expected_md5}: the download is "
                f"damaged or was tampered with; {dest} was left as it was",
            )
        _install(part, url, dest, max_unpacked_bytes)
    finally:
        part.unlink(missing_ok=True)
    return {"path": str(dest), "status": "downloaded"}


def _dataset_name(url: str) -> str:
    """The folder a zip unpacks to: its file name without .zip (ml-latest-small)."""
    name = PurePosixPath(urlparse(url).path).name
    stem = name[:-4] if name.lower().endswith(".zip") else name
    return stem if re.fullmatch(r"[\w.-]+", stem) and stem not in (".", "..") else "movielens"


def _part_path(target_dir: Path, dest: Path, expected_md5: str) -> Path:
    """The partial zip of this release, named by its checksum: a resumed download
    continues only the same file."""
    return target_dir / f".{dest.name}.{expected_md5[:12]}.zip.part"


def _check_space(folder: Path, needed: int, what: str) -> None:
    """DataError unless ``folder``'s disk has ``needed`` bytes free (and a 5% margin)."""
    free = shutil.disk_usage(folder).free
    if free < needed * 1.05:
        raise DataError(
            folder,
            f"not enough disk space to {what}: needs {size_text(needed)}, "
            f"{size_text(free)} free; free some space or pass --dest elsewhere",
        )


# --------------------------------------------------------------------------- unpacking


def _install(zip_path: Path, label: str, dest: Path, max_bytes: int) -> None:
    """Unpack into a temporary folder beside ``dest``, then swap it into place."""
    unpacked = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".new", dir=dest.parent))
    try:
        _unpack(zip_path, label, unpacked, max_bytes)
        _check_has_data(unpacked, label)
        _swap_into_place(unpacked, dest)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def _unpack(zip_path: Path, label: str, folder: Path, max_bytes: int) -> None:
    """Extract the files the project reads (``DATASET_FILES``) into the top of ``folder``,
    counting the bytes really written against ``max_bytes``. Of each name the shallowest
    entry is taken, the one the loader reads; every other entry stays packed."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            check_zip_members(label, zf, max_bytes)
            wanted = _wanted_entries(zf)
            _check_space(folder, sum(info.file_size for info in wanted.values()), "unpack it")
            written = 0
            for name, info in wanted.items():
                with zf.open(info) as source, open(folder / name, "xb") as out:
                    written = _copy_capped(source, out, written, max_bytes, label)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as err:
        raise DataError(label, f"not a readable zip file ({err})") from None
    except OSError as err:  # a full disk
        raise DataError(label, f"could not unpack it ({err})") from None


def _wanted_entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """{file name: its shallowest entry} for each of DATASET_FILES the zip holds, chosen
    by the loader's order (``entry_key``), so the files unpacked are the files it reads."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.filename.endswith(("/", "\\")):
            continue  # a folder
        key = entry_key(info.filename)
        name = key.rsplit("/", 1)[-1]
        match = next((known for known in DATASET_FILES if known.casefold() == name), None)
        if match is None:
            continue
        if match not in found or _depth_order(key) < _depth_order(found[match].filename):
            found[match] = info
    return found


def _depth_order(name: str) -> tuple[int, str]:
    key = entry_key(name)
    return key.count("/"), key


def _copy_capped(source: BinaryIO, out: BinaryIO, written: int, max_bytes: int, label: str) -> int:
    # The declared sizes were checked already; counting what really comes out also
    # stops an entry whose header lies about its size.
    while block := source.read(_BLOCK_BYTES):
        written += len(block)
        if written > max_bytes:
            raise DataError(label, f"unpacks to more than {max_bytes:,} bytes (zip bomb?)")
        out.write(block)
    return written


def _check_has_data(unpacked: Path, label: str) -> None:
    if not all((unpacked / name).is_file() for name in (RATINGS_FILE, MOVIES_FILE)):
        raise DataError(label, f"holds no {RATINGS_FILE} and {MOVIES_FILE}; not a MovieLens zip")


def _swap_into_place(new: Path, dest: Path) -> None:
    """Rename ``new`` to ``dest``; an old ``dest`` is moved aside first and restored on error."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        old.rmdir()
        dest.rename(old)
    try:
        new.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- uploads


def install_dataset(
    content: bytes,
    target: Path,
    upload_name: str = "upload.zip",
    *,
    max_unpacked_bytes: int | None = None,
) -> Path:
    """Validate an uploaded MovieLens zip and put it at ``target``; return ``target``.

    content: the zip's bytes, at most ``UPLOAD_CAP_MB`` megabytes.
    target: where the app looks for data. A ``.zip`` target gets the zip itself; a folder
        gets the dataset's files (``DATASET_FILES``) from it, each by its base name.
    upload_name: the file's name as uploaded, used in messages instead of a temp path.

    The zip is checked first by ``load_movielens`` (entries, zip-bomb caps, every row,
    tags.csv too), so nothing at ``target`` changes unless all of the data loads; the
    old files stay in place until then. Raises DataError.
    """
    max_unpacked_bytes = max_unpacked_bytes or max_unpacked_bytes_setting()
    if len(content) > UPLOAD_CAP_MB * 1024 * 1024:
        raise DataError(upload_name, f"is over the {UPLOAD_CAP_MB} MB upload cap")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".upload-", suffix=".zip", dir=target.parent)
    zip_path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        try:
            checked = load_movielens(zip_path, max_unpacked_bytes=max_unpacked_bytes)
        except DataError as err:
            # The temporary file's path means nothing to the user: name the upload.
            where, why = (
                text.replace(str(zip_path), upload_name) for text in (err.path, err.reason)
            )
            raise DataError(where, why, err.line) from None
        if target.suffix.lower() == ".zip":
            os.replace(zip_path, target)
        else:
            _replace_dataset_files(
                zip_path, upload_name, target, max_unpacked_bytes, checked.fingerprint
            )
    finally:
        zip_path.unlink(missing_ok=True)
    return target


def _replace_dataset_files(
    zip_path: Path, label: str, target: Path, max_bytes: int, fingerprint: str
) -> None:
    """Unpack beside ``target``, check, then swap the dataset's files in, all or none.

    Unlike ``_install``, this keeps ``target`` itself: the folder is the one RECSYS_DATA
    names, and may hold the user's other files, which stay. The dataset's own files
    (``DATASET_FILES``) are one set: each is replaced by the upload's, and one the upload
    lacks is removed (an old tags.csv would describe other movies). ``fingerprint`` is
    the checked data's (``MovieLens.fingerprint``): the unpacked ratings.csv, movies.csv
    and tags.csv must hash to it, so the files installed are the files validated.
    """
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        _unpack(zip_path, label, staging, max_bytes)
        _check_same_bytes(staging, label, fingerprint)
        target.mkdir(parents=True, exist_ok=True)
        _swap_files(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_files(new: Path, target: Path) -> None:
    """Move the old dataset files of ``target`` aside, the new ones from ``new`` in; on
    any failure put every old file back, so ``target`` is never half replaced."""
    backup = Path(tempfile.mkdtemp(prefix=".previous-", dir=target.parent))
    moved_aside: list[str] = []
    moved_in: list[str] = []
    try:
        for name in DATASET_FILES:
            if (target / name).exists() or (target / name).is_symlink():
                os.replace(target / name, backup / name)
                moved_aside.append(name)
        for name in DATASET_FILES:
            if (new / name).is_file():
                os.replace(new / name, target / name)
                moved_in.append(name)
    except BaseException:
        for name in moved_in:
            (target / name).unlink(missing_ok=True)
        for name in moved_aside:
            os.replace(backup / name, target / name)
        backup.rmdir()  # empty again; were it not, the old files would still be in it
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _check_same_bytes(unpacked: Path, label: str, fingerprint: str) -> None:
    """Refuse unpacked CSVs whose bytes differ from the ones the loader checked."""
    sources = {}
    for name in (RATINGS_FILE, MOVIES_FILE, TAGS_FILE):
        path = unpacked / name
        if not path.is_file():
            if name == TAGS_FILE:  # the fingerprint has tags.csv only where there is one
                continue
            raise DataError(label, f"{name} did not unpack; refusing the zip")
        sources[name] = Source(str(path), lambda p=path: open(p, "rb"))
    if scan_sources(sources).fingerprint != fingerprint:
        raise DataError(label, "the unpacked files differ from the checked ones; refusing the zip")
