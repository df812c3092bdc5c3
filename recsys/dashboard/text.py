"""Data text made safe to show: markdown escaping and short quotes of user input."""

from __future__ import annotations

import re
import unicodedata

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'^%@])")
# Streamlit's markdown turns text into links and icons *after* escapes are resolved
# (GFM autolink literals: http(s)://, www., a@b.c, mailto:; icons :material/x: and
# emoji shortcodes :smile:), so escaping cannot stop them. A zero-width space after
# every ':' and '@', and between "www" and '.', breaks each of those patterns and shows
# nothing. Each pattern needs a ':' or '@' or "www." that is contiguous with its tail.
_ZWSP = "\u200b"
_LINK_OR_ICON = re.compile(r"([:@])|(?<=www)(?=\.)", re.IGNORECASE)


def md_escape(text: object, limit: int = 300) -> str:
    """Data text made literal inside st.markdown / st.caption / st.error.

    Backslash-escapes every markdown and HTML character and Streamlit's ``:color[]``
    directives, breaks autolinks (``https://…``, ``www.…``, ``a@b.c``) and icons
    (``:material/…:``, ``:smile:``) with an invisible zero-width space, folds newlines,
    and cuts at ``limit`` characters, so a title such as ``<script>alert(1)</script>``,
    ``[x](javascript:…)`` or ``https://evil.example`` shows as plain text.
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    broken = _LINK_OR_ICON.sub(lambda m: (m.group(1) or "") + _ZWSP, flat)
    return _MD_SPECIAL.sub(r"\\\1", broken)


def shown(raw: str, limit: int = 40) -> str:
    """``raw`` (a value from a link) cut to ``limit`` characters for a message."""
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


def error_text(err: BaseException) -> str:
    """One line for any error, as the CLI prints it."""
    return " ".join(str(err).split()) or type(err).__name__


def folded(text: str) -> str:
    """``text`` for matching: case folded and accents dropped ("Léon" → "leon")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
