"""Presenter mode and readable tables (AppTest, no browser): the mode is on from the
sidebar or the link and kept across pages; charts then carry projector-sized labels;
every table on every page pins its first column and cuts no header short."""

from __future__ import annotations

import ast
import json

import pytest

from recsys.dashboard.charts import PRESENTER_LABEL_PX
from recsys.dashboard.table_layout import header_px, laid_out, width_px, wrapped_lines
from recsys.dashboard.ui.overview_page import TABS
from recsys.settings import PROJECT_ROOT
from tests.dashboard.apptest import PAGES, go, ok


def _chart_configs(at) -> list[dict]:
    return [json.loads(chart.proto.spec).get("config", {}) for chart in at.get("vega_lite_chart")]


def _projector_sized(config: dict) -> bool:
    axis = config.get("axis", {})
    return axis.get("labelFontSize", 0) >= PRESENTER_LABEL_PX <= axis.get("titleFontSize", 0)


def test_presenter_mode_from_the_link_is_kept_across_pages_and_sizes_the_charts(hostile_app):
    at = hostile_app("existing_user", {"present": "1"})
    assert at.toggle(key="presenter_mode").value is True
    assert at.query_params["present"] == "1"
    configs = _chart_configs(at)
    assert configs and all(_projector_sized(c) for c in configs)
    for page in ("new_user", "explore", "overview"):
        at = go(at, page)
        assert at.toggle(key="presenter_mode").value is True, page
        assert at.query_params["present"] == "1", page
    at = go(at, "explore")
    assert all(_projector_sized(c) for c in _chart_configs(at))

    at.toggle(key="presenter_mode").set_value(False)
    at = ok(at.run())
    assert "present" not in at.query_params
    assert not any(_projector_sized(c) for c in _chart_configs(at))


def test_presenter_mode_is_off_by_default_and_on_from_the_sidebar(hostile_app):
    at = hostile_app("explore")
    assert at.toggle(key="presenter_mode").value is False
    assert not any(_projector_sized(c) for c in _chart_configs(at))
    at.toggle(key="presenter_mode").set_value(True)
    at = ok(at.run())
    assert at.query_params["present"] == "1"
    assert all(_projector_sized(c) for c in _chart_configs(at))


def _check_tables(at, where: str) -> int:
    """Every table of the run: its first shown column pinned, no header cut short."""
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        columns = list(frame.proto.column_order) or [str(c) for c in frame.value.columns]
        shown = [c for c in columns if not config.get(c, {}).get("hidden")]
        assert config.get(shown[0], {}).get("pinned") is True, (where, shown[0])
        for name in shown:
            entry = config.get(name, {})
            width = width_px(entry.get("width"))
            label = entry.get("label") or name
            assert width is None or width >= header_px(label), (where, label, width)
    return len(at.dataframe)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "overview"])
def test_every_table_pins_its_first_column_and_shows_its_headers_whole(hostile_app, page):
    at = hostile_app(page)
    _check_tables(at, page)


def test_every_overview_table_pins_its_first_column(hostile_app):
    tables = sum(_check_tables(hostile_app("overview", {"tab": tab}), tab) for tab in TABS)
    assert tables >= 4  # most rated, per genre, the two training tables


def test_a_narrow_column_is_widened_to_its_header_and_the_first_is_pinned():
    config = {
        "movieId": None,
        "num ratings": {"label": "num ratings", "width": "small"},
        "year": {"label": "year", "width": "small"},
    }
    out = laid_out(config, ["movieId", "title", "num ratings", "year"])
    assert out["title"] == {"pinned": True}  # movieId is hidden: title is the first shown
    assert out["num ratings"]["width"] >= header_px("num ratings") > 75
    assert out["year"]["width"] == "small"  # "year" fits in 75 px
    assert out["movieId"] is None
    assert laid_out({"model": "the model"}, ["model"])["model"] == {
        "label": "the model",
        "pinned": True,
    }


def _static_css_paths(tree: ast.Module) -> set[str]:
    """Module-level names bound to ``Path(__file__).with_name("<literal>.css")``."""
    names = set()
    for node in tree.body:
        value = getattr(node, "value", None)
        if (
            isinstance(node, ast.Assign)
            and isinstance(value, ast.Call)
            and getattr(value.func, "attr", None) == "with_name"
            and isinstance(value.args[0], ast.Constant)
            and str(value.args[0].value).endswith(".css")
        ):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_html_is_only_ever_a_static_css_file_of_the_project():
    """st.html renders HTML unescaped: the app gives it nothing but its own CSS files,
    named by a constant, so no data can reach it."""
    calls = 0
    for path in PROJECT_ROOT.rglob("*.py"):
        if {".venv", "tests"} & set(path.relative_to(PROJECT_ROOT).parts):
            continue
        tree = ast.parse(path.read_text())
        static = _static_css_paths(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "html":
                calls += 1
                (arg,) = node.args
                assert isinstance(arg, ast.Name) and arg.id in static, f"{path}:{node.lineno}"
                assert not node.keywords, f"{path}:{node.lineno}"
    assert calls >= 1  # presenter mode's


def test_new_users_reason_sits_beside_the_title_within_a_1280_px_results_column(hostile_app):
    at = hostile_app("new_user", {"Adventure": "5"})
    frame = at.dataframe[0]
    config = json.loads(frame.proto.columns)
    order = list(frame.proto.column_order)
    assert order[:2] == ["title", "why"]
    # At 1280 px the results take the main area's width, 820 px: the selection boxes,
    # the title and the reason fit in it, and rows taller than 64 px let both wrap
    # (tests/e2e/test_browser_tables.py measures the text itself).
    used = 32 + width_px(config["title"]["width"]) + width_px(config["why"]["width"])
    assert used <= 820, used
    assert frame.proto.row_height > 64, frame.proto.row_height


def test_a_title_that_needs_four_lines_gets_them_and_a_short_one_one():
    harry = (
        "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the "
        "Philosopher's Stone) (2001)"
    )
    medium = width_px("medium")
    assert wrapped_lines(harry, medium) == 4  # cut at its third line before
    assert wrapped_lines(harry, medium, font_px=18) > 4  # presenter mode's larger text
    assert wrapped_lines("Heat (1995)", medium) == 1
    assert wrapped_lines("a" * 60, medium) == 3  # one word wider than the cell breaks
    assert wrapped_lines("", medium) == 1
