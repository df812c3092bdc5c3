"""The dashboard's Streamlit layer: cached loaders, shared widgets, charts, background jobs.

The only module in ``recsys`` that imports Streamlit. Pages stay thin: they read state,
call a function here or in the Recommender, and render.

Caching:

- ``load_recommender_cached(bundle_path, manifest_hash)`` is an ``st.cache_resource``:
  one Recommender per bundle, shared by every session (it is never mutated).
- Each rerun reads only ``CURRENT`` and ``manifest.json`` (``bundle_key``) to get the
  key, so a bundle written by a retrain, in any session or process, is served on the
  next rerun of every session, with no reload of the old one. A small fragment in the
  sidebar checks the key every 15 s and reruns an idle session when it changed.
- Derived tables (nearest neighbours, the PCA map, the overview tables) are
  ``st.cache_data`` keyed on the same (path, hash), or on the dataset's file stamps.

TensorFlow is imported only inside the background training job (``recsys.train``).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from recsys.artifacts import (
    check_fresh,
    current_bundle,
    manifest_hash,
    read_manifest,
    resolve_artifacts_dir,
)
from recsys.columns import (
    AVE_RATING,
    GENRE_LIST,
    GENRES,
    ITEM_NOT_TRAINED,
    ITEM_VECTOR_COLUMNS,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    TITLE,
    USER_ID,
    USER_NOT_TRAINED,
    USER_VECTOR_COLUMNS,
    YEAR,
)
from recsys.data import (
    MAX_UNPACKED_BYTES,
    check_zip_members,
    dataset_present,
    genre_flags,
    load_movielens,
    resolve_data_path,
)
from recsys.errors import (
    BundleError,
    DataError,
    MissingBundleError,
    StaleBundleError,
    known_errors,
)
from recsys.features import PRESETS
from recsys.recipes import RECIPES, TrainConfig, recipe_config
from recsys.recommender import ACTUAL, DISTANCE, ERROR, PREDICTED, Recommender

# Megabytes; the same cap as server.maxUploadSize (ml-latest-small.zip is about 1 MB).
UPLOAD_CAP_MB = 200
MAX_STARS = 5.0
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


def error_text(err: BaseException) -> str:
    """One line for any error, as the CLI prints it."""
    return " ".join(str(err).split()) or type(err).__name__


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


def main_genre(genres: pd.Series) -> pd.Series:
    """The first of the 14 genres in each "A|B|C" string, else "Other"."""
    names = "|".join(re.escape(g) for g in GENRE_LIST)
    first = genres.astype(str).str.extract(rf"(?:^|\|)({names})(?=\||$)", expand=False)
    return first.fillna("Other")


@st.cache_data(max_entries=4, show_spinner="Projecting the movie embeddings…")
def embedding_map_cached(bundle_path: str, manifest_hash: str) -> pd.DataFrame:
    """Every movie's 32-d embedding projected on its first two principal components."""
    model = load_recommender_cached(bundle_path, manifest_hash)
    embeddings = model.item_embeddings.astype(np.float64)
    centered = embeddings - embeddings.mean(axis=0)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    components = components[:2]
    # SVD signs are arbitrary: fix them so that a retrain does not mirror the map for nothing.
    pivots = np.abs(components).argmax(axis=1)
    components = components * np.sign(components[np.arange(len(components)), pivots])[:, None]
    projected = centered @ components.T
    points = model.items[[MOVIE_ID, TITLE, YEAR, GENRES]].copy()
    points[YEAR] = points[YEAR].astype("Int64")
    points["pc1"] = projected[:, 0]
    points["pc2"] = projected[:, 1] if projected.shape[1] > 1 else 0.0
    points["main genre"] = main_genre(points[GENRES])
    return points


def embedding_map(model: Recommender) -> pd.DataFrame:
    return embedding_map_cached(*_key_of(model))


@dataclass(frozen=True)
class Overview:
    """The data set in numbers and the lab's two tables."""

    numbers: dict[str, Any]
    top_rated: pd.DataFrame  # movieId, num ratings, ave rating, title, genres
    by_genre: pd.DataFrame  # genre, num movies, ave rating/genre, ratings per genre
    rating_counts: pd.DataFrame  # stars, ratings
    fingerprint: str | None = None  # the dataset's, when read from a dataset


def overview_of(ratings: pd.DataFrame, movies: pd.DataFrame, top: int = 10) -> Overview:
    """Counts and tables from ratings (userId, movieId, rating) and movies (movieId,
    title, genres). Vectorised: per-genre sums are one matrix product."""
    per_movie = ratings.groupby(MOVIE_ID)[RATING].agg(["size", "sum"])
    movie_ids = movies[MOVIE_ID].to_numpy()
    counts = per_movie["size"].reindex(movie_ids).fillna(0).to_numpy()
    sums = per_movie["sum"].reindex(movie_ids).fillna(0).to_numpy()
    flags = genre_flags(movies[GENRES]).astype(np.float64)  # [n_movies, 14]
    genre_ratings = counts @ flags
    with np.errstate(invalid="ignore", divide="ignore"):
        genre_mean = np.where(genre_ratings > 0, (sums @ flags) / genre_ratings, np.nan)
    by_genre = pd.DataFrame(
        {
            "genre": list(GENRE_LIST),
            "num movies": flags.sum(axis=0).astype("int64"),
            "ave rating/genre": genre_mean,
            "ratings per genre": genre_ratings.astype("int64"),
        }
    )
    rated = movies[[MOVIE_ID, TITLE, GENRES]].assign(
        **{NUM_RATINGS: counts.astype("int64")},
        **{AVE_RATING: np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)},
    )
    top_rated = rated.sort_values([NUM_RATINGS, MOVIE_ID], ascending=[False, True]).head(top)
    top_rated = top_rated[[MOVIE_ID, NUM_RATINGS, AVE_RATING, TITLE, GENRES]].reset_index(drop=True)
    stars = ratings[RATING].round(1).value_counts().sort_index()
    rating_counts = pd.DataFrame({"stars": stars.index.astype(float), "ratings": stars.to_numpy()})
    years = pd.to_numeric(movies[YEAR], errors="coerce") if YEAR in movies else pd.Series([])
    n_users, n_movies = int(ratings[USER_ID].nunique()), int(len(movies))
    numbers = {
        "ratings": int(len(ratings)),
        "users": n_users,
        "movies": n_movies,
        "rated movies": int((counts > 0).sum()),
        "mean rating": float(ratings[RATING].mean()) if len(ratings) else math.nan,
        "years": (int(years.min()), int(years.max())) if years.notna().any() else None,
        "density": len(ratings) / max(n_users * n_movies, 1),
    }
    return Overview(numbers, top_rated, by_genre, rating_counts)


def data_stamp(path: Path) -> tuple[tuple[int, int], ...]:
    """(mtime, size) of the dataset's files: a cheap cache key that changes with them."""
    files = [path] if path.is_file() else [path / "ratings.csv", path / "movies.csv"]
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in files)


@st.cache_data(max_entries=2, show_spinner="Reading the dataset…")
def dataset_overview_cached(data_path: str, stamp: tuple) -> Overview:
    dataset = load_movielens(data_path)
    return replace(overview_of(dataset.ratings, dataset.movies), fingerprint=dataset.fingerprint)


def dataset_overview(data_path: Path) -> Overview:
    """Overview of the whole dataset (read once per file change). Raises DataError."""
    return dataset_overview_cached(str(data_path), data_stamp(data_path))


@st.cache_data(max_entries=4, show_spinner=False)
def model_overview_cached(bundle_path: str, manifest_hash: str) -> Overview:
    model = load_recommender_cached(bundle_path, manifest_hash)
    return overview_of(model.ratings, model.items)


def model_overview(model: Recommender) -> Overview:
    """Overview of the model's training subset (the ratings and movies it kept)."""
    return model_overview_cached(*_key_of(model))


def warn_if_stale(model: Recommender, overview: Overview) -> None:
    """Say so when the served model was trained on other data than the dataset shown."""
    if overview.fingerprint is None:
        return
    try:
        check_fresh(model.manifest, data_fingerprint=overview.fingerprint)
    except StaleBundleError as err:
        st.warning(
            f"{md_escape(error_text(err))}: the model's predictions are from that data. "
            "Retrain on the Model page to use this dataset.",
            icon=":material/history:",
        )


def bracket_untrained(columns: Iterable[str], untrained: Iterable[str]) -> dict[str, str]:
    """Renames that put the columns not fed to the network in brackets, as the lab did."""
    skip = set(untrained)
    return {c: f"[{c}]" for c in columns if c in skip}


def training_preview(model: Recommender, rows: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first training rows: (user vectors, item vectors + target stars), unscaled.

    Rows are the model's kept ratings in order, joined to their user and item vectors
    (before the genre balancing repeats some of them). Untrained columns are bracketed.
    """
    first = model.ratings.head(rows)
    user_rows = pd.Index(model.users[USER_ID].astype("int64")).get_indexer(first[USER_ID])
    item_rows = pd.Index(model.items[MOVIE_ID].astype("int64")).get_indexer(first[MOVIE_ID])
    users = model.users.iloc[user_rows][list(USER_VECTOR_COLUMNS)].reset_index(drop=True)
    users = users.astype({USER_ID: "int64", "rating count": "int64"})
    items = model.items.iloc[item_rows][list(ITEM_VECTOR_COLUMNS)].reset_index(drop=True)
    items = items.astype({MOVIE_ID: "int64"})
    items[YEAR] = items[YEAR].round().astype("Int64")
    items["target y (stars)"] = first[RATING].to_numpy(dtype=float)
    users = users.rename(columns=bracket_untrained(users.columns, USER_NOT_TRAINED))
    items = items.rename(columns=bracket_untrained(items.columns, ITEM_NOT_TRAINED))
    return users, items


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
    items = load_recommender_cached(bundle_path, manifest_hash).items
    titles = items[TITLE].astype(str)
    repeated = titles.duplicated(keep=False)
    labels = titles.where(~repeated, titles + " · #" + items[MOVIE_ID].astype(str))
    order = np.argsort(labels.str.lower().to_numpy(), kind="stable")
    ids = items[MOVIE_ID].to_numpy()[order]
    return {int(m): str(t) for m, t in zip(ids, labels.to_numpy()[order], strict=True)}


def user_labels(model: Recommender) -> dict[int, str]:
    return _user_labels_cached(*_key_of(model))


@st.cache_data(max_entries=4, show_spinner=False)
def _user_labels_cached(bundle_path: str, manifest_hash: str) -> dict[int, str]:
    users = load_recommender_cached(bundle_path, manifest_hash).user_summary()
    counts = users["rating count"]
    labels = (
        "user "
        + users[USER_ID].astype(str)
        + " · "
        + counts.astype(str)
        + np.where(counts == 1, " rating", " ratings")
        + " · mean "
        + users["rating ave"].map("{:.1f}".format)
        + " ★"
    )
    return dict(zip(users[USER_ID].astype(int), labels, strict=True))


def most_rated_movie(model: Recommender) -> int:
    return int(model.items[MOVIE_ID].iat[int(model.items[NUM_RATINGS].to_numpy().argmax())])


def year_bounds(model: Recommender) -> tuple[int, int]:
    years = model.items[YEAR].to_numpy(dtype=float)
    if not np.isfinite(years).any():
        return (0, 0)
    return int(np.nanmin(years)), int(np.nanmax(years))


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
    bounds = year_bounds(model)
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
    bounds = year_bounds(model)
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
    keep_choice(SM_MOVIE, labels, most_rated_movie(model))
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


# ---------------------------------------------------------------------------- charts


# One label per genre: Vega otherwise drops every other one when bars are close.
_ALL_LABELS = alt.Axis(labelOverlap=False, labelLimit=140)


def rating_distribution_chart(rating_counts: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(rating_counts, title="How the ratings are spread")
        .mark_bar()
        .encode(
            x=alt.X("stars:O", title="stars", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("ratings:Q", title="ratings"),
            tooltip=[alt.Tooltip("stars:Q"), alt.Tooltip("ratings:Q", format=",")],
        )
        .properties(height=300)
    )


def genre_bar_chart(
    table: pd.DataFrame, value: str, title: str, value_format: str = ","
) -> alt.Chart:
    """Horizontal bars, one per genre, in the lab's genre order."""
    return (
        alt.Chart(table, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("genre:N", sort=list(GENRE_LIST), title=None, axis=_ALL_LABELS),
            x=alt.X(f"{value}:Q", title=value),
            tooltip=[alt.Tooltip("genre:N"), alt.Tooltip(f"{value}:Q", format=value_format)],
        )
        .properties(height=400)
    )


def genre_averages_chart(genre_averages: pd.Series) -> alt.Chart:
    table = pd.DataFrame(
        {"genre": genre_averages.index, "average stars": genre_averages.to_numpy()}
    )
    table["rated"] = np.where(table["average stars"] > 0, "rated", "not rated")
    return (
        alt.Chart(table, title="The user's average rating per genre (0 = none rated)")
        .mark_bar()
        .encode(
            y=alt.Y("genre:N", sort=list(GENRE_LIST), title=None, axis=_ALL_LABELS),
            x=alt.X("average stars:Q", scale=alt.Scale(domain=[0, MAX_STARS])),
            tooltip=[alt.Tooltip("genre:N"), alt.Tooltip("average stars:Q", format=".2f")],
        )
        .properties(height=400)
    )


def predicted_vs_actual_chart(rated: pd.DataFrame) -> alt.LayerChart:
    """Each rated movie at (actual, predicted) stars, with the y = x line."""
    points = rated[[TITLE, ACTUAL, PREDICTED, ERROR]]
    axis_scale = alt.Scale(domain=[0, MAX_STARS], padding=10)  # padding: 5-star dots stay whole
    dots = (
        alt.Chart(points, title="Predicted against actual stars")
        .mark_circle(size=70, opacity=0.6)
        .encode(
            x=alt.X(f"{ACTUAL}:Q", scale=axis_scale, title="actual stars"),
            y=alt.Y(f"{PREDICTED}:Q", scale=axis_scale, title="predicted stars"),
            tooltip=[
                alt.Tooltip(f"{TITLE}:N"),
                alt.Tooltip(f"{ACTUAL}:Q", format=".1f"),
                alt.Tooltip(f"{PREDICTED}:Q", format=".2f"),
                alt.Tooltip(f"{ERROR}:Q", format="+.2f"),
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"a": [0.0, MAX_STARS], "b": [0.0, MAX_STARS]}))
        .mark_line(strokeDash=[6, 4], color="gray")
        .encode(x="a:Q", y="b:Q")
    )
    return (diagonal + dots).properties(height=380)


def embedding_chart(points: pd.DataFrame, picked: int, neighbours: Iterable[int]) -> alt.LayerChart:
    """All movies on the first two principal components, by main genre; the picked movie
    (black diamond) and its neighbours (ringed) stand out."""
    neighbour_ids = list(neighbours)
    tooltip = [
        alt.Tooltip(f"{TITLE}:N"),
        alt.Tooltip(f"{YEAR}:Q", format="d"),
        alt.Tooltip(f"{GENRES}:N"),
        alt.Tooltip("main genre:N"),
    ]
    x = alt.X("pc1:Q", title="first principal component")
    y = alt.Y("pc2:Q", title="second principal component")
    dots = (
        alt.Chart(points)
        .mark_circle(size=28, opacity=0.55)
        .encode(
            x=x,
            y=y,
            color=alt.Color("main genre:N", scale=alt.Scale(scheme="tableau20")),
            tooltip=tooltip,
        )
    )
    near = (
        alt.Chart(points[points[MOVIE_ID].isin(neighbour_ids)])
        .mark_point(size=150, filled=False, strokeWidth=2, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    chosen = points[points[MOVIE_ID] == picked]
    pick = (
        alt.Chart(chosen)
        .mark_point(shape="diamond", size=320, filled=True, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    # The label points inwards, so that it is not cut at the plot's edge.
    on_right = bool(len(chosen)) and float(chosen["pc1"].iat[0]) > float(points["pc1"].median())
    label = (
        alt.Chart(chosen)
        .mark_text(
            align="right" if on_right else "left", dx=-12 if on_right else 12, fontWeight="bold"
        )
        .encode(x=x, y=y, text=f"{TITLE}:N")
    )
    return (dots + near + pick + label).properties(height=520).interactive()


def loss_chart(history: Mapping[str, Any]) -> alt.Chart | None:
    """Loss per epoch (MSE in the scaled [-1, 1] units), with validation loss if any."""
    series = {
        name: values
        for name, values in history.items()
        if name in ("loss", "val_loss") and isinstance(values, list) and values
    }
    if not series:
        return None
    frames = [
        pd.DataFrame({"epoch": np.arange(1, len(v) + 1), "MSE (scaled)": v, "series": name})
        for name, v in series.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return (
        alt.Chart(table, title="Loss per epoch")
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("MSE (scaled):Q", scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None),
            tooltip=["epoch:Q", "series:N", alt.Tooltip("MSE (scaled):Q", format=".4f")],
        )
        .properties(height=320)
    )


# ---------------------------------------------------------------------------- model page


def architecture_table(manifest: Mapping[str, Any]) -> pd.DataFrame:
    rows = manifest.get("architecture") or []
    table = pd.DataFrame(rows, columns=["tower", "layer", "kind", "activation", "units", "params"])
    table["units"] = pd.to_numeric(table["units"], errors="coerce").astype("Int64")
    table["params"] = pd.to_numeric(table["params"], errors="coerce").fillna(0).astype("int64")
    return table


def _mean(value: Any) -> float:
    if isinstance(value, Mapping):
        value = value.get("mean")
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _std(value: Any) -> float:
    return _mean(value.get("std")) if isinstance(value, Mapping) else math.nan


def evaluation_tables(result: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(means, stds or None): one row per model, one column per metric."""
    models = result.get("models") or {}
    means = pd.DataFrame(
        {name: {m: _mean(v) for m, v in metrics.items()} for name, metrics in models.items()}
    ).T
    stds = pd.DataFrame(
        {name: {m: _std(v) for m, v in metrics.items()} for name, metrics in models.items()}
    ).T
    means.index.name = stds.index.name = "model"
    has_std = bool(stds.notna().to_numpy().any())
    return means.reset_index(), (stds.reset_index() if has_std else None)


def evaluation_chart(means: pd.DataFrame, metric: str) -> alt.Chart:
    table = means[["model", metric]].dropna()
    table = table.assign(ours=np.where(table["model"] == "two_tower", "two-tower", "baseline"))
    return (
        alt.Chart(table, title=f"{metric} by model")
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort="-x" if metric not in ("rmse", "mae") else "x", title=None),
            x=alt.X(f"{metric}:Q"),
            color=alt.Color("ours:N", title=None, scale=alt.Scale(range=["#9aa5b1", "#e4572e"])),
            tooltip=["model:N", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
        .properties(height=260)
    )


def evaluation_api() -> Any | None:
    """recsys.evaluate when it exists (it is written separately), else None."""
    try:
        from recsys import evaluate
    except ImportError:
        return None
    return evaluate


def saved_evaluation(artifacts: Path) -> dict | None:
    """The latest saved evaluation, or None (no module yet, or none saved)."""
    module = evaluation_api()
    loader = getattr(module, "load_evaluation", None)
    if loader is None:
        return None
    return loader(artifacts)


# ---------------------------------------------------------------------------- background jobs


@dataclass
class Job:
    """A training or evaluation running in a thread; the UI polls it.

    Work runs outside the script thread so that leaving the page, or a rerun, never
    interrupts it; every session that looks sees the same job.
    """

    kind: str
    label: str
    done: float = 0.0
    total: float = 0.0
    text: str = "starting"
    error: str | None = None
    result: Any = None
    started: float = field(default_factory=time.time)
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def fraction(self) -> float:
        if self.finished.is_set():
            return 1.0
        return min(max(self.done / self.total, 0.0), 1.0) if self.total > 0 else 0.0

    def describe(self) -> str:
        elapsed = time.time() - self.started
        return f"{self.label}: {self.text} ({elapsed:.0f} s)"

    def on_epoch(self, epoch: int, planned: int, logs: Mapping[str, Any]) -> None:
        self.done, self.total = float(epoch), float(planned)
        loss = logs.get("loss")
        self.text = f"epoch {epoch}/{planned}" + (f", loss {loss:.4f}" if loss is not None else "")

    def on_status(self, text: str) -> None:
        self.text = str(text)

    def on_progress(self, *args: Any, **kwargs: Any) -> None:
        """Tolerant progress callback: (done, total[, text]), (fraction), or (text)."""
        values = (*args, *kwargs.values())
        numbers = [a for a in values if isinstance(a, int | float) and not isinstance(a, bool)]
        texts = [a for a in values if isinstance(a, str)]
        if len(numbers) >= 2:
            self.done, self.total = float(numbers[0]), float(numbers[1])
        elif len(numbers) == 1 and 0 <= numbers[0] <= 1:
            self.done, self.total = float(numbers[0]), 1.0
        if texts:
            self.text = texts[0]


class _Jobs:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[tuple[str, str], Job] = {}


@st.cache_resource
def _job_registry() -> _Jobs:
    """Process-wide: one job of each kind per artifacts folder."""
    return _Jobs()


def latest_job(kind: str, artifacts: Path | None = None) -> Job | None:
    key = (kind, str((artifacts or artifacts_dir()).resolve()))
    return _job_registry().jobs.get(key)


def start_job(
    kind: str, label: str, work: Callable[[Job], Any], artifacts: Path | None = None
) -> Job:
    """Start ``work(job)`` in a thread unless a job of this kind is already running."""
    registry = _job_registry()
    key = (kind, str((artifacts or artifacts_dir()).resolve()))
    with registry.lock:
        job = registry.jobs.get(key)
        if job is not None and job.running:
            return job
        job = Job(kind=kind, label=label)
        registry.jobs[key] = job
    threading.Thread(target=_run_job, args=(job, work), name=f"recsys-{kind}", daemon=True).start()
    return job


def _run_job(job: Job, work: Callable[[Job], Any]) -> None:
    try:
        job.result = work(job)
    except known_errors() as err:
        job.error = error_text(err)
    except Exception as err:  # noqa: BLE001 - a thread must report its failure, not die silently
        job.error = f"{type(err).__name__}: {error_text(err)}"
    finally:
        job.finished.set()


def follow_job(job: Job, poll_seconds: float = 0.25) -> None:
    """A progress bar and status line that follow ``job`` until it ends."""
    bar = st.progress(job.fraction, text=md_escape(job.describe()))
    while not job.finished.wait(poll_seconds):
        bar.progress(job.fraction, text=md_escape(job.describe()))
    bar.progress(1.0, text=md_escape(job.describe()))


def train_work(config: TrainConfig, data_path: Path, artifacts: Path) -> Callable[[Job], Any]:
    def work(job: Job) -> Any:
        from recsys.train import train_bundle  # TensorFlow is imported here, only to train

        job.total = float(config.epochs)
        job.on_status("reading the data")
        dataset = load_movielens(data_path)
        return train_bundle(dataset, config, artifacts, progress=job.on_epoch, status=job.on_status)

    return work


def start_training(config: TrainConfig) -> Job:
    artifacts = artifacts_dir()
    label = f"Training ({config.recipe} recipe, {config.preset} preset, {config.epochs} epochs)"
    work = train_work(config, resolve_data_path(None), artifacts)
    return start_job("train", label, work, artifacts)


def evaluation_work(preset: str, recipe: str, artifacts: Path) -> Callable[[Job], Any]:
    def work(job: Job) -> Any:
        module = evaluation_api()
        job.on_status("reading the data")
        dataset = load_movielens(resolve_data_path(None))
        job.on_status("evaluating")
        result = module.run_evaluation(
            dataset,
            protocol="holdout",
            preset=preset,
            recipe=recipe,
            seeds=1,
            progress=job.on_progress,
        )
        module.save_evaluation(artifacts, result)
        return result

    return work


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
    job = latest_job("train")
    if job is not None and job.running:
        follow_job(job)
        st.rerun()
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
    module = evaluation_api()
    if module is None:
        st.caption("The evaluation module is not installed yet.")
        return
    try:
        result = saved_evaluation(artifacts_dir())
    except known_errors() as err:
        show_error(err)
        result = None
    if result:
        _show_evaluation(result)
    else:
        st.info("No evaluation saved yet.", icon=":material/science:")
    job = latest_job("evaluate")
    if job is not None and job.running:
        follow_job(job)
        st.rerun()
    if job is not None and job.error:
        show_error(job.error)
    if hasattr(module, "run_evaluation") and st.button(
        "Run a new evaluation", icon=":material/science:", key="run_evaluation"
    ):
        start_job("evaluate", "Evaluation", evaluation_work(preset, "fast", artifacts_dir()))
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
    job = latest_job("train")
    if job is not None and job.running:
        follow_job(job)
        st.rerun()
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
    source = "set by RECSYS_DATA" if os.environ.get("RECSYS_DATA") else "the default place"
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


_DATASET_FILES = ("ratings.csv", "movies.csv", "README.txt", "links.csv", "tags.csv")


def install_dataset(content: bytes, target: Path, upload_name: str = "upload.zip") -> Path:
    """Validate an uploaded MovieLens zip and put it where the app looks for data.

    The zip is checked by ``load_movielens`` (entries, zip-bomb caps, every row). A
    ``.zip`` target gets the file; a folder target gets only the known files, copied by
    their base name, so no entry can write outside it. Raises DataError.
    """
    if len(content) > UPLOAD_CAP_MB * 1024 * 1024:
        raise DataError(upload_name, f"is over the {UPLOAD_CAP_MB} MB upload cap")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".upload-", suffix=".zip", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        try:
            load_movielens(tmp)
        except DataError as err:
            raise DataError(upload_name, str(err).replace(str(tmp), upload_name)) from None
        if target.suffix.lower() == ".zip":
            os.replace(tmp, target)
        else:
            _unpack(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _unpack(zip_path: Path, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            check_zip_members(zip_path, archive, MAX_UNPACKED_BYTES)
            for wanted in _DATASET_FILES:
                matches = [n for n in archive.namelist() if PurePosixPath(n).name == wanted]
                if matches:
                    member = min(matches, key=lambda n: (n.count("/"), n))
                    with archive.open(member) as src, open(staging / wanted, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        target.mkdir(parents=True, exist_ok=True)
        for path in staging.iterdir():
            os.replace(path, target / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------- sidebar


def _number(value: float, spec: str) -> str:
    return format(value, spec) if math.isfinite(value) else "–"


def metric_value(metrics: Mapping[str, Any], name: str, spec: str) -> str:
    """A manifest metric formatted with ``spec``, or "–" when missing or not a number."""
    return _number(_mean(metrics.get(name)), spec)


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
