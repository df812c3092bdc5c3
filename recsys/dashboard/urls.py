"""A page's state in its URL: read a shared link (junk ignored, values clamped, each with a
note), and write the state back as query parameters. Plain Python; ``recsys.dashboard.ui``
moves these values in and out of ``st.query_params`` and ``st.session_state``.

Ratings in a link are in stars (0 to 5 in half stars; 0 = not rated).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlparse

from recsys.columns import GENRE_LIST
from recsys.dashboard.charts import MAX_STARS
from recsys.dashboard.explore import MAX_SEARCH_CHARS
from recsys.dashboard.text import error_text, md_escape, shown
from recsys.errors import known_errors

STAR_STEP = 0.5  # a slider step, in stars
MAX_TOP = 100  # the most movies a page lists
MAX_NEIGHBOURS = 50  # the most neighbours the Similar movies page lists

NEW_USER_URL_KEYS = (*GENRE_LIST, "top", "include", "exclude", "years", "min_ratings", "movies")
MAX_PICKS = 20  # movies a new user may add on the page


def pick_params(query: Mapping[str, str], keys: Iterable[str]) -> dict[str, str]:
    """The entries of ``query`` named in ``keys``, matched case-blind, under the spelling
    of ``keys``. With a name repeated in any case, the last one wins."""
    wanted = {k.lower(): k for k in keys}
    return {wanted[k.lower()]: str(query[k]) for k in query if k.lower() in wanted}


class UrlReader:
    """Parses query parameters; junk is ignored and out-of-range values are clamped,
    each with a note; ``message`` joins the notes into one warning."""

    def __init__(self, params: Mapping[str, str]):
        self.params = params
        self.notes: list[str] = []
        # What the link asked for and could not get (an ambiguous or unknown movie):
        # shown as an error, not a note, since the page shows something else.
        self.errors: list[str] = []

    def number(
        self, name: str, low: float, high: float, default: float, step: float | None = None
    ) -> float:
        """``name`` as a number in [low, high] (on ``step``), or ``default`` when absent
        or not a finite number."""
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.notes.append(f"ignored {name}={shown(raw)!r}: not a number")
            return default
        used = min(max(value, low), high)
        if step:
            used = min(max(round(used / step) * step, low), high)
        if used != value:
            inside = low <= value <= high
            why = "is between steps" if inside else f"is outside {low:g} to {high:g}"
            self.notes.append(f"{name}={shown(raw)} {why}; using {used:g}")
        return used

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        return int(self.number(name, low, high, default, step=1))

    def genres(self, name: str) -> list[str]:
        """A comma-separated list of the 14 genres (case-blind, no repeats); others noted."""
        raw = self.params.get(name)
        if raw is None:
            return []
        by_lower = {g.lower(): g for g in GENRE_LIST}
        chosen, unknown = [], []
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            if part.lower() in by_lower:
                chosen.append(by_lower[part.lower()])
            else:
                unknown.append(part)
        if unknown:
            self.notes.append(f"ignored unknown genre(s) in {name}: {shown(', '.join(unknown))}")
        return list(dict.fromkeys(chosen))

    def year_range(self, name: str, bounds: tuple[int, int]) -> tuple[int, int]:
        """``FROM-TO`` (either order) clamped to ``bounds``; ``bounds`` when absent or junk."""
        raw = self.params.get(name)
        if raw is None:
            return bounds
        match = re.fullmatch(r"\s*(-?\d{1,6})\s*[-–:]\s*(-?\d{1,6})\s*", raw)
        if not match:
            self.notes.append(f"ignored {name}={shown(raw)!r}: expected FROM-TO, e.g. 2001-2010")
            return bounds
        low, high = sorted(int(g) for g in match.groups())
        used = (min(max(low, bounds[0]), bounds[1]), min(max(high, bounds[0]), bounds[1]))
        if used != (low, high):
            self.notes.append(
                f"{name}={shown(raw)} is outside {bounds[0]}-{bounds[1]}; using {used[0]}-{used[1]}"
            )
        return used

    def picks(self, name: str, known: Container[int]) -> dict[int, float]:
        """``ID:STARS,…`` (stars 0.5–5 in halves) for movies in ``known``; the first
        ``MAX_PICKS``; anything else is noted and left out."""
        raw = self.params.get(name)
        if raw is None:
            return {}
        picks: dict[int, float] = {}
        skipped, repeated = [], []
        for part in (p.strip() for p in raw.split(",") if p.strip()):
            match = re.fullmatch(r"(\d{1,9}):(\d(?:\.\d+)?)", part)
            stars = float(match.group(2)) if match else math.nan
            movie_id = int(match.group(1)) if match else -1
            if movie_id not in known or not (0.5 <= stars <= MAX_STARS) or stars * 2 % 1:
                skipped.append(part)
            elif movie_id in picks:
                repeated.append(f"{part} (kept {movie_id}:{picks[movie_id]:g})")
            elif len(picks) < MAX_PICKS:
                picks[movie_id] = stars
        if skipped:
            self.notes.append(f"ignored in {name}: {shown(', '.join(skipped))}")
        if repeated:
            self.notes.append(f"a movie named twice in {name}: {shown(', '.join(repeated), 80)}")
        return picks

    def note(self, text: str) -> None:
        self.notes.append(text)

    def message(self) -> str | None:
        """The notes as one markdown-safe warning, or None when there are none."""
        if not self.notes:
            return None
        notes = "; ".join(md_escape(n) for n in self.notes)
        return f"Some settings in the link were adjusted: {notes}"


# ---------------------------------------------------------------------------- new user


@dataclass(frozen=True)
class NewUserFilters:
    """The New user page's list: how many movies, and which may appear."""

    top: int
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    years: tuple[int, int] | None  # release years, both included; None: any
    min_ratings: int


class NewUserLink(NamedTuple):
    genre_ratings: dict[str, float]  # stars, every one of the 14 (0 = not rated)
    filters: NewUserFilters
    picks: dict[int, float]  # movieId → stars, the movies the user added


def read_new_user(
    reader: UrlReader,
    bounds: tuple[int, int],
    max_count: int,
    known_movies: Container[int] = (),
) -> NewUserLink:
    """The whole New user view from a link. A genre the link leaves out is "not rated";
    ``bounds`` are the model's release years, ``max_count`` its most ratings per movie,
    ``known_movies`` the movie ids a pick may name."""
    genre_ratings = {g: reader.number(g, 0.0, MAX_STARS, 0.0, STAR_STEP) for g in GENRE_LIST}
    filters = NewUserFilters(
        top=reader.integer("top", 1, MAX_TOP, 10),
        include=tuple(reader.genres("include")),
        exclude=tuple(reader.genres("exclude")),
        years=reader.year_range("years", bounds),
        min_ratings=reader.integer("min_ratings", 0, max_count, 0),
    )
    return NewUserLink(genre_ratings, filters, reader.picks("movies", known_movies))


def shown_text(shown: int, asked: int) -> str:
    """What a list shows: ``"Showing 10 movies (this page lists at most 100)."``, or
    how many of those asked for passed the filters."""
    count = f"{shown} movie{'s' if shown != 1 else ''}"
    if shown < asked:
        count += f" of the {asked} asked for (no more pass the filters)"
    return f"Showing {count}; this page lists at most {MAX_TOP}."


def filters_text(filters: NewUserFilters, bounds: tuple[int, int]) -> str | None:
    """The filters that are set, in words ("Filters: no Horror; at least 50 ratings"),
    so a shared link's filters show beside the count; None when none is set."""
    parts = []
    if filters.include:
        parts.append(f"only {' or '.join(filters.include)}")
    if filters.exclude:
        parts.append(", ".join(f"no {genre}" for genre in filters.exclude))
    if filters.years is not None and tuple(filters.years) != tuple(bounds):
        parts.append(f"released {filters.years[0]}–{filters.years[1]}")
    if filters.min_ratings:
        parts.append(f"at least {filters.min_ratings} ratings")
    return f"Filters: {'; '.join(parts)}." if parts else None


def new_user_url(
    genre_ratings: Mapping[str, float],
    filters: NewUserFilters,
    bounds: tuple[int, int],
    picks: Mapping[int, float] | None = None,
) -> dict[str, str]:
    """The shareable state: rated genres, top-N, the filters that are not default, and
    the picked movies (by id)."""
    params = {g: f"{v:g}" for g, v in genre_ratings.items() if v > 0}
    if picks:
        params["movies"] = ",".join(f"{m}:{s:g}" for m, s in picks.items())
    params["top"] = str(filters.top)  # always there, so a link with no genre means "none rated"
    if filters.include:
        params["include"] = ",".join(filters.include)
    if filters.exclude:
        params["exclude"] = ",".join(filters.exclude)
    if filters.years is not None and tuple(filters.years) != tuple(bounds):
        params["years"] = f"{filters.years[0]}-{filters.years[1]}"
    if filters.min_ratings:
        params["min_ratings"] = str(filters.min_ratings)
    return params


MODEL_MOVIES = {"hybrid": "the hybrid model's movies", "lab": "the lab network's movies"}


def lacking_text(titles: list[str], model_kind: str) -> str:
    """Picks the served model does not know, named, and kept for a switch back."""
    among = MODEL_MOVIES.get(model_kind, "this model's movies")
    verb = "is" if len(titles) == 1 else "are"
    return f"{'; '.join(titles)} {verb} not among {among}; kept for when you switch back."


def kept_years(
    years: tuple[int, int], old_bounds: tuple[int, int] | None, bounds: tuple[int, int]
) -> tuple[int, int]:
    """The release-year filter under a model (or retrain) whose years are ``bounds``: the
    whole range of the old bounds (no filter set) becomes the whole new range; a range
    the user set is kept inside the new bounds."""
    if old_bounds is not None and tuple(years) == tuple(old_bounds):
        return tuple(bounds)
    low, high = (min(max(year, bounds[0]), bounds[1]) for year in years)
    return low, high


# ---------------------------------------------------------------------------- existing user


def read_user(reader: UrlReader, known: Container[int], current: int) -> tuple[int, int]:
    """(userId, top) from a link; a user not in ``known`` keeps ``current``, with a note."""
    user = current
    raw = reader.params.get("user")
    if raw is not None:
        if re.fullmatch(r"\s*\d{1,12}\s*", raw) and int(raw) in known:
            user = int(raw)
        else:
            reader.note(f"user {shown(raw)!r} is not in this model's data; showing user {current}")
    return user, reader.integer("top", 1, MAX_TOP, 10)


# ---------------------------------------------------------------------------- similar movies


def read_movie(
    reader: UrlReader, find_movie: Callable[[str], int], current: int, current_label: str
) -> tuple[int, int]:
    """(movieId, k) from a link whose movie is an id or a title (``find_movie`` resolves
    it, raising a known error, which names the matches or close matches, when it
    cannot); else ``current``, with that error in ``reader.errors``."""
    movie = read_movie_id(reader, find_movie, current, current_label)
    return movie, reader.integer("k", 1, MAX_NEIGHBOURS, 10)


def read_movie_id(
    reader: UrlReader, find_movie: Callable[[str], int], current: int, current_label: str
) -> int:
    """The movieId of a link's ``movie`` (an id or a title); else ``current``, with the
    error (naming the matches or close matches) in ``reader.errors``."""
    raw = reader.params.get("movie")
    if raw is None:
        return current
    try:
        return find_movie(raw[:200])
    except known_errors() as err:
        reader.errors.append(f"{error_text(err)}; showing {current_label}")
        return current


# ---------------------------------------------------------------------------- explore

EXPLORE_URL_KEYS = ("movie", "q", "genres", "sort")


def read_browse(
    reader: UrlReader, genre_names: Iterable[str], sorts: Iterable[str]
) -> tuple[str | None, list[str] | None, str | None]:
    """(search words, genres, sort) from a link; None for each the link leaves out.
    Unknown genres and sorts are noted and left out (names match case-blind)."""
    params = reader.params
    text = params.get("q")
    if text is not None:
        text = " ".join(text.split())[:MAX_SEARCH_CHARS]
    genres = None
    if "genres" in params:
        by_lower = {g.lower(): g for g in genre_names}
        parts = [p.strip() for p in params["genres"].split(",") if p.strip()]
        unknown = [p for p in parts if p.lower() not in by_lower]
        if unknown:
            reader.note(f"ignored unknown genre(s) in genres: {shown(', '.join(unknown))}")
        genres = list(dict.fromkeys(by_lower[p.lower()] for p in parts if p.lower() in by_lower))
    sort = None
    if "sort" in params:
        by_slug = {sort_slug(s): s for s in sorts}
        sort = by_slug.get(sort_slug(params["sort"]))
        if sort is None:
            reader.note(f"ignored sort={shown(params['sort'])!r}: not a sort of this page")
    return text, genres, sort


def sort_slug(label: str) -> str:
    """A sort's name in a link: "Title A–Z" → "title-a-z"."""
    return "-".join(re.findall(r"[a-z0-9]+", label.lower()))


def browse_url(
    movie_id: int, text: str, genres: Iterable[str], sort: str, default_sort: str
) -> dict[str, str]:
    """Explore's shareable state: the picked movie, and the search words, genres and
    sort when set."""
    params = {"movie": str(movie_id)}
    if text.strip():
        params["q"] = " ".join(text.split())
    if list(genres):
        params["genres"] = ",".join(genres)
    if sort != default_sort:
        params["sort"] = sort_slug(sort)
    return params


# ---------------------------------------------------------------------------- every page

MODEL_PARAM = "model"  # the served model, on every page (``model=lab``)
PRESENT_PARAM = "present"  # presenter mode, on every page (``present=1``)
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def read_model(raw: str | None, trained: Iterable[str]) -> tuple[str | None, str | None]:
    """(the model kind a link's ``model`` names, or None; a note when it names none of
    ``trained``)."""
    if raw is None:
        return None, None
    kinds = list(trained)
    wanted = raw.strip().lower()
    if wanted in kinds:
        return wanted, None
    offered = " or ".join(kinds) or "none"
    return None, f"ignored {MODEL_PARAM}={shown(raw)!r}: the trained models are {offered}"


def read_present(raw: str | None) -> bool | None:
    """A link's ``present`` as on or off; None when absent or neither."""
    if raw is None:
        return None
    value = raw.strip().lower()
    return True if value in _ON else False if value in _OFF else None


def frame_params(model_kind: str | None, present: bool) -> dict[str, str]:
    """The parameters every page's URL carries besides its own: the served model and,
    when on, presenter mode."""
    params = {MODEL_PARAM: model_kind} if model_kind else {}
    if present:
        params[PRESENT_PARAM] = "1"
    return params


def unknown_page(url: str, base_path: str, known: Iterable[str]) -> str | None:
    """The page name of ``url`` when it is none of ``known`` (url paths; "" is the
    default page), else None. ``base_path``: the server's base URL path, if any."""
    path = urlparse(url).path.strip("/")
    base = base_path.strip("/")
    if base and (path == base or path.startswith(f"{base}/")):
        path = path[len(base) :].strip("/")
    name = path.rsplit("/", 1)[-1]
    return None if name.lower() in {k.lower() for k in known} | {""} else name
