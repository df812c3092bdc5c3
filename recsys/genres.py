"""Genre ratings: checking them, and parsing them from text such as ``"Adventure=5"``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recsys.columns import GENRE_LIST
from recsys.errors import UsageError

_BY_LOWER = {g.lower(): g for g in GENRE_LIST}

CLEAR_PRESET = "Clear"
# The New user page's one-click genre ratings: stars per genre, a genre left out is 0.
# The genres a preset rates 5 stars are those its label names (``preset_genres``).
GENRE_PRESETS: dict[str, dict[str, float]] = {
    "The lab's fan: adventure + fantasy": {"Adventure": 5.0, "Fantasy": 5.0},
    "Action + sci-fi": {"Action": 5.0, "Sci-Fi": 5.0, "Thriller": 4.0, "Romance": 1.0},
    "Family": {"Animation": 5.0, "Children": 5.0, "Comedy": 4.0, "Horror": 0.5},
    "Comedy + romance": {"Comedy": 5.0, "Romance": 5.0, "Drama": 3.5, "Horror": 0.5},
    "Horror + thriller": {"Horror": 5.0, "Thriller": 5.0, "Mystery": 4.0, "Children": 0.5},
    # Drama at 3.5 (neutral), not 4.5: a near-love of drama fills the list with dramas.
    "Documentary": {"Documentary": 5.0, "Drama": 3.5, "Action": 1.0},
    CLEAR_PRESET: {},
}
DEFAULT_PRESET = "The lab's fan: adventure + fantasy"


def preset_genres(name: str) -> tuple[str, ...]:
    """The genres a preset's label names: those it rates 5 stars."""
    return tuple(g for g, stars in GENRE_PRESETS[name].items() if stars == 5.0)


def known_genres(genres: Iterable[str]) -> list[str]:
    """The given genre names, after checking each is one of the 14."""
    genres = list(genres)
    unknown = [g for g in genres if g not in GENRE_LIST]
    if unknown:
        raise UsageError(
            f"unknown genre(s) {', '.join(map(str, unknown))}; choose from {', '.join(GENRE_LIST)}"
        )
    return genres


def validate_genre_ratings(genre_ratings: Mapping[str, object]) -> dict[str, float]:
    """Check names (the 14 genres) and values (0 to 5 stars); return stars as floats."""
    checked = {}
    for genre, stars in genre_ratings.items():
        known_genres([genre])
        try:
            value = float(stars)
        except (TypeError, ValueError):
            raise UsageError(f"stars for {genre} must be a number, got {stars!r}") from None
        if not 0.0 <= value <= 5.0:
            raise UsageError(f"stars for {genre} must be 0 to 5, got {value:g}")
        checked[genre] = value
    return checked


def parse_genre_ratings(text: str) -> dict[str, float]:
    """``"Adventure=5,Fantasy=4.5"`` → ``{"Adventure": 5.0, "Fantasy": 4.5}``.

    Genre names are matched case-insensitively; stars must be 0 to 5.
    """
    raw: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"expected GENRE=STARS, got {part!r} (e.g. Adventure=5)")
        genre = _BY_LOWER.get(name.strip().lower())
        if genre is None:
            raise UsageError(f"unknown genre {name.strip()!r}; choose from {', '.join(GENRE_LIST)}")
        raw[genre] = value.strip()
    if not raw:
        raise UsageError('no genre ratings given (e.g. --genres "Adventure=5,Fantasy=5")')
    return validate_genre_ratings(raw)
