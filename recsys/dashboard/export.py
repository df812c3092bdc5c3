"""Tables offered for download, safe to open in a spreadsheet with either separator.

A download starts with ``#`` lines that record the view it came from (the model, the
genre ratings, picks and filters, or the user), then a ``rank`` column when the rows are
a ranking; numbers are rounded (stars to 2 decimals), and the file name names the view
(``new-user-adventure5-fantasy5-top10.csv``, ``user-2-top10.csv``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from recsys.columns import ACTUAL, AVE_RATING, ERROR, PREDICTED
from recsys.dashboard.tables import model_facts
from recsys.dashboard.urls import NewUserFilters

STAR_COLUMNS = frozenset({PREDICTED, ACTUAL, ERROR, AVE_RATING})  # 2 decimals
OTHER_DECIMALS = 4  # any other float column (a distance, a year read as a float)
RANK = "rank"

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


def _number(value: float, decimals: int) -> str:
    """A float rounded to ``decimals``, without float noise or a trailing ``.0``
    (3.5799999237060547 → ``3.58``, 2001.0 → ``2001``)."""
    text = repr(round(float(value), decimals))
    return text[:-2] if text.endswith(".0") else text


def _field(value: object, decimals: int = OTHER_DECIMALS) -> str:
    """One CSV field: empty for a missing value, numbers bare (floats rounded to
    ``decimals``), text escaped and quoted where a separator could split it."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return _number(float(value), decimals)
    if isinstance(value, np.integer):
        return str(int(value))
    text = str(safe_cell(value))
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _setting(name: str, value: str) -> str:
    """A ``# name: value`` line, unquoted so that it starts with ``#`` (a comment to
    most readers); a spreadsheet may split it at a separator, so each formula start
    after one gets its ``'``."""
    return str(safe_cell(" ".join(f"# {name}: {value}".split())))


def csv_bytes(
    table: pd.DataFrame,
    settings: Iterable[tuple[str, str]] = (),
    *,
    rank: bool = False,
) -> bytes:
    """CSV for download (UTF-8, no index, ``,`` separator, ``\\n`` line ends).

    ``settings`` (name, value) come first, one ``# name: value`` line each (read it back
    skipping the lines that start with ``#``);
    ``rank`` adds a first column numbering the rows from 1. Stars columns are rounded
    to 2 decimals, other floats to 4.

    Two defences, so that no cell is read as a formula whether the spreadsheet splits
    on ``,`` or on ``;``:

    - a text cell starting with ``= + - @``, tab or CR gets a leading ``'``;
    - inside a text cell, a formula start right after ``,``, ``;`` or tab gets a ``'``
      too (``Foo;'=2+3;bar``), and a cell holding a separator is quoted: a quote is
      honoured only at a field's start, so an importer that splits on ``;`` may still
      cut such a cell, but no piece starts with a formula.

    Numbers are written bare, so they stay numbers.
    """
    if rank:
        table = table.copy()
        table.insert(0, RANK, range(1, len(table) + 1))
    decimals = [2 if c in STAR_COLUMNS else OTHER_DECIMALS for c in table.columns]
    rows = [[_setting(name, value)] for name, value in settings]
    rows.append([_field(name) for name in table.columns])
    rows += [
        [_field(v, d) for v, d in zip(row, decimals, strict=True)]
        for row in table.itertuples(index=False, name=None)
    ]
    return "".join(",".join(row) + "\n" for row in rows).encode("utf-8")


# ---------------------------------------------------------------------------- views


def _slug(text: str) -> str:
    """Lower-case letters, digits and dots only (``Sci-Fi`` → ``scifi``)."""
    return re.sub(r"[^a-z0-9.]", "", text.lower())


def _stars(value: float) -> str:
    return f"{value:g}★"


def new_user_settings(
    model: str,
    genre_ratings: Mapping[str, float],
    filters: NewUserFilters,
    bounds: tuple[int, int],
    picks: Mapping[str, float] | None = None,
) -> list[tuple[str, str]]:
    """The New user view as (name, value) lines: the model, the rated genres, the
    picked movies (title → stars), top-N and every filter that is not the default."""
    rated = [f"{g} {_stars(v)}" for g, v in genre_ratings.items() if v > 0]
    lines = [
        ("view", "New user: recommendations"),
        ("model", model),
        ("genre ratings", ", ".join(rated) or "none rated"),
    ]
    if picks:
        lines.append(("movies you liked", "; ".join(f"{t} {_stars(s)}" for t, s in picks.items())))
    lines.append(("how many", str(filters.top)))
    if filters.include:
        lines.append(("only genres", ", ".join(filters.include)))
    if filters.exclude:
        lines.append(("leave out genres", ", ".join(filters.exclude)))
    if filters.years is not None and tuple(filters.years) != tuple(bounds):
        lines.append(("released", f"{filters.years[0]} to {filters.years[1]}"))
    if filters.min_ratings:
        lines.append(("at least this many ratings", str(filters.min_ratings)))
    return lines


MAX_NAMED_GENRES = 4  # a file name names at most this many genres


def new_user_file_name(
    genre_ratings: Mapping[str, float],
    filters: NewUserFilters,
    bounds: tuple[int, int],
    picks: Sequence[object] = (),
) -> str:
    """``new-user-adventure5-fantasy5-top10.csv``: the rated genres (highest first, at
    most four, then ``more``), ``N-movies`` for picks, ``filtered`` when a filter is
    set, and top-N."""
    rated = sorted(((-v, g) for g, v in genre_ratings.items() if v > 0))
    parts = [f"{_slug(g)}{-v:g}" for v, g in rated[:MAX_NAMED_GENRES]]
    if len(rated) > MAX_NAMED_GENRES:
        parts.append("more")
    if not rated:
        parts.append("unrated")
    if picks:
        parts.append(f"{len(picks)}-movies")
    years_set = filters.years is not None and tuple(filters.years) != tuple(bounds)
    if filters.include or filters.exclude or years_set or filters.min_ratings:
        parts.append("filtered")
    parts.append(f"top{filters.top}")
    return "-".join(["new-user", *parts]) + ".csv"


def model_setting(manifest: Mapping[str, object]) -> tuple[str, str]:
    """("model", "the hybrid two-tower model, trained 2026-11-30 10:00 UTC")."""
    created = str(manifest.get("created", "?")).replace("T", " ")[:16]
    return "model", f"{model_facts(manifest).name}, trained {created} UTC"


def user_file_name(user_id: int, what: str) -> str:
    """``user-2-top10.csv`` or ``user-2-rated.csv``."""
    return f"user-{int(user_id)}-{_slug(what)}.csv"
