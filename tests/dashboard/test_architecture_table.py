"""The Model page's architecture table, from a manifest."""

from __future__ import annotations

from recsys.dashboard.tables import architecture_table


def test_architecture_table_counts_params_and_tolerates_gaps():
    manifest = {
        "architecture": [
            {"tower": "user", "layer": "dense", "kind": "Dense", "units": 256, "params": 3840},
            {"tower": "user", "layer": "l2", "kind": "Lambda", "units": None, "params": None},
        ]
    }
    table = architecture_table(manifest)
    assert table["params"].tolist() == [3840, 0]
    assert int(table["params"].sum()) == 3840
    assert table["units"].isna().tolist() == [False, True]
    assert architecture_table({}).columns.tolist() == [
        "tower",
        "layer",
        "kind",
        "activation",
        "units",
        "params",
    ]
