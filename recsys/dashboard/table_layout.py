"""How a table's columns are laid out (no Streamlit): the first shown column pinned, so
a row stays named when the table scrolls sideways, and no header cut short.

A column config is the plain dict that ``st.column_config.*`` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Streamlit's named column widths, in pixels.
NAMED_WIDTH_PX = {"small": 75, "medium": 200, "large": 400}
# A header's text at the grid's 14 px: about 7.5 px a character (Source Sans, lower
# case), plus the cell's padding and the sort arrow.
HEADER_CHAR_PX = 7.5
HEADER_PAD_PX = 32


# A cell's text, at the grid's 14 px: about 6.6 px a character (Source Sans, titles'
# mixed case, digits and punctuation; a little wide, so that a row is never too short),
# inside 8 px of padding each side.
CELL_CHAR_PX = 6.6
CELL_PAD_PX = 8


def wrapped_lines(text: str, width: int, font_px: float = 14.0) -> int:
    """The lines ``text`` takes wrapped word by word in a cell ``width`` pixels wide, as
    the grid wraps it, with characters of ``CELL_CHAR_PX`` at 14 px (scaled to
    ``font_px``); a word longer than the line takes lines of its own."""
    char_px = CELL_CHAR_PX * font_px / 14.0
    room = max(width - 2 * CELL_PAD_PX, char_px)
    lines, used = 1, 0.0
    for word in str(text).split():
        need = len(word) * char_px
        if used and used + char_px + need > room:
            lines, used = lines + 1, 0.0
        used = need if not used else used + char_px + need
        while used > room:  # a word wider than the cell breaks across lines
            lines, used = lines + 1, used - room
    return lines


def header_px(label: str) -> int:
    """The pixels a column needs to show the header ``label`` whole."""
    return int(len(label) * HEADER_CHAR_PX + HEADER_PAD_PX + 0.5)


def width_px(width: Any) -> int | None:
    """A column config's width in pixels; None when the grid sizes it itself."""
    if isinstance(width, int) and not isinstance(width, bool):
        return width
    return NAMED_WIDTH_PX.get(width) if isinstance(width, str) else None


def laid_out(config: Mapping[str, Any] | None, columns: Iterable[str]) -> dict[str, Any]:
    """``config`` for a table whose shown columns are ``columns``, in order: the first
    one pinned; a column given a width too narrow for its header widened to fit it."""
    config = dict(config or {})
    shown = [str(c) for c in columns if config.get(c, "") is not None]  # None hides one
    for name in shown:
        entry = config.get(name)
        if isinstance(entry, Mapping):
            label = entry.get("label") or name
            needed = header_px(str(label))
            if (width_px(entry.get("width")) or needed) < needed:
                config[name] = {**entry, "width": needed}
    if shown:
        first = config.get(shown[0])
        entry = {"label": first} if isinstance(first, str) else dict(first or {})
        config[shown[0]] = {**entry, "pinned": True}
    return config
