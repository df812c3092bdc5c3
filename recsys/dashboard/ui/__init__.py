"""The dashboard's Streamlit layer: cached loaders, shared widgets, URL state, the sidebar.

The only module in ``recsys`` that imports Streamlit. Pages stay thin: they read state,
call a function here, in the Recommender or in a plain module, and render. The work
behind the widgets is plain Python elsewhere: the tables in ``recsys.dashboard.overview``,
the charts in ``recsys.dashboard.charts``, background jobs in ``recsys.dashboard.jobs``,
the upload's install in ``recsys.dataset.download``, the evaluation's tables in
``recsys.evaluation.evaluate``.

Caching:

- ``load_recommender_cached(bundle_path, manifest_hash)`` is an ``st.cache_resource``:
  one Recommender per bundle, shared by every session (it is never mutated).
- Each rerun reads only ``CURRENT`` and ``manifest.json`` (``bundle_key``) to get the
  key, so a bundle written by a retrain, in any session or process, is served on the
  next rerun of every session, with no reload of the old one. A small fragment in the
  sidebar checks the key every 15 s and reruns an idle session when it changed.
- Derived tables (nearest neighbours, the PCA map, the overview tables) are
  ``st.cache_data`` keyed on the same (path, hash), or on the dataset's file stamps.

TensorFlow is imported only inside the background training job (``recsys.dashboard.jobs``).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import streamlit as st

from recsys.columns import (
    ACTUAL,
    AVE_RATING,
    DISTANCE,
    ERROR,
    GENRE_LIST,
    GENRES,
    MOVIE_ID,
    NUM_RATINGS,
    PREDICTED,
    TITLE,
    YEAR,
)
from recsys.config import PRESETS, RECIPES, TrainConfig, recipe_config
from recsys.dashboard import overview
from recsys.dashboard.charts import MAX_STARS, evaluation_chart
from recsys.dashboard.jobs import Job, JobRegistry, Work, error_text, evaluation_work, train_work
from recsys.dashboard.overview import Overview, year_bounds
from recsys.dataset.download import UPLOAD_CAP_MB, install_dataset
from recsys.dataset.movielens import dataset_present, load_movielens
from recsys.errors import (
    BundleError,
    MissingBundleError,
    StaleBundleError,
    known_errors,
)
from recsys.evaluation.evaluate import evaluation_tables, load_evaluation, metric_mean
from recsys.model.bundle import (
    check_fresh,
    current_bundle,
    manifest_hash,
    read_manifest,
)
from recsys.serving.recommender import Recommender
from recsys.settings import data_path_source, resolve_artifacts_dir, resolve_data_path

STAR_STEP = 0.5
MAX_TOP = 100
MAX_NEIGHBOURS = 50
NEAREST_SHOWN = 50
LAB_USER_ID = 2  # the lab's example existing user

# ---------------------------------------------------------------------------- text


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


def show_error(err: BaseException | str, hint: str = "") -> None:
    """An st.error with the error's one line (escaped) and, optionally, what to do next."""
    message = md_escape(err if isinstance(err, str) else error_text(err), limit=600)
    st.error(message + (f"  \n{hint}" if hint else ""), icon=":material/error:")


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV for download. Text cells that a spreadsheet would run as a formula get a quote."""
    safe = table.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object:
            text = safe[column].astype(str)
            safe[column] = text.mask(text.str.match(r"^[=+\-@\t\r]"), "'" + text)
    return safe.to_csv(index=False).encode("utf-8")


# ---------------------------------------------------------------------------- the model


class BundleKey(NamedTuple):
    """What identifies the served model: its folder and the sha256 of its manifest."""

    path: str
    digest: str


def artifacts_dir() -> Path:
    return resolve_artifacts_dir(None)


def bundle_key(artifacts: Path | None = None) -> BundleKey:
    """Read CURRENT and manifest.json only (cheap; done on every rerun)."""
    bundle = current_bundle(artifacts or artifacts_dir())
    _, raw = read_manifest(bundle)
    return BundleKey(str(bundle), manifest_hash(raw))


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_recommender_cached(bundle_path: str, manifest_hash: str) -> Recommender:
    """One shared Recommender per bundle; every file is verified once, here."""
    model = Recommender.load(bundle_path)
    if model.manifest_hash != manifest_hash:
        raise BundleError(bundle_path, "changed while it was loading; reload the page")
    return model


def current_model() -> Recommender:
    """The served Recommender. Raises MissingBundleError / BundleError (known errors)."""
    key = bundle_key()
    return load_recommender_cached(key.path, key.digest)


# ---------------------------------------------------------------------------- routing

_router = threading.local()


@contextmanager
def routing() -> Iterator[None]:
    """Marks the script thread while dashboard.py (the router) runs a page."""
    _router.active = True
    try:
        yield
    finally:
        _router.active = False


def app_pages() -> list[Any]:
    """The dashboard's pages, in menu order (files relative to dashboard.py)."""
    return [
        st.Page("pages/overview.py", title="Overview", icon=":material/insights:", default=True),
        st.Page("pages/new_user.py", title="New user", icon=":material/tune:"),
        st.Page("pages/existing_user.py", title="Existing user", icon=":material/person:"),
        st.Page("pages/similar_movies.py", title="Similar movies", icon=":material/hub:"),
        st.Page("pages/model.py", title="Model", icon=":material/neurology:"),
    ]


def page_config() -> None:
    st.set_page_config(page_title="Movie recommender", page_icon=":material/movie:", layout="wide")


def frame() -> Recommender:
    """What every page shares: the served model (or the screen that explains why there is
    none, then stop) and the sidebar."""
    model = _model_or_stop()
    sidebar(model)
    return model


def require_model() -> Recommender:
    """The served Recommender, for a page. Pages call this first.

    Under dashboard.py (``routing``) the frame is already drawn. A fresh server whose
    first request is a deep link (``/new_user?...``) runs the file in pages/ directly,
    Streamlit's legacy pages-folder mode; then this draws the router's menu and the
    frame here. Calling st.navigation turns that mode off for the whole app
    (documented), so later runs go through dashboard.py.
    """
    if getattr(_router, "active", False):
        return _model_or_stop()
    page_config()
    st.navigation(app_pages())
    return frame()


def _model_or_stop() -> Recommender:
    """The served Recommender, or, when there is none that can be used, the screen that
    says why and how to get one (train on first start, upload data, retrain), then stop."""
    try:
        return current_model()
    except MissingBundleError:
        first_start()
    except BundleError as err:
        refuse_bundle(err)
    except known_errors() as err:
        show_error(err, "Check that the artifacts folder (RECSYS_ARTIFACTS) can be read.")
    st.stop()
    raise AssertionError("st.stop() returned")  # for type checkers; never reached


def _key_of(model: Recommender) -> tuple[str, str]:
    return str(model.bundle), model.manifest_hash


# ---------------------------------------------------------------------------- cached tables


@st.cache_data(max_entries=4, show_spinner="Finding every movie's nearest neighbour…")
def nearest_table_cached(bundle_path: str, manifest_hash: str) -> pd.DataFrame:
    return load_recommender_cached(bundle_path, manifest_hash).nearest_table()


def nearest_table(model: Recommender) -> pd.DataFrame:
    """The lab's table: each movie and its nearest neighbour, with the squared distance."""
    return nearest_table_cached(*_key_of(model))


@st.cache_data(max_entries=4, show_spinner="Projecting the movie embeddings…")
def embedding_map_cached(bundle_path: str, manifest_hash: str) -> pd.DataFrame:
    """Every movie's 32-d embedding projected on its first two principal components."""
    model = load_recommender_cached(bundle_path, manifest_hash)
    return overview.embedding_map(model.items, model.item_embeddings)


def embedding_map(model: Recommender) -> pd.DataFrame:
    """movieId, title, year, genres, pc1, pc2 and main genre of every movie in the model."""
    return embedding_map_cached(*_key_of(model))


def data_stamp(path: Path) -> tuple[tuple[int, int], ...]:
    """(mtime, size) of the dataset's files: a cheap cache key that changes with them."""
    files = [path] if path.is_file() else [path / "ratings.csv", path / "movies.csv"]
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in files)


@st.cache_data(max_entries=2, show_spinner="Reading the dataset…")
def dataset_overview_cached(data_path: str, stamp: tuple) -> Overview:
    dataset = load_movielens(data_path)
    summary = overview.overview_of(dataset.ratings, dataset.movies)
    return replace(summary, fingerprint=dataset.fingerprint)


def dataset_overview(data_path: Path) -> Overview:
    """Overview of the whole dataset (read once per file change). Raises DataError."""
    return dataset_overview_cached(str(data_path), data_stamp(data_path))


@st.cache_data(max_entries=4, show_spinner=False)
def model_overview_cached(bundle_path: str, manifest_hash: str) -> Overview:
    model = load_recommender_cached(bundle_path, manifest_hash)
    return overview.overview_of(model.ratings, model.items)


def model_overview(model: Recommender) -> Overview:
    """Overview of the model's training subset (the ratings and movies it kept)."""
    return model_overview_cached(*_key_of(model))


def warn_if_stale(model: Recommender, shown: Overview) -> None:
    """Say so when the served model was trained on other data than the dataset shown."""
    if shown.fingerprint is None:
        return
    try:
        check_fresh(model.manifest, data_fingerprint=shown.fingerprint)
    except StaleBundleError as err:
        st.warning(
            f"{md_escape(error_text(err))}: the model's predictions are from that data. "
            "Retrain on the Model page to use this dataset.",
            icon=":material/history:",
        )


# ---------------------------------------------------------------------------- tables


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
        DISTANCE: st.column_config.NumberColumn(
            "distance", format="%.4f", help="Squared distance between the 32-d movie embeddings"
        ),
    }


def show_movies(
    table: pd.DataFrame,
    *,
    order: Iterable[str] | None = None,
    show_id: bool = False,
    height: int | str = "auto",
    title_width: str = "large",
) -> None:
    """A movie table: stars as bars, movieId hidden unless ``show_id``; ``order`` picks
    and orders the columns (default: the table's own)."""
    config = movie_columns()
    config[TITLE] = st.column_config.TextColumn("title", width=title_width)
    if show_id:
        config[MOVIE_ID] = st.column_config.NumberColumn("movie id", format="%d", width="small")
    columns = [c for c in (order or table.columns) if c in table.columns]
    st.dataframe(table, hide_index=True, column_config=config, column_order=columns, height=height)


def metric_row(cells: Iterable[tuple[str, str, str | None]]) -> None:
    """Metrics (label, value, help) side by side at their natural width; they wrap
    instead of cutting values short on narrow screens."""
    with st.container(horizontal=True, gap="large"):
        for label, value, help_text in cells:
            st.metric(label, value, help=help_text, width="content")


def table_height(rows: int) -> int:
    """Pixels that show ``rows`` rows and the header without a scrollbar."""
    return 35 * (rows + 1) + 3


def movie_labels(model: Recommender) -> dict[int, str]:
    """Unique picker labels by movieId: the title, plus the id where titles repeat."""
    return _movie_labels_cached(*_key_of(model))


@st.cache_data(max_entries=4, show_spinner=False)
def _movie_labels_cached(bundle_path: str, manifest_hash: str) -> dict[int, str]:
    return overview.movie_labels(load_recommender_cached(bundle_path, manifest_hash).items)


def user_labels(model: Recommender) -> dict[int, str]:
    """Picker labels by userId: id, rating count and mean stars."""
    return _user_labels_cached(*_key_of(model))


@st.cache_data(max_entries=4, show_spinner=False)
def _user_labels_cached(bundle_path: str, manifest_hash: str) -> dict[int, str]:
    users = load_recommender_cached(bundle_path, manifest_hash).user_summary()
    return overview.user_labels(users)


# ---------------------------------------------------------------------------- URL state


def _url_slot(page: str) -> str:
    return f"_url_written_{page}"


def url_params(page: str, keys: Iterable[str]) -> dict[str, str] | None:
    """This page's query parameters, when the URL holds some that this session did not
    write itself (a shared link, a reload, back/forward); else None.

    Streamlit clears the query string on a page switch, so coming back to a page
    returns None and the session's own state wins.
    """
    wanted = {k.lower(): k for k in keys}
    present = {
        wanted[k.lower()]: str(st.query_params[k]) for k in st.query_params if k.lower() in wanted
    }
    if not present or present == st.session_state.get(_url_slot(page)):
        return None
    return present


def write_url(page: str, params: Mapping[str, str]) -> None:
    """Mirror the page's state into the URL (only when it changed: no needless message)."""
    params = {k: str(v) for k, v in params.items()}
    st.session_state[_url_slot(page)] = params
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def _shown(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:39] + "…"


class UrlReader:
    """Parses query parameters; junk is ignored and out-of-range values are clamped,
    each with a note that ``show_notes`` turns into one st.warning."""

    def __init__(self, params: Mapping[str, str]):
        self.params = params
        self.notes: list[str] = []

    def number(
        self, name: str, low: float, high: float, default: float, step: float | None = None
    ) -> float:
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.notes.append(f"ignored {name}={_shown(raw)!r}: not a number")
            return default
        used = min(max(value, low), high)
        if step:
            used = min(max(round(used / step) * step, low), high)
        if used != value:
            inside = low <= value <= high
            why = "is between steps" if inside else f"is outside {low:g} to {high:g}"
            self.notes.append(f"{name}={_shown(raw)} {why}; using {used:g}")
        return used

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        return int(self.number(name, low, high, default, step=1))

    def genres(self, name: str) -> list[str]:
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
            self.notes.append(f"ignored unknown genre(s) in {name}: {_shown(', '.join(unknown))}")
        return list(dict.fromkeys(chosen))

    def year_range(self, name: str, bounds: tuple[int, int]) -> tuple[int, int]:
        raw = self.params.get(name)
        if raw is None:
            return bounds
        match = re.fullmatch(r"\s*(-?\d{1,6})\s*[-–:]\s*(-?\d{1,6})\s*", raw)
        if not match:
            self.notes.append(f"ignored {name}={_shown(raw)!r}: expected FROM-TO, e.g. 2001-2010")
            return bounds
        low, high = sorted(int(g) for g in match.groups())
        used = (min(max(low, bounds[0]), bounds[1]), min(max(high, bounds[0]), bounds[1]))
        if used != (low, high):
            self.notes.append(
                f"{name}={_shown(raw)} is outside {bounds[0]}-{bounds[1]}; "
                f"using {used[0]}-{used[1]}"
            )
        return used

    def note(self, text: str) -> None:
        self.notes.append(text)

    def show_notes(self) -> None:
        if self.notes:
            notes = "; ".join(md_escape(n) for n in self.notes)
            st.warning(f"Some settings in the link were adjusted: {notes}", icon=":material/link:")


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


# ---------------------------------------------------------------------------- new user


NEW_USER = "new_user"
NU_TOP, NU_INCLUDE, NU_EXCLUDE = "nu_top", "nu_include", "nu_exclude"
NU_YEARS, NU_MIN_RATINGS = "nu_years", "nu_min_ratings"
NEW_USER_URL_KEYS = (*GENRE_LIST, "top", "include", "exclude", "years", "min_ratings")

CLEAR_PRESET = "Clear"
GENRE_PRESETS: dict[str, dict[str, float]] = {
    "The lab's fan: adventure + fantasy": {"Adventure": 5.0, "Fantasy": 5.0},
    "Action + sci-fi": {"Action": 5.0, "Sci-Fi": 5.0, "Thriller": 4.0, "Romance": 1.0},
    "Family": {"Animation": 5.0, "Children": 5.0, "Comedy": 4.0, "Horror": 0.5},
    "Comedy + romance": {"Comedy": 5.0, "Romance": 5.0, "Drama": 3.5, "Horror": 0.5},
    "Horror + thriller": {"Horror": 5.0, "Thriller": 5.0, "Mystery": 4.0, "Children": 0.5},
    "Documentary": {"Documentary": 5.0, "Drama": 4.5, "Action": 1.0},
    CLEAR_PRESET: {},
}
DEFAULT_PRESET = "The lab's fan: adventure + fantasy"


def genre_key(genre: str) -> str:
    return f"genre_{genre}"


def apply_preset(name: str) -> None:
    """Button callback: set every genre slider (callbacks run before widgets exist)."""
    ratings = GENRE_PRESETS.get(name, {})
    for genre in GENRE_LIST:
        st.session_state[genre_key(genre)] = float(ratings.get(genre, 0.0))


@dataclass(frozen=True)
class NewUserFilters:
    top: int
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    years: tuple[int, int] | None
    min_ratings: int


def init_new_user_state(model: Recommender) -> None:
    """Defaults, then a shared link (clamped, with notes), before any widget exists."""
    bounds = year_bounds(model.items)
    max_count = int(model.items[NUM_RATINGS].max())
    defaults = GENRE_PRESETS[DEFAULT_PRESET]
    for genre in GENRE_LIST:
        st.session_state.setdefault(genre_key(genre), float(defaults.get(genre, 0.0)))
    st.session_state.setdefault(NU_TOP, 10)
    st.session_state.setdefault(NU_INCLUDE, [])
    st.session_state.setdefault(NU_EXCLUDE, [])
    st.session_state.setdefault(NU_YEARS, bounds)
    st.session_state.setdefault(NU_MIN_RATINGS, 0)
    # A retrained model may cover other years: keep the stored range inside them.
    years = tuple(st.session_state[NU_YEARS])
    inside = tuple(min(max(year, bounds[0]), bounds[1]) for year in years)
    if inside != years:
        st.session_state[NU_YEARS] = inside
    clamp_state(NU_MIN_RATINGS, 0, max_count)
    params = url_params(NEW_USER, NEW_USER_URL_KEYS)
    if params is None:
        return
    reader = UrlReader(params)
    # A link states the whole view: a genre it leaves out is "not rated".
    for genre in GENRE_LIST:
        st.session_state[genre_key(genre)] = reader.number(genre, 0.0, MAX_STARS, 0.0, STAR_STEP)
    st.session_state[NU_TOP] = reader.integer("top", 1, MAX_TOP, 10)
    st.session_state[NU_INCLUDE] = reader.genres("include")
    st.session_state[NU_EXCLUDE] = reader.genres("exclude")
    st.session_state[NU_YEARS] = reader.year_range("years", bounds)
    st.session_state[NU_MIN_RATINGS] = reader.integer("min_ratings", 0, max_count, 0)
    reader.show_notes()


def preset_buttons() -> None:
    with st.container(horizontal=True, gap="small"):
        for i, name in enumerate(GENRE_PRESETS):
            st.button(
                name,
                key=f"preset_{i}",
                on_click=apply_preset,
                args=(name,),
                type="tertiary" if name == CLEAR_PRESET else "secondary",
            )


def genre_sliders(per_row: int = 7) -> dict[str, float]:
    """The 14 genre sliders, in the lab's order, row by row (0 = not rated).

    ``persist_state="session"`` keeps their values when the user visits other pages.
    """
    for start in range(0, len(GENRE_LIST), per_row):
        slots = st.columns(per_row)
        for slot, genre in zip(slots, GENRE_LIST[start : start + per_row], strict=False):
            slot.slider(
                genre,
                min_value=0.0,
                max_value=MAX_STARS,
                step=STAR_STEP,
                format="%.1f ★",
                key=genre_key(genre),
                persist_state="session",
            )
    return {g: float(st.session_state[genre_key(g)]) for g in GENRE_LIST}


def new_user_filters(model: Recommender) -> NewUserFilters:
    """Top-N and the filters, in an expander; values survive page switches."""
    bounds = year_bounds(model.items)
    max_count = int(model.items[NUM_RATINGS].max())
    top_col, rest = st.columns([1, 4], vertical_alignment="bottom")
    kept = {"persist_state": "session"}  # the values survive page switches
    top = top_col.number_input("How many movies", 1, MAX_TOP, step=1, key=NU_TOP, **kept)
    with rest.expander("Filters", icon=":material/filter_list:"):
        include = st.multiselect(
            "Only movies with any of these genres", GENRE_LIST, key=NU_INCLUDE, **kept
        )
        exclude = st.multiselect(
            "Leave out movies with any of these genres", GENRE_LIST, key=NU_EXCLUDE, **kept
        )
        years = None
        if bounds[0] < bounds[1]:
            years = st.slider("Released", bounds[0], bounds[1], key=NU_YEARS, **kept)
        min_ratings = st.number_input(
            "At least this many ratings in the data",
            0,
            max_count,
            step=5,
            key=NU_MIN_RATINGS,
            **kept,
        )
    return NewUserFilters(int(top), tuple(include), tuple(exclude), years, int(min_ratings))


def new_user_url(
    genre_ratings: Mapping[str, float], filters: NewUserFilters, bounds: tuple[int, int]
) -> dict[str, str]:
    """The shareable state: rated genres, top-N, and the filters that are not default."""
    params = {g: f"{v:g}" for g, v in genre_ratings.items() if v > 0}
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


# ---------------------------------------------------------------------------- existing user


EXISTING_USER = "existing_user"
EU_USER, EU_TOP = "eu_user", "eu_top"


def init_existing_user_state(model: Recommender) -> None:
    """The picked user (the lab's user 2 at first) and top-N, then a shared link."""
    labels = user_labels(model)
    fallback = LAB_USER_ID if LAB_USER_ID in labels else next(iter(labels))
    keep_choice(EU_USER, labels, fallback)
    st.session_state.setdefault(EU_TOP, 10)
    params = url_params(EXISTING_USER, ("user", "top"))
    if params is None:
        return
    reader = UrlReader(params)
    if "user" in params:
        raw = params["user"]
        if re.fullmatch(r"\s*\d{1,12}\s*", raw) and int(raw) in labels:
            st.session_state[EU_USER] = int(raw)
        else:
            reader.note(
                f"user {_shown(raw)!r} is not in this model's data; "
                f"showing user {st.session_state[EU_USER]}"
            )
    st.session_state[EU_TOP] = reader.integer("top", 1, MAX_TOP, 10)
    reader.show_notes()


# ---------------------------------------------------------------------------- similar movies


SIMILAR = "similar_movies"
SM_MOVIE, SM_K = "sm_movie", "sm_k"


def init_similar_state(model: Recommender) -> None:
    """The picked movie (the most-rated at first) and k, then a shared link, whose movie
    may be an id or a title."""
    labels = movie_labels(model)
    keep_choice(SM_MOVIE, labels, overview.most_rated_movie(model.items))
    st.session_state.setdefault(SM_K, 10)
    clamp_state(SM_K, 1, MAX_NEIGHBOURS)
    params = url_params(SIMILAR, ("movie", "k"))
    if params is None:
        return
    reader = UrlReader(params)
    if "movie" in params:
        try:
            st.session_state[SM_MOVIE] = model.find_movie(params["movie"][:200])
        except known_errors() as err:
            reader.note(f"{error_text(err)}; showing {labels[st.session_state[SM_MOVIE]]}")
    st.session_state[SM_K] = reader.integer("k", 1, MAX_NEIGHBOURS, 10)
    reader.show_notes()


# ---------------------------------------------------------------------------- background jobs


@st.cache_resource
def _job_registry() -> JobRegistry:
    """Process-wide: one job of each kind per artifacts folder, seen by every session."""
    return JobRegistry()


def latest_job(kind: str, artifacts: Path | None = None) -> Job | None:
    return _job_registry().latest(kind, artifacts or artifacts_dir())


def start_job(kind: str, label: str, work: Work, artifacts: Path | None = None) -> Job:
    """Start ``work(job)`` in a thread unless a job of this kind is already running."""
    return _job_registry().start(kind, label, work, artifacts or artifacts_dir())


def follow_running(kind: str) -> Job | None:
    """The latest job of ``kind``; while it runs, follow it to its end, then rerun."""
    job = latest_job(kind)
    if job is not None and job.running:
        follow_job(job)
        st.rerun()
    return job


def follow_job(job: Job, poll_seconds: float = 0.25) -> None:
    """A progress bar and status line that follow ``job`` until it ends."""
    bar = st.progress(job.fraction, text=md_escape(job.describe()))
    while not job.finished.wait(poll_seconds):
        bar.progress(job.fraction, text=md_escape(job.describe()))
    bar.progress(1.0, text=md_escape(job.describe()))


def start_training(config: TrainConfig) -> Job:
    artifacts = artifacts_dir()
    label = f"Training ({config.recipe} recipe, {config.preset} preset, {config.epochs} epochs)"
    work = train_work(config, resolve_data_path(None), artifacts)
    return start_job("train", label, work, artifacts)


_MY_TRAINING = "_my_training"  # when this session's last training started


def training_finished_message(job: Job) -> None:
    """The outcome of a finished training job, once."""
    if job.error:
        show_error(job.error, "Nothing was replaced: the previous model, if any, is still served.")
    else:
        seconds = getattr(job.result, "seconds", None)
        took = f" in {seconds:.0f} s" if isinstance(seconds, float) else ""
        st.success(
            f"New model trained{took}; every open session now serves it.",
            icon=":material/check_circle:",
        )


def retrain_section(config: Mapping[str, Any]) -> None:
    """The retrain form. A running training (from any session) is followed to its end;
    the session that started it then sees how it went."""
    job = follow_running("train")
    if job is not None and st.session_state.get(_MY_TRAINING) == job.started:
        training_finished_message(job)
    served_preset = config.get("preset") if config.get("preset") in PRESETS else "lab"
    keep = "the recipe's"
    with st.form("retrain"):
        cells = st.columns(3)
        preset = cells[0].selectbox("Preset", PRESETS, index=PRESETS.index(served_preset))
        recipe = cells[1].selectbox(
            "Recipe",
            RECIPES,
            help="fast: 12 epochs, batch 256, lr 0.003 decaying · "
            "lab: 30 epochs, batch 32, lr 0.01",
        )
        seed = cells[2].number_input("Seed", 0, 2**31 - 1, value=1)
        cells = st.columns(3)
        epochs = cells[0].number_input("Epochs", 1, 500, value=None, placeholder=keep)
        lr = cells[1].number_input(
            "Learning rate", 1e-5, 1.0, value=None, step=0.001, format="%.4f", placeholder=keep
        )
        batch_size = cells[2].number_input("Batch size", 1, 65536, value=None, placeholder=keep)
        submitted = st.form_submit_button(
            "Train a new model", type="primary", icon=":material/model_training:"
        )
    st.caption(
        "The new bundle is written beside the old one and swapped in atomically; "
        "a failed run changes nothing."
    )
    if not submitted:
        return
    try:
        train_config = recipe_config(
            recipe, preset=preset, epochs=epochs, lr=lr, batch_size=batch_size, seed=int(seed)
        )
    except known_errors() as err:
        show_error(err)
        return
    st.session_state[_MY_TRAINING] = start_training(train_config).started
    st.rerun()


def evaluation_section(preset: str) -> None:
    """The latest saved evaluation (table and chart) and a button to run a new one."""
    result = load_evaluation(artifacts_dir())  # None when absent or damaged; never raises
    if result:
        _show_evaluation(result)
    else:
        st.info("No evaluation saved yet.", icon=":material/science:")
    job = follow_running("evaluate")
    if job is not None and job.error:
        show_error(job.error)
    if st.button("Run a new evaluation", icon=":material/science:", key="run_evaluation"):
        artifacts = artifacts_dir()
        work = evaluation_work(preset, "fast", resolve_data_path(None), artifacts)
        start_job("evaluate", "Evaluation", work, artifacts)
        st.rerun()


def _show_evaluation(result: Mapping[str, Any]) -> None:
    means, stds = evaluation_tables(result)
    st.caption(
        f"Protocol **{md_escape(result.get('protocol', '?'))}**, preset "
        f"**{md_escape(result.get('preset', '?'))}**, recipe "
        f"**{md_escape(result.get('recipe', '?'))}**. RMSE and MAE in stars (lower is "
        "better); the ranking metrics at 10 and coverage: higher is better."
    )
    digits = dict.fromkeys(means.columns[1:], st.column_config.NumberColumn(format="%.4f"))
    st.dataframe(means, hide_index=True, column_config=digits, placeholder="—")
    if stds is not None:
        with st.expander("Standard deviations over seeds"):
            st.dataframe(stds, hide_index=True, placeholder="—")
    metrics = list(means.columns[1:])
    if metrics:
        metric = st.selectbox("Chart", metrics, key="eval_metric")
        st.altair_chart(evaluation_chart(means, metric), width="stretch")


# ---------------------------------------------------------------------------- first start


def first_start() -> None:
    """No bundle yet: train one from the dataset, or say how to get the dataset."""
    st.title("Movie recommender")
    data_path = resolve_data_path(None)
    if not dataset_present(data_path):
        dataset_missing(data_path)
        return
    job = latest_job("train")
    if job is None or (not job.running and not job.error and not _has_bundle()):
        job = start_training(recipe_config("fast"))
    if job.running:
        st.info(
            "No trained model yet, so the app is training one now (the fast recipe; "
            "about a minute on ml-latest-small). It is saved, so this happens once.",
            icon=":material/model_training:",
        )
        follow_job(job)
    if job.error:
        show_error(job.error, "Fix the problem, then press Try again.")
        if st.button("Try again", type="primary", key="first_start_retry"):
            start_training(recipe_config("fast"))
            st.rerun()
        return
    st.rerun()


def _has_bundle() -> bool:
    try:
        bundle_key()
    except known_errors():
        return False
    return True


def refuse_bundle(err: BaseException) -> None:
    """A damaged, stale or unreadable bundle: refuse it and offer a retrain."""
    st.title("Movie recommender")
    show_error(err, "The model bundle was refused and is not used. Retrain to replace it.")
    job = follow_running("train")
    if job is not None and job.error:
        show_error(job.error)
    if not dataset_present(resolve_data_path(None)):
        dataset_missing(resolve_data_path(None))
        return
    retrain = st.button(
        "Retrain now", type="primary", icon=":material/model_training:", key="retrain_refused"
    )
    if retrain:
        start_training(recipe_config("fast"))
        st.rerun()


def dataset_missing(data_path: Path) -> None:
    """How to get the dataset, and an uploader for the MovieLens zip."""
    source = data_path_source()
    st.warning(
        f"No MovieLens data found at {md_escape(data_path)} ({source}).", icon=":material/dataset:"
    )
    st.markdown(
        "Get **ml-latest-small** (about 1 MB) in one of these ways, then reload:\n"
        "- run `python -m recsys download` (or `make data`) in the project folder;\n"
        "- or point `RECSYS_DATA` at a MovieLens folder or `.zip`;\n"
        "- or upload GroupLens' zip below (research use, with attribution: see its README.txt)."
    )
    uploaded = st.file_uploader(
        f"MovieLens zip (at most {UPLOAD_CAP_MB} MB)",
        type="zip",
        key="dataset_zip",
        max_upload_size=UPLOAD_CAP_MB,
    )
    if uploaded is None:
        return
    try:
        target = install_dataset(uploaded.getvalue(), data_path, uploaded.name)
    except (*known_errors(), OSError) as err:  # OSError: the target cannot be written
        show_error(err, "Upload the zip as GroupLens publishes it (ml-latest-small.zip).")
        return
    st.success(f"Saved the dataset to {md_escape(target.name)}. Training starts now.")
    st.rerun()


# ---------------------------------------------------------------------------- sidebar


def _number(value: float, spec: str) -> str:
    return format(value, spec) if math.isfinite(value) else "–"


def metric_value(metrics: Mapping[str, Any], name: str, spec: str) -> str:
    """A manifest metric formatted with ``spec``, or "–" when missing or not a number."""
    return _number(metric_mean(metrics.get(name)), spec)


def _created(manifest: Mapping[str, Any]) -> str:
    try:
        created = datetime.fromisoformat(str(manifest["created"]))
    except (KeyError, ValueError):
        return "unknown"
    minutes = max((datetime.now(UTC) - created).total_seconds() / 60, 0)
    if minutes < 90:
        age = f"{minutes:.0f} min"
    elif minutes < 2880:
        age = f"{minutes / 60:.0f} h"
    else:
        age = f"{minutes / 1440:.0f} days"
    return f"{created.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({age} ago)"


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def sidebar(model: Recommender) -> None:
    """Data source, and the bundle's creation time, preset and test metrics."""
    manifest = model.manifest
    config, metrics = manifest.get("config", {}), manifest.get("metrics", {})
    counts = manifest.get("counts", {})
    data_path = resolve_data_path(None)
    trained_on = Path(str(manifest.get("data", {}).get("source", "?"))).name
    with st.sidebar:
        st.subheader("Model", divider="gray")
        st.caption(f"Trained {md_escape(_created(manifest))}")
        st.caption(
            f"Preset **{md_escape(config.get('preset', '?'))}** · "
            f"recipe **{md_escape(config.get('recipe', '?'))}** · "
            f"{md_escape(metrics.get('epochs_run', '?'))} epochs"
        )
        st.caption(
            f"Test RMSE **{metric_value(metrics, 'test_rmse_stars', '.3f')} ★** · "
            f"test MSE **{metric_value(metrics, 'test_mse', '.4f')}**",
            help="On the held-out 20%. RMSE in stars; MSE in the scaled [-1, 1] units "
            "(the lab's test MSE: 0.0815).",
        )
        st.subheader("Data", divider="gray")
        found = "" if dataset_present(data_path) else " (not found)"
        st.caption(
            f"Source: **{md_escape(data_path.name or data_path)}**{found}",
            help="The folder or zip named by RECSYS_DATA, else data/ml-latest-small",
        )
        st.caption(
            f"The model was trained on {md_escape(trained_on)}: {_count(counts.get('items'))} "
            f"movies, {_count(counts.get('users'))} users, {_count(counts.get('ratings'))} ratings"
        )
        job = latest_job("train")
        if job is not None and job.running:
            st.progress(job.fraction, text=md_escape(job.describe()))
        _watch_bundle(model.manifest_hash)


@st.fragment(run_every=15)
def _watch_bundle(served_digest: str) -> None:
    """Every few seconds, check CURRENT; a new bundle (a retrain anywhere) reruns the
    whole app, so idle sessions switch to it without a click."""
    try:
        key = bundle_key()
    except known_errors():
        return
    if key.digest != served_digest:
        st.rerun(scope="app")
