"""Plain-text, JSON and table renderings of results, for the command line.

Text for the terminal shows control characters escaped (a title holding ESC or BEL
would otherwise drive the terminal): see ``recsys.errors.printable``. JSON keeps the
data as it is; ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import math

import pandas as pd

from recsys.columns import BECAUSE, GENRE_LIFT, WHY
from recsys.errors import printable


def info_text(info: dict) -> str:
    """The dataset summary of ``info``, one fact per line, escaped for a terminal."""
    lines = [
        f"source       {info['source']}",
        f"ratings      {info['ratings']:,}",
        f"users        {info['users']:,}",
        f"movies       {info['movies']:,} ({info['rated_movies']:,} rated)",
        f"rating range {info['rating_range'][0]:g} to {info['rating_range'][1]:g} stars",
    ]
    if info.get("year_range"):
        lines.append(f"year range   {info['year_range'][0]} to {info['year_range'][1]}")
    lines.append("ratings per genre")
    for genre, count in info["ratings_per_genre"].items():
        lines.append(f"  {genre:<12} {count:>10,}")
    return printable("\n".join(lines), keep="\n")


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def frame_records(table: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN becomes null)."""
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]


def frame_payload(name: str, table: pd.DataFrame, **extra) -> dict:
    payload = {k: _clean(v) for k, v in extra.items()}
    payload[name] = frame_records(table)
    payload["_table"] = name
    return payload


def _format_table(table: pd.DataFrame) -> str:
    shown = table.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        elif shown[column].dtype == object:
            # A newline inside a cell is escaped too: the table stays one row per line.
            shown[column] = shown[column].map(lambda v: printable(v) if isinstance(v, str) else v)
    shown.columns = [printable(c) for c in shown.columns]
    return shown.to_string(index=False, max_colwidth=50)


def _table_lines(records: list[dict]) -> list[str]:
    """A table, then its reasons one per numbered line (too long for a column)."""
    table = pd.DataFrame(records)
    lines = [_format_table(table.drop(columns=[WHY, BECAUSE, GENRE_LIFT], errors="ignore"))]
    if WHY in table:
        lines.append("why")
        lines += [f"{i:>3}. {printable(why)}" for i, why in enumerate(table[WHY], start=1)]
    return lines


def frame_text(payload: dict) -> str:
    name = payload["_table"]
    header = {k: v for k, v in payload.items() if k not in (name, "_table")}
    lines = [", ".join(f"{k}: {v}" for k, v in header.items())] if header else []
    lines += _table_lines(payload[name])
    return printable("\n".join(lines), keep="\n")


def user_text(payload: dict) -> str:
    lines = [
        f"user {payload['user_id']}: RMSE {payload['rmse']:.3f}, MAE {payload['mae']:.3f} stars",
        "rated movies, highest prediction first",
        _format_table(pd.DataFrame(payload["rated"])),
        "",
        "top unseen movies",
        *_table_lines(payload["recommendations"]),
    ]
    return printable("\n".join(lines), keep="\n")
