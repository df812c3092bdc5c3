"""Findings 1, 4, 7: CSV formula injection, links and icons in shown text, terminal
escapes in the CLI's text output; and the server configuration that backs them."""

from __future__ import annotations

import csv
import io
import re
import tomllib

import pandas as pd
import pytest

from recsys.cli.report import frame_payload, frame_text
from recsys.dashboard.export import csv_bytes
from recsys.dashboard.text import md_escape
from recsys.errors import one_line, printable
from recsys.settings import PROJECT_ROOT
from tests.helpers import run_cli
from tests.security.conftest import CONTROL_TITLE, HOSTILE_TITLES, ICON_TITLE, LINK_TITLE

FORMULA = re.compile(r"^\s*[=+\-@\t\r]")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_exported_cell_reads_as_a_formula_with_any_separator(delimiter):
    table = pd.DataFrame(
        {
            "movieId": range(len(HOSTILE_TITLES)),
            "title": list(HOSTILE_TITLES),
            "genres": ["Drama;=1+1", '";=2+2', "Comedy", "-x", "@y", ",+z", "a", "b", "c", "d"],
            "error": [-0.5, 0.25, -1.0, 1.0, 0.0, -2.0, 1.5, -0.1, 0.2, 0.3],
        }
    )
    text = csv_bytes(table).decode("utf-8")
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        for cell in row:
            assert not (FORMULA.match(cell) and not _is_number(cell)), (delimiter, cell)
    # With the right separator every cell comes back, numbers as numbers.
    back = list(csv.reader(io.StringIO(text)))
    assert [len(r) for r in back] == [4] * (len(HOSTILE_TITLES) + 1)
    assert back[1][3] == "-0.5"
    assert back[6][1] == "Foo,'=2+3,bar (2006)"  # kept, defused


def test_streamlit_table_export_is_off_and_hosts_are_pinned():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
    assert config["server"]["allowedHosts"] == ["localhost", "127.0.0.1"]
    assert config["server"]["address"] == "127.0.0.1"
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "--server.allowedHosts $(host)" in makefile


@pytest.mark.parametrize(
    "text",
    [
        LINK_TITLE,
        ICON_TITLE,
        "https://evil.example/login",
        "HTTP://EVIL.EXAMPLE",
        "see www.evil.example now",
        "write to a@b.co",
        "mailto:a@b.co",
        ":material/lock: :smile: :+1:",
    ],
)
def test_md_escape_breaks_autolinks_and_icons(text):
    escaped = md_escape(text)
    visible = escaped.replace("\\", "")
    assert not re.search(r"https?://|www\.|@\w|:[\w/+-]+:", visible, re.IGNORECASE), visible
    assert visible.replace("\u200b", "") == " ".join(text.split())  # nothing else changes


def test_terminal_output_escapes_control_characters():
    table = pd.DataFrame({"movieId": [1], "title": [CONTROL_TITLE], "distance": [0.5]})
    text = frame_text(frame_payload("similar", table, movie="\x1b]0;x\x07"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[31mred" in text
    assert "\n" in text  # the table keeps its lines
    assert one_line(ValueError("a\x1b[2Jb\x9b\u202e")) == "a\\x1b[2Jb\\x9b\\u202e"
    assert printable("tab\there\nline", keep="\n") == "tab\\x09here\nline"


def test_an_error_exit_escapes_control_characters(tmp_path):
    result = run_cli("info", "--data", str(tmp_path / "no\x1b[2Jdata\x07"))
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "no\\x1b[2Jdata\\x07" in result.stderr


def test_favicon_is_not_fetched_from_an_outside_host():
    source = (PROJECT_ROOT / "recsys" / "dashboard" / "ui" / "frame.py").read_text()
    call = re.search(r"set_page_config\((.*?)\)", source, re.S).group(1)
    assert "page_icon=" in call and ":material" not in call
