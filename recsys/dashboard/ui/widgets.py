"""Widgets that several pages share: errors, movie tables, metrics, pickers, the URL.

Pickers and sliders keep their values in ``st.session_state`` under explicit keys, so
they survive page switches; ``clamp_state`` and ``keep_choice`` keep a stored value valid
when a retrained model moved the bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from recsys.columns import (
    ACTUAL,
    AVE_RATING,
    DISTANCE,
    ERROR,
    GENRES,
    MOVIE_ID,
    NUM_RATINGS,
    PREDICTED,
    TITLE,
    WHY,
    YEAR,
)
from recsys.dashboard.charts import MAX_STARS, for_projector
from recsys.dashboard.export import csv_bytes
from recsys.dashboard.model_words import DISTANCE_HELP
from recsys.dashboard.table_layout import laid_out, width_px, wrapped_lines
from recsys.dashboard.text import error_text, md_escape
from recsys.dashboard.urls import UrlReader, pick_params
from recsys.evaluation import metric_mean

PRESENT = "presenter_mode"  # the sidebar's presenter-mode toggle

# ---------------------------------------------------------------------------- messages


def show_error(err: BaseException | str, hint: str = "") -> None:
    """An st.error with the error's one line (escaped) and, optionally, what to do next."""
    message = md_escape(err if isinstance(err, str) else error_text(err), limit=600)
    st.error(message + (f"  \n{hint}" if hint else ""), icon=":material/error:")


def metric_value(metrics: Mapping[str, Any], name: str, spec: str) -> str:
    """A manifest metric formatted with ``spec``, or "–" when missing or not a number."""
    value = metric_mean(metrics.get(name))
    return format(value, spec) if math.isfinite(value) else "–"


def metric_row(cells: Iterable[tuple[str, str, str | None]]) -> None:
    """Metrics (label, value, help) side by side at their natural width; they wrap
    instead of cutting values short on narrow screens."""
    with st.container(horizontal=True, gap="medium"):
        for label, value, help_text in cells:
            st.metric(label, value, help=help_text, width="content")


def steady_box(height_px: int, slot: Any = st) -> Any:
    """A container in ``slot`` that is ``height_px`` tall from the first paint, for what
    is drawn late (a chart, a row of widgets), so what is below it does not jump. In
    presenter mode, whose larger text has no known height, a plain one."""
    if st.session_state.get(PRESENT):
        return slot.container()
    return slot.container(height=height_px, border=False)


def show_chart(slot: Any, chart: Any, **kwargs: Any) -> Any:
    """An Altair chart in ``slot`` (``st`` or a column), with larger, darker labels in
    presenter mode."""
    if st.session_state.get(PRESENT):
        chart = for_projector(chart)
    return slot.altair_chart(chart, **kwargs)


# ---------------------------------------------------------------------------- tables

# The reason beside a 200 px title, both whole on the page's width at 1280 px (about
# 820 px): three wrapped lines hold the longest reasons at 14 px, and at presenter
# mode's 18 px in the wider column.
WHY_PX = 440
WHY_PRESENTER_PX = 530


def why_px(present: bool) -> int:
    return WHY_PRESENTER_PX if present else WHY_PX


# Rows three lines tall, so a long title or reason wraps instead of being cut. The grid
# wraps text only in rows taller than 4rem: 64 px at the normal 16 px root, 84 px under
# presenter mode's 21 px one (``presenter.css``), whose 18 px lines need 88. A table
# whose longest title or reason needs more lines has rows of that many (each line 1.4 ×
# the font: 14 px, or presenter mode's 18 px); at most MOST_LINES.
WRAPPED_ROW_PX = 66
WRAPPED_ROW_PRESENTER_PX = 88
WRAPPED_LINES = 3
MOST_LINES = 6
LINE_HEIGHT = 1.4
TABLE_FONT_PX = 14
TABLE_FONT_PRESENTER_PX = 18


def _table_font_px() -> int:
    """The tables' text size in this mode."""
    return TABLE_FONT_PRESENTER_PX if st.session_state.get(PRESENT) else TABLE_FONT_PX


def wrapped_row_px(lines: int = WRAPPED_LINES) -> int:
    """The row height at which a table's cells wrap to ``lines`` lines (three at least),
    in this mode."""
    three = WRAPPED_ROW_PRESENTER_PX if st.session_state.get(PRESENT) else WRAPPED_ROW_PX
    extra = min(max(lines, WRAPPED_LINES), MOST_LINES) - WRAPPED_LINES
    return int(math.ceil(three + extra * LINE_HEIGHT * _table_font_px()))


def lines_needed(table: pd.DataFrame, widths: Mapping[str, Any]) -> int:
    """The most lines any cell of the ``widths`` columns (name → a column width) of
    ``table`` takes wrapped in this mode (``table_layout.wrapped_lines``)."""
    font = _table_font_px()
    most = 1
    for column, width in widths.items():
        pixels = width_px(width)
        if column in table.columns and pixels and len(table):
            cells = table[column].astype(str)
            most = max(most, max(wrapped_lines(text, pixels, font) for text in cells))
    return most


def _stars(label: str, help: str) -> Any:
    return st.column_config.ProgressColumn(
        label, help=help, format="%.2f ★", min_value=0.0, max_value=MAX_STARS
    )


def movie_columns() -> dict[str, Any]:
    """column_config shared by every movie table (movieId hidden; stars as bars)."""
    return {
        MOVIE_ID: None,
        TITLE: st.column_config.TextColumn("title", width="large"),
        YEAR: st.column_config.NumberColumn("year", format="%d", width="small"),
        GENRES: st.column_config.TextColumn("genres", width="medium"),
        PREDICTED: _stars("predicted stars", "The model's predicted rating, 0.5 to 5 stars"),
        ACTUAL: _stars("actual stars", "The rating the user gave"),
        ERROR: st.column_config.NumberColumn(
            "error", format="%+.2f", help="predicted − actual, in stars"
        ),
        AVE_RATING: st.column_config.NumberColumn(
            "ave rating", format="%.2f", width="small", help="The movie's mean rating in the data"
        ),
        NUM_RATINGS: st.column_config.NumberColumn("num ratings", format="%d", width="small"),
        WHY: st.column_config.TextColumn(
            "why",
            width=why_px(bool(st.session_state.get(PRESENT))),
            help="The movies you liked (4★ or more) whose neighbours raised it most (what "
            "their fans also liked; for a model without that term, the ones closest to it "
            "in the model's movie space), and the genre ratings that raise its score most "
            "(the score lost when that rating is removed, beyond what every movie loses)",
        ),
        DISTANCE: st.column_config.NumberColumn("distance", format="%.4f", help=DISTANCE_HELP),
    }


def show_movies(
    table: pd.DataFrame,
    *,
    order: Iterable[str] | None = None,
    show_id: bool = False,
    height: int | str = "auto",
    title_width: str = "large",
    wrap: bool = False,
    **selection: Any,
) -> Any:
    """A movie table: stars as bars, movieId hidden unless ``show_id``; ``order`` picks
    and orders the columns (default: the table's own). ``selection``: st.dataframe's
    key and selection arguments; their selection state is returned
    (``recsys.dashboard.ui.explore.movie_table``). ``wrap``: rows three lines tall, or
    as many as the longest title or reason needs, so that they wrap within their
    columns instead of being cut."""
    config = movie_columns()
    config[TITLE] = st.column_config.TextColumn("title", width=title_width)
    row_px = None
    if wrap:
        widths = {TITLE: title_width, WHY: config[WHY]["width"]}
        row_px = wrapped_row_px(lines_needed(table, widths))
    if show_id:
        config[MOVIE_ID] = st.column_config.NumberColumn("movie id", format="%d", width="small")
    columns = [c for c in (order or table.columns) if c in table.columns]
    return show_table(
        st,
        table,
        hide_index=True,
        column_config=config,
        column_order=columns,
        height=height,
        row_height=row_px,
        **selection,
    )


def show_table(
    slot: Any,
    table: pd.DataFrame,
    *,
    column_config: Mapping[str, Any] | None = None,
    column_order: Iterable[str] | None = None,
    **kwargs: Any,
) -> Any:
    """st.dataframe in ``slot`` (``st`` or a column) with its first shown column pinned,
    no header cut short (``recsys.dashboard.table_layout``) and its height known from
    the first paint."""
    order = list(column_order) if column_order is not None else None
    config = laid_out(column_config, order if order is not None else table.columns)
    if kwargs.get("height", "auto") == "auto" and not st.session_state.get(PRESENT):
        # The height "auto" would give, fixed from the first paint: the grid's code loads
        # after the page is drawn, and an "auto" box grows then, moving what is below it.
        # (Presenter mode's rows grow with its larger text; they keep "auto".)
        kwargs["height"] = auto_height(len(table), kwargs.get("row_height") or ROW_PX)
    return slot.dataframe(table, column_config=config, column_order=order, **kwargs)


def download_csv(
    table: pd.DataFrame,
    file_name: str,
    key: str,
    label: str = "Download CSV",
    *,
    settings: Iterable[tuple[str, str]] = (),
    rank: bool = False,
) -> None:
    """The app's own CSV download of ``table``, escaped against spreadsheet formulas:
    ``settings`` (name, value) first as ``#`` lines, a ``rank`` column when ``rank``,
    numbers rounded (``recsys.dashboard.export.csv_bytes``).

    Streamlit's toolbar export is turned off (``client.disableDataExport``): it writes
    titles raw, so a title such as ``=HYPERLINK(…)`` would run in a spreadsheet.
    """
    settings = list(settings)
    st.download_button(
        label,
        data=lambda: csv_bytes(table, settings, rank=rank),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


ROW_PX = 35  # the grid's row and header height at the normal 16 px root
AUTO_MAX_PX = 400  # the most a grid of height "auto" takes; it scrolls beyond


def table_height(rows: int) -> int:
    """Pixels that show ``rows`` rows and the header without a scrollbar."""
    return ROW_PX * (rows + 1) + 3


def auto_height(rows: int, row_px: int = ROW_PX) -> int:
    """The height a grid of ``rows`` rows, ``row_px`` tall, takes at height "auto"."""
    return min(ROW_PX + rows * row_px + 3, AUTO_MAX_PX)


# ---------------------------------------------------------------------------- pickers and state


def picker(slot: Any, label: str, labels: Mapping[int, str], key: str) -> int:
    """A type-to-search selectbox in ``slot`` (a column) over ``labels`` (id → label),
    whose value, an id, survives page switches."""
    return slot.selectbox(
        label, list(labels), format_func=labels.get, key=key, persist_state="session"
    )


def clamp_state(key: str, low: float, high: float) -> None:
    """Keep a stored widget value inside bounds that a retrained model may have moved."""
    value = st.session_state.get(key)
    if isinstance(value, int | float) and not low <= value <= high:
        st.session_state[key] = type(value)(min(max(value, low), high))


def keep_choice(key: str, options: Mapping[int, str] | Iterable[int], fallback: int) -> None:
    """A stored picker value that the served model does not know becomes ``fallback``."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


# ---------------------------------------------------------------------------- URL state


def _url_slot(page: str) -> str:
    return f"_url_written_{page}"


def url_params(page: str, keys: Iterable[str]) -> dict[str, str] | None:
    """This page's query parameters, when the URL holds some that this session did not
    write itself (a shared link, a reload, back/forward); else None.

    Streamlit clears the query string on a page switch, so coming back to a page
    returns None and the session's own state wins.
    """
    query = {k: st.query_params[k] for k in st.query_params}
    present = pick_params(query, keys)
    if not present or present == st.session_state.get(_url_slot(page)):
        return None
    return present


FRAME_URL = "_frame_url"  # what every page's URL carries (the model, presenter mode)


def write_url(page: str, params: Mapping[str, Any]) -> None:
    """Mirror the page's state into the URL (only when it changed: no needless message),
    with the parameters the frame keeps on every page (``FRAME_URL``)."""
    params = {k: str(v) for k, v in params.items()}
    st.session_state[_url_slot(page)] = params
    params = {**params, **st.session_state.get(FRAME_URL, {})}
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def show_url_notes(reader: UrlReader) -> None:
    """An st.error per thing a shared link named that does not exist (an ambiguous or
    unknown movie, with its close matches), then one st.warning with what it had that
    was ignored or clamped."""
    for error in reader.errors:
        st.error(md_escape(error, limit=600), icon=":material/link_off:")
    message = reader.message()
    if message:
        st.warning(message, icon=":material/link:")
