"""Parsing genre ratings from text such as ``"Adventure=5,Fantasy=5"``."""

from __future__ import annotations

from recsys.columns import GENRE_LIST
from recsys.errors import UsageError

_BY_LOWER = {g.lower(): g for g in GENRE_LIST}


def parse_genre_ratings(text: str) -> dict[str, float]:
    """``"Adventure=5,Fantasy=4.5"`` → ``{"Adventure": 5.0, "Fantasy": 4.5}``.

    Genre names are matched case-insensitively; stars must be 0 to 5.
    """
    ratings: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"expected GENRE=STARS, got {part!r} (e.g. Adventure=5)")
        genre = _BY_LOWER.get(name.strip().lower())
        if genre is None:
            raise UsageError(f"unknown genre {name.strip()!r}; choose from {', '.join(GENRE_LIST)}")
        try:
            stars = float(value)
        except ValueError:
            raise UsageError(f"stars for {genre} must be a number, got {value.strip()!r}") from None
        if not 0.0 <= stars <= 5.0:
            raise UsageError(f"stars for {genre} must be 0 to 5, got {stars:g}")
        ratings[genre] = stars
    if not ratings:
        raise UsageError('no genre ratings given (e.g. --genres "Adventure=5,Fantasy=5")')
    return ratings
