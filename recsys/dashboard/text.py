"""Data text made safe to show: markdown escaping and short quotes of user input."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'^%@])")


def md_escape(text: object, limit: int = 300) -> str:
    """Data text made literal inside st.markdown / st.caption / st.error.

    Backslash-escapes every markdown and HTML character and Streamlit's ``:color[]`` /
    ``:material/…:`` directives, folds newlines, and cuts at ``limit`` characters, so a
    title such as ``<script>alert(1)</script>`` or ``[x](javascript:…)`` shows as text.
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", flat)


def shown(raw: str, limit: int = 40) -> str:
    """``raw`` (a value from a link) cut to ``limit`` characters for a message."""
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def error_text(err: BaseException) -> str:
    """One line for any error, as the CLI prints it."""
    return " ".join(str(err).split()) or type(err).__name__
