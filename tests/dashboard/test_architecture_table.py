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


def test_a_model_without_towers_has_no_tower_column():
    flat = {"tower": "", "layer": "dense", "kind": "Dense", "units": 64, "params": 4160}
    table = architecture_table({"architecture": [flat, {**flat, "layer": "out"}]})
    assert table.columns.tolist() == ["layer", "kind", "activation", "units", "params"]
    one_tower = architecture_table({"architecture": [flat, {**flat, "tower": "user"}]})
    assert one_tower["tower"].tolist() == ["", "user"]  # kept where any layer has one


def test_model_facts_describe_each_model_honestly():
    from recsys.dashboard.tables import model_facts

    lab = model_facts(
        {"config": {"preset": "lab", "recipe": "fast"}, "metrics": {"epochs_run": 12}}
    )
    assert lab.lab_split_metrics and "lab's network" in lab.name
    assert "from 2001 on" in lab.setup and "12 epochs" in lab.setup
    assert "preset (lab)" in lab.setup_help
    hybrid = model_facts({"model": "hybrid", "config": {"dim": 64, "epochs": 20}})
    assert not hybrid.lab_split_metrics and "hybrid" in hybrid.name
    assert dict((label, value) for label, value, _ in hybrid.inputs)["Embedding"] == "64"
    assert "20 epochs" in hybrid.setup
