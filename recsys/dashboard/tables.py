"""Plain tables the Model page shows, built from a bundle's manifest (no Streamlit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

ARCHITECTURE_COLUMNS = ["tower", "layer", "kind", "activation", "units", "params"]


def architecture_table(manifest: Mapping[str, Any]) -> pd.DataFrame:
    """The manifest's layers, one row each (tower, layer, kind, activation, units,
    params); empty when the manifest has none. Missing params count as 0."""
    rows = manifest.get("architecture") or []
    table = pd.DataFrame(rows, columns=ARCHITECTURE_COLUMNS)
    table["units"] = pd.to_numeric(table["units"], errors="coerce").astype("Int64")
    table["params"] = pd.to_numeric(table["params"], errors="coerce").fillna(0).astype("int64")
    return table
