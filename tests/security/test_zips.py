"""Findings 3 and 5: a zip bomb is refused before it costs memory (peak RSS measured in
a subprocess), and zip entries that unpack to the same file are refused."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from recsys.dataset.download import install_dataset
from recsys.dataset.movielens import load_movielens
from recsys.errors import DataError
from recsys.settings import PROJECT_ROOT
from tests.security.conftest import write_hostile_titles

GIB = 1 << 30
PEAK_LIMIT_BYTES = 1_000_000_000  # the bound for a 1 GiB bomb


def _bomb(path: Path, movies: bytes) -> Path:
    """A zip whose ratings.csv unpacks to 1 GiB of one repeated valid row."""
    row = b"1,1,4.0,964982703\n"
    block = row * ((1 << 20) // len(row))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("ml-bomb/movies.csv", movies)
        with archive.open("ml-bomb/ratings.csv", "w", force_zip64=True) as out:
            out.write(b"userId,movieId,rating,timestamp\n")
            written = 0
            while written < GIB:
                out.write(block)
                written += len(block)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    write_hostile_titles(folder / "data")
    return _bomb(folder / "bomb.zip", (folder / "data" / "movies.csv").read_bytes())


def _peak(code: str, *args: str) -> tuple[int, str, float]:
    """Run ``code`` in a fresh Python; (its peak RSS in bytes, stderr, seconds)."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, *(["-c", code] if code else []), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    return int(done.stdout.strip()), done.stderr, time.perf_counter() - started


def test_info_on_a_1_gib_bomb_is_refused_in_bounded_memory(bomb):
    assert bomb.stat().st_size < 20 << 20  # a few MB that unpack to 1 GiB
    peak, stderr, seconds = _peak("", "-m", "recsys", "info", "--data", str(bomb))
    print(f"info on the bomb: peak RSS {peak / 1e6:.0f} MB, {seconds:.1f} s")
    assert "zip bomb" in stderr and len(stderr.strip().splitlines()) == 1
    assert peak < PEAK_LIMIT_BYTES


def test_uploading_a_1_gib_bomb_is_refused_in_bounded_memory(bomb, tmp_path):
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from recsys.dataset.download import install_dataset\n"
        "from recsys.errors import DataError\n"
        "try:\n"
        "    install_dataset(Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]), 'bomb.zip')\n"
        "except DataError as err:\n"
        "    sys.stderr.write(str(err))\n"
    )
    target = tmp_path / "data" / "ml-latest-small"
    peak, stderr, seconds = _peak(code, str(bomb), str(target))
    print(f"upload of the bomb: peak RSS {peak / 1e6:.0f} MB, {seconds:.1f} s")
    assert stderr.startswith("bomb.zip: ") and "zip bomb" in stderr
    assert peak < PEAK_LIMIT_BYTES
    assert not target.exists()


def test_a_real_movielens_zip_is_not_taken_for_a_bomb(real_data, tmp_path):
    path = tmp_path / "ml-latest-small.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in ("ratings.csv", "movies.csv", "links.csv", "tags.csv", "README.txt"):
            archive.write(real_data / name, f"ml-latest-small/{name}")
    assert len(load_movielens(path).ratings) == 100_836


def _zip(path: Path, entries: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path.read_bytes()


@pytest.mark.parametrize(
    "twin", ["./ratings.csv", "ml/../ratings.csv", "RATINGS.CSV", "a\\ratings.csv"]
)
def test_entries_that_unpack_to_the_same_file_are_refused(tmp_path, twin):
    good = tmp_path / "good"
    write_hostile_titles(good)
    entries = {
        "ratings.csv": (good / "ratings.csv").read_bytes(),
        "movies.csv": (good / "movies.csv").read_bytes(),
        twin: b"userId,movieId,rating,timestamp\n1,1,99,0\n",
    }
    if twin == "a\\ratings.csv":
        entries = {f"a/{k}": v for k, v in entries.items() if k != twin} | {twin: entries[twin]}
    content = _zip(tmp_path / "twins.zip", entries)
    target = tmp_path / "data" / "ml-latest-small"
    with pytest.raises(DataError) as refused:
        install_dataset(content, target, "twins.zip")
    message = str(refused.value)
    assert ("name the same file" in message) or ("escapes" in message), message
    assert "\n" not in message
    assert not target.exists()


def test_the_installed_files_are_the_validated_files(tmp_path):
    good = tmp_path / "good"
    write_hostile_titles(good)
    content = _zip(
        tmp_path / "nested.zip",
        {
            "top/ratings.csv": (good / "ratings.csv").read_bytes(),
            "top/movies.csv": (good / "movies.csv").read_bytes(),
            "top/deeper/ratings.csv": b"userId,movieId,rating,timestamp\n1,1,99,0\n",
        },
    )
    target = tmp_path / "data" / "ml-latest-small"
    install_dataset(content, target, "nested.zip")
    assert (target / "ratings.csv").read_bytes() == (good / "ratings.csv").read_bytes()
    assert (target / "movies.csv").read_bytes() == (good / "movies.csv").read_bytes()


# ---------------------------------------------------------------- overlapping entries
# CVE-2024-0450: entries whose bytes overlap let one packed stream unpack once per entry.
# The zipfile of Python 3.11.7 reads them all; each entry's own ratio is about 1, so the
# ratio cap saw nothing wrong.


def _local_header(name: bytes, crc: int, packed: int, size: int) -> bytes:
    return (
        struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, packed, size, len(name), 0)
        + name
    )


def _central_header(name: bytes, crc: int, packed: int, size: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            packed,
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )


def _quoted(raw: bytes) -> bytes:
    """``raw`` as a deflate block stored verbatim (not final), to prefix another stream."""
    return struct.pack("<BHH", 0, len(raw), len(raw) ^ 0xFFFF) + raw


def _overlapping_zip(files: dict[str, bytes], chain: list[str], kernel: bytes) -> bytes:
    """A zip of ``files`` (ordinary entries), then the entries ``chain``, all of which
    unpack ``kernel`` through one shared deflate stream: each entry's packed data quotes
    the next entry's local header and then runs on into that entry's data (Fifield's
    "quoted overlap")."""
    out = bytearray()
    directory = bytearray()

    def add(name: bytes, crc: int, packed: bytes, size: int) -> None:
        directory.extend(_central_header(name, crc, len(packed), size, len(out)))
        out.extend(_local_header(name, crc, len(packed), size) + packed)

    for name, content in files.items():
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        add(
            name.encode(),
            zlib.crc32(content),
            packer.compress(content) + packer.flush(),
            len(content),
        )
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = packer.compress(kernel) + packer.flush()
    plain = kernel
    links = []  # from the last entry of the chain to the first: (name, crc, packed, size)
    for name in reversed(chain):
        encoded = name.encode()
        links.append((encoded, zlib.crc32(plain), stream, len(plain)))
        header = _local_header(encoded, zlib.crc32(plain), len(stream), len(plain))
        stream = _quoted(header) + stream
        plain = header + plain
    start = len(out)
    for encoded, crc, packed, size in reversed(links):
        directory.extend(_central_header(encoded, crc, len(packed), size, start))
        start += len(_local_header(encoded, crc, len(packed), size)) + 5  # 5: the quote's
    first = links[-1]
    out.extend(_local_header(first[0], first[1], len(first[2]), first[3]) + first[2])
    count = len(files) + len(chain)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
    return bytes(out + directory + end)


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory) -> tuple[bytes, dict[str, bytes], list[str]]:
    good = tmp_path_factory.mktemp("overlap")
    write_hostile_titles(good)
    files = {
        "ml/ratings.csv": (good / "ratings.csv").read_bytes(),
        "ml/movies.csv": (good / "movies.csv").read_bytes(),
    }
    chain = [f"ml/extra-{i:03d}.bin" for i in range(120)] + ["ml/links.csv"]
    kernel = random.Random(7).randbytes(200_000)  # does not compress: every ratio is ~1
    return _overlapping_zip(files, chain, kernel), files, chain


def test_the_crafted_zip_really_unpacks_one_stream_many_times(overlapping):
    # What Python 3.11.7's zipfile makes of it: every entry reads (this checks the
    # construction; a zipfile with the CVE fixed refuses it itself).
    content, _, chain = overlapping
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        try:
            sizes = [len(archive.read(name)) for name in chain]
        except zipfile.BadZipFile as err:
            pytest.skip(f"this Python's zipfile refuses overlapping entries itself ({err})")
    assert sum(sizes) > 50 * len(content)  # about 100 times


def test_overlapping_entries_are_refused_before_anything_is_unpacked(overlapping, tmp_path):
    content, _, _ = overlapping
    target = tmp_path / "data" / "ml-latest-small"
    with pytest.raises(DataError, match="overlap") as refused:
        install_dataset(content, target, "overlap.zip")
    assert str(refused.value).startswith("overlap.zip: ")
    assert "\n" not in str(refused.value)
    assert not target.exists()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []


def test_the_loader_refuses_overlapping_entries_too(overlapping, tmp_path):
    path = tmp_path / "overlap.zip"
    path.write_bytes(overlapping[0])
    with pytest.raises(DataError, match="overlap"):
        load_movielens(path)
