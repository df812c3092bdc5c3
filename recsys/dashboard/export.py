"""Tables offered for download."""

from __future__ import annotations

import pandas as pd


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV for download (UTF-8, no index). Text cells that a spreadsheet would run as a
    formula (starting with = + - @ tab or CR) get a leading quote; numbers are kept."""
    safe = table.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object:
            text = safe[column].astype(str)
            safe[column] = text.mask(text.str.match(r"^[=+\-@\t\r]"), "'" + text)
    return safe.to_csv(index=False).encode("utf-8")
