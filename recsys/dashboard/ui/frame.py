"""What every page shares: page config, the pages list, the served model or the screen
that says why there is none (first start, a refused bundle, no dataset), and the sidebar.

A small fragment in the sidebar checks the bundle key every 15 s and reruns an idle
session when it changed, so a retrain anywhere is served everywhere without a click.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from recsys.dashboard.jobs import JobBusyError, training_estimate
from recsys.dashboard.tables import model_facts
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui import accuracy
from recsys.dashboard.ui.access import authorized, may_operate
from recsys.dashboard.ui.cache import artifacts_dir, bundle_key, current_model
from recsys.dashboard.ui.frame_link import (
    note_unknown_address,
    read_frame_link,
    write_frame_link,
)
from recsys.dashboard.ui.jobs import follow_job, job_panel, latest_job, start_training
from recsys.dashboard.ui.widgets import PRESENT, show_error
from recsys.dataset.download import UPLOAD_CAP_MB, install_dataset
from recsys.dataset.movielens import dataset_present
from recsys.errors import BundleError, MissingBundleError, known_errors
from recsys.model.bundle import trained_models
from recsys.model.kinds import KINDS, default_training, training_label
from recsys.serving.recommender import Recommender
from recsys.settings import data_path_source, resolve_data_path

# ---------------------------------------------------------------------------- routing

_router = threading.local()
SERVED = "served_model"  # the sidebar's model switch
MODEL_LABELS = {kind.name: kind.label for kind in KINDS.values()}
PRESENTER_CSS = Path(__file__).with_name("presenter.css")  # static project text, never data
NO_PRESENTER_CSS = Path(__file__).with_name("no_presenter.css")  # its place when off
_PRESENTER_DRAWN = "_presenter_drawn"  # the mode the page was last drawn in
_REDRAW = "_redraw_page"  # the mode changed: draw the page once more when this run ends
_DEEPER = "_page_deeper"  # the page runs one container deeper (flipped by each redraw)
BASE_CSS = Path(__file__).with_name("base.css")  # the same, on every page in every mode


@contextmanager
def routing() -> Iterator[None]:
    """Marks the script thread while dashboard.py (the router) runs a page; the model
    the frame resolves (``draw``) is then the page's too, once per rerun."""
    _router.active, _router.model = True, None
    try:
        yield
    finally:
        _router.active, _router.model = False, None


def app_pages() -> list[Any]:
    """The dashboard's pages, in menu order (files relative to dashboard.py)."""
    return [
        # The default page is served at "/" whatever its url_path; "home" frees
        # "/overview" for the hidden entry below, so a typed or old link opens it too.
        st.Page(
            "pages/overview.py",
            title="Overview",
            icon=":material/insights:",
            default=True,
            url_path="home",
        ),
        st.Page("pages/new_user.py", title="New user", icon=":material/tune:"),
        st.Page("pages/existing_user.py", title="Existing user", icon=":material/person:"),
        st.Page("pages/similar_movies.py", title="Similar movies", icon=":material/hub:"),
        st.Page("pages/explore.py", title="Explore", icon=":material/travel_explore:"),
        st.Page("pages/model.py", title="Model", icon=":material/neurology:"),
        st.Page("pages/tour.py", title="Tour", icon=":material/co_present:"),
        st.Page("pages/overview.py", title="Overview", url_path="overview", visibility="hidden"),
    ]


def page_config() -> None:
    # An emoji favicon is drawn by the browser from a data: URL; a :material/…: one
    # would be fetched from fonts.gstatic.com, telling an outside host who opens the app.
    st.set_page_config(page_title="Movie recommender", page_icon="🎬", layout="wide")


def draw() -> Recommender:
    """The served model (or the screen that explains why there is none, then stop) and
    the sidebar."""
    note_unknown_address(page.url_path for page in app_pages())
    read_frame_link(SERVED)
    model = _model_or_stop()
    _router.model = model  # the page's model for this rerun (``require_model``)
    sidebar(model)
    st.html(BASE_CSS)
    present = bool(st.session_state.get(PRESENT))
    # One sheet in one place, replaced both ways: a presenter sheet left from the last
    # run would keep its larger root font through a run that turned the mode off.
    if present:
        st.html(PRESENTER_CSS)
    else:
        st.html(NO_PRESENTER_CSS)
    if st.session_state.get(_PRESENTER_DRAWN, False) != present:
        # A table reads its font size once, when first drawn, and a table drawn in the
        # same paint as the style sheet keeps the old size. When the mode changes (a
        # link, the sidebar's toggle), the page is drawn once more when this run ends,
        # one level deeper (``page_body``), so every table is drawn anew after the sheet.
        st.session_state[_PRESENTER_DRAWN] = present
        st.session_state[_REDRAW] = True
    write_frame_link(model.model_kind)
    return model


@contextmanager
def page_body() -> Iterator[None]:
    """Where a page runs. After a change of presenter mode the page is drawn twice, the
    second time one container deeper: the browser keeps an element without an identity
    of its own (a plain table) where it stands, even inside a container whose key
    changed, but draws anew an element whose place in the tree changed, and the new
    table reads the new font size."""
    deeper = st.session_state.get(_DEEPER, False)
    with st.container(key="page"):
        if deeper:
            with st.container(key="page_deeper"):
                yield
        else:
            yield
    if st.session_state.pop(_REDRAW, False):
        st.session_state[_DEEPER] = not deeper
        st.rerun()


def require_model() -> Recommender:
    """The served Recommender, for a page. Pages call this first.

    Under dashboard.py (``routing``) the frame is already drawn, and its model is the
    page's: the pointer and manifest are read once per rerun. A page script run on
    its own (``streamlit run pages/x.py``, AppTest) draws the router's menu and the
    frame here.
    """
    if getattr(_router, "active", False):
        drawn = getattr(_router, "model", None)
        return drawn if drawn is not None else _model_or_stop()
    page_config()
    st.navigation(app_pages())
    return draw()


def _model_or_stop() -> Recommender:
    """The served Recommender, or, when there is none that can be used, the screen that
    says why and how to get one (train on first start, upload data, retrain), then stop."""
    try:
        return current_model(chosen_model())
    except MissingBundleError:
        first_start()
    except BundleError as err:
        refuse_bundle(err)
    except known_errors() as err:
        show_error(err, "Check that the artifacts folder (RECSYS_ARTIFACTS) can be read.")
    st.stop()
    raise AssertionError("st.stop() returned")  # for type checkers; never reached


# ---------------------------------------------------------------------------- no model yet


def first_start() -> None:
    """No bundle yet: train one from the dataset, or say how to get the dataset.

    The default training starts for whoever opens the app first, a visitor from
    another machine too: the operator who started a server without a model asked for
    it, and it takes no setting from the visitor. Trying again after a failure, and
    uploading a dataset, are the operator's (``recsys.dashboard.access``).
    """
    st.title("Movie recommender")
    data_path = resolve_data_path(None)
    if not dataset_present(data_path):
        dataset_missing(data_path)
        return
    job = latest_job("train")
    # A dataset installed after the last (failed) training gets a fresh one: its error
    # was about the old data.
    uploaded = st.session_state.pop(_UPLOADED, False)
    stale = job is not None and not job.running and _data_changed_since(data_path, job.started)
    if (
        job is None
        or uploaded
        or stale
        or (not job.running and not job.error and not _has_bundle())
    ):
        try:
            job = start_training(default_training())
        except JobBusyError as err:
            show_error(err)
            return
    if job.running:
        st.info(
            f"No trained model yet, so the app is training {training_label(default_training())} "
            f"now{_took(data_path)}. It is saved, so this happens once.",
            icon=":material/model_training:",
        )
        follow_job(job)
    if job.error:
        show_error(job.error, "Fix the problem (or upload the zip again), then press Try again.")
        if not may_operate("Training again or uploading data", sign_in=True):
            return
        if st.button("Try again", type="primary", key="first_start_retry"):
            _retrain_now()
        upload_form(data_path)
        return
    _evaluate_first_model()
    st.rerun()


def _evaluate_first_model() -> None:
    """The first model gets its leak-free evaluation in the background."""
    try:
        accuracy.evaluate_in_background(current_model(chosen_model()).manifest)
    except known_errors():
        return  # no servable bundle: the next run says why


def _took(data_path: Path) -> str:
    estimate = training_estimate(default_training(), data_path)
    return f" ({estimate})" if estimate else ""


_UPLOADED = "_dataset_uploaded"  # set by a successful upload: train on the new data
_INSTALLED = "_dataset_installed"  # the file_id of the upload installed last


def _data_changed_since(data_path: Path, started: float) -> bool:
    """Whether the dataset's files were written after ``started`` (seconds since the
    epoch): an upload from any session replaced them."""
    paths = (
        [data_path]
        if data_path.is_file()
        else [data_path / "ratings.csv", data_path / "movies.csv"]
    )
    try:
        return max(p.stat().st_mtime for p in paths) > started
    except (OSError, ValueError):
        return False


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
    allowed = may_operate("Retraining", sign_in=True)
    job = job_panel("train", cancel=allowed)
    if job is not None and job.running:
        return
    if job is not None and job.error:
        show_error(job.error)
    if not dataset_present(resolve_data_path(None)):
        dataset_missing(resolve_data_path(None), upload=allowed)
        return
    if not allowed:
        return
    retrain = st.button(
        "Retrain now", type="primary", icon=":material/model_training:", key="retrain_refused"
    )
    if retrain:
        _retrain_now()


def _retrain_now() -> None:
    """The operator's retrain of the default model (checked again), then rerun."""
    if not authorized("Training"):
        return
    try:
        start_training(default_training(), requested=True)
    except JobBusyError as err:
        show_error(err)
        return
    st.rerun()


def dataset_missing(data_path: Path, upload: bool | None = None) -> None:
    """How to get the dataset, and, for the operator, an uploader for the MovieLens zip
    (``upload``: whether this visitor may; None: ask)."""
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
    if upload is None:
        upload = may_operate("Uploading a dataset", sign_in=True)
    if upload:
        upload_form(data_path)


def upload_form(data_path: Path) -> None:
    """An uploader for the MovieLens zip; a good one is installed at ``data_path`` and
    trained on at the next run."""
    uploaded = st.file_uploader(
        f"MovieLens zip (at most {UPLOAD_CAP_MB} MB)",
        type="zip",
        key="dataset_zip",
        max_upload_size=UPLOAD_CAP_MB,
    )
    # The widget keeps its file across reruns: install each upload once.
    if uploaded is None or st.session_state.get(_INSTALLED) == uploaded.file_id:
        return
    if not authorized("Uploading a dataset"):
        return
    try:
        target = install_dataset(uploaded.getvalue(), data_path, uploaded.name)
    except (*known_errors(), OSError) as err:  # OSError: the target cannot be written
        show_error(err, "Upload the zip as GroupLens publishes it (ml-latest-small.zip).")
        return
    st.success(f"Saved the dataset to {md_escape(target.name)}. Training starts now.")
    st.session_state[_UPLOADED] = True
    st.session_state[_INSTALLED] = uploaded.file_id
    st.rerun()


# ---------------------------------------------------------------------------- sidebar


def _created(manifest: Mapping[str, Any]) -> str:
    """When the bundle was made, in UTC, and how long ago."""
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


def chosen_model() -> str | None:
    """The model this session chose in the sidebar, while it is trained; else None
    (the default: the hybrid when trained)."""
    choice = st.session_state.get(SERVED)
    try:
        return choice if choice in trained_models(artifacts_dir()) else None
    except OSError:
        return None


def model_switch(model: Recommender) -> None:
    """With both models trained, which one this session is served (the others keep
    theirs)."""
    trained = trained_models(artifacts_dir())
    if len(trained) < 2:
        return
    if st.session_state.get(SERVED) not in trained:
        st.session_state[SERVED] = model.model_kind
    st.segmented_control(
        "Served to you",
        trained,
        format_func=MODEL_LABELS.get,
        key=SERVED,
        required=True,
        help="Both models are trained: switch to compare them on every page. Other "
        "visitors keep their own choice.",
    )


def sidebar(model: Recommender) -> None:
    """Data source, and the bundle's creation time, preset and test metrics."""
    manifest = model.manifest
    counts = manifest.get("counts", {})
    data_path = resolve_data_path(None)
    trained_on = Path(str(manifest.get("data", {}).get("source", "?"))).name
    with st.sidebar:
        st.toggle(
            "Presenter mode",
            key=PRESENT,
            help="Larger text and charts, darker captions, no empty band at the top: for "
            "a projector. The link keeps it (present=1).",
            persist_state="session",
        )
        st.subheader("Model", divider="gray")
        model_switch(model)
        st.caption(f"Trained {md_escape(_created(manifest))}")
        facts = model_facts(manifest)
        st.caption(md_escape(facts.setup), help=facts.setup_help)
        accuracy.sidebar_lines(model)
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
        key = bundle_key(model=chosen_model())
    except known_errors():
        return
    if key.digest != served_digest:
        st.rerun(scope="app")
