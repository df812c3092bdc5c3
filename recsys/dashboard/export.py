"""Tables offered for download, safe to open in a spreadsheet with either separator."""

from __future__ import annotations

import math
import re

import pandas as pd

# A spreadsheet runs a cell as a formula when it starts with one of these (after any
# leading spaces). Tab and CR start a formula in some importers too.
_FORMULA_START = re.compile(r"^(?:[\t\r]|\s*[=+\-@])")
# Fields holding either separator (Excel's list separator is ';' in much of Europe), a
# quote, a line break or a tab are quoted, so no importer splits them into a new cell.
_NEEDS_QUOTES = re.compile(r"[,;\"\r\n\t]|^\s|\s$")
# A quote is only honoured at the start of a field: read with ';' as the separator, the
# line ``1,"Foo;=2+3"`` splits inside the quotes, and ``=2+3"`` starts a cell. So a
# formula start right after a separator inside a text cell gets its ``'`` too.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t][\s\"]*)(?=[=+\-@])")


def safe_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, whole or cut at a
    separator, gets a ``'`` before each formula start (shown as text, not run);
    everything else (numbers, NaN) is kept as it is."""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if _FORMULA_START.match(value) else value


def _field(value: object) -> str:
    """One CSV field: empty for a missing value, numbers bare, text escaped and quoted
    where a separator could split it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(safe_cell(value))
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV for download (UTF-8, no index, ``,`` separator, ``\\n`` line ends).

    Two defences, so that no cell is read as a formula whether the spreadsheet splits
    on ``,`` or on ``;``:

    - a text cell starting with ``= + - @``, tab or CR gets a leading ``'``;
    - inside a text cell, a formula start right after ``,``, ``;`` or tab gets a ``'``
      too (``Foo;'=2+3;bar``), and a cell holding a separator is quoted: a quote is
      honoured only at a field's start, so an importer that splits on ``;`` may still
      cut such a cell, but no piece starts with a formula.

    Numbers are written bare, so they stay numbers.
    """
    rows = [[_field(name) for name in table.columns]]
    rows += [[_field(v) for v in row] for row in table.itertuples(index=False, name=None)]
    return "".join(",".join(row) + "\n" for row in rows).encode("utf-8")
