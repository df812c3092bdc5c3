"""The dashboard, page by page, through Streamlit's AppTest (no browser).

Bundles are trained once per process (tests/e2e/app_data.py): a quick one on the real
data (tests that need it skip when RECSYS_DATA is unset) and one on a small synthetic
dataset whose most-rated movies carry hostile titles.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recsys.columns import ACTUAL, GENRES, MOVIE_ID, PREDICTED, TITLE
from recsys.model.bundle import current_bundle
from recsys.serving.recommender import Recommender
from tests.dashboard.apptest import (
    DASHBOARD,
    LOCAL_VISITOR,
    PAGES,
    ROOT,
    TIMEOUT,
    TITLES,
    go,
    ok,
    open_app,
    sidebar_text,
    table,
    texts,
    unescape,
    visit_as,
    wait_for_jobs,
)
from tests.e2e.app_data import (
    MARKDOWN_TITLE,
    XSS_TITLE,
    copy_bundle,
    write_hostile_dataset,
)

CSS_FOLDER = ROOT / "recsys" / "dashboard" / "ui"
OWN_CSS = {f"<style>{css.read_text()}</style>" for css in CSS_FOLDER.glob("*.css")}


def page_params(at: AppTest) -> dict[str, str]:
    """The URL's parameters but those every page carries (the model, presenter mode)."""
    return {k: v for k, v in at.query_params.items() if k not in ("model", "present")}


# ------------------------------------------------------------------ every page


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_runs_with_the_sidebar(hostile_app, page):
    at = hostile_app(page)
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error
    sidebar = sidebar_text(at)
    assert "Trained" in sidebar and "trained on movies of every year" in sidebar
    # No evaluation is saved: the lab split's figure is there, labelled as leaking.
    assert "Not yet measured on held-out ratings" in sidebar
    assert "On the lab's split, which leaks" in sidebar and "Test RMSE" not in sidebar
    assert "lab\\'s network" in sidebar  # the served model is named


@pytest.mark.parametrize("page", ["new_user", "similar_movies"])
def test_a_rerun_resolves_the_served_model_once(hostile_app, monkeypatch, page):
    """The frame and the page share one model per rerun: the pointer and manifest are
    read once, not again when the page asks for its model."""
    from recsys.dashboard.ui import frame

    at = hostile_app(page)
    resolved = []
    current_model = frame.current_model

    def counted(model=None):
        resolved.append(model)
        return current_model(model)

    monkeypatch.setattr(frame, "current_model", counted)
    ok(at.run())
    assert [t.value for t in at.title] == [TITLES[page]]
    assert len(resolved) == 1


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_every_page_runs_on_real_data(real_app):
    at = real_app("overview", {"tab": "most-rated"})
    assert table(at, "num ratings")[TITLE].iloc[0] == "Forrest Gump (1994)"
    for page in PAGES:
        at = go(at, page)
        assert [t.value for t in at.title] == [TITLES[page]]
        assert not at.error


# ------------------------------------------------------------------ new user


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_fantasy_and_adventure_fans_get_those_genres_first(real_app):
    at = real_app("new_user")
    at.button_group(key="nu_preset").set_value("Clear").run()  # every genre back to 0
    at.select_slider(key="genre_Fantasy").set_value(5.0)
    at.select_slider(key="genre_Adventure").set_value(5.0)
    top = table(ok(at.run()), PREDICTED)
    assert len(top) == 10
    assert top[GENRES].head(5).str.contains("Fantasy|Adventure").all(), top[[TITLE, GENRES]]
    assert top[PREDICTED].is_monotonic_decreasing
    assert page_params(at) == {"Adventure": "5", "Fantasy": "5", "top": "10"}


def test_filters_and_top_n(hostile_app):
    at = hostile_app("new_user")
    at.number_input(key="nu_top").set_value(5)
    at.multiselect(key="nu_include").set_value(["Comedy"])
    at.multiselect(key="nu_exclude").set_value(["Drama"])
    top = table(ok(at.run()), PREDICTED)
    assert 0 < len(top) <= 5
    assert top[GENRES].str.contains("Comedy").all()
    assert not top[GENRES].str.contains("Drama").any()
    assert at.query_params["include"] == "Comedy" and at.query_params["top"] == "5"
    download = at.get("download_button")
    assert download, "a CSV download is offered"


def test_sliders_keep_their_values_across_pages(hostile_app):
    at = hostile_app("new_user")
    at.select_slider(key="genre_Horror").set_value(3.5)
    ok(at.run())
    for page in ("overview", "similar_movies", "new_user"):
        at = go(at, page)
    assert at.select_slider(key="genre_Horror").value == 3.5
    assert at.query_params["Horror"] == "3.5"


def test_a_shared_link_restores_the_view(hostile_app):
    at = hostile_app("new_user", {"Comedy": "4.5", "top": "7", "exclude": "Drama,Horror"})
    assert at.select_slider(key="genre_Comedy").value == 4.5
    assert at.select_slider(key="genre_Fantasy").value == 0.0  # not in the link: not rated
    assert at.number_input(key="nu_top").value == 7
    assert at.multiselect(key="nu_exclude").value == ["Drama", "Horror"]
    assert not at.warning
    assert len(table(at, PREDICTED)) == 7


# ------------------------------------------------------------------ junk in the URL


def test_junk_new_user_link_is_clamped_with_a_message(hostile_app):
    at = hostile_app(
        "new_user",
        {
            "Action": "99",
            "Fantasy": "abc",
            "Drama": "nan",
            "Comedy": "3.3",
            "top": "-4",
            "include": "Nope,comedy",
            "years": "zzz",
            "min_ratings": "1e12",
        },
    )
    assert at.select_slider(key="genre_Action").value == 5.0
    assert at.select_slider(key="genre_Fantasy").value == 0.0
    assert at.select_slider(key="genre_Drama").value == 0.0
    assert at.select_slider(key="genre_Comedy").value == 3.5
    assert at.number_input(key="nu_top").value == 1
    assert at.multiselect(key="nu_include").value == ["Comedy"]
    warning = unescape(at.warning[0].value)
    for fragment in ("Action=99", "'abc'", "Nope", "'zzz'", "top=-4", "min_ratings"):
        assert fragment in warning
    assert at.query_params["Action"] == "5"  # the URL now holds the clamped view


@pytest.mark.parametrize(
    ("params", "expected_user", "fragment"),
    [
        ({"user": "999999"}, 2, "999999"),
        ({"user": "abc"}, 2, "abc"),
        ({"user": "-1", "top": "NaN"}, 2, "not a number"),
        ({"user": "3", "top": "1000"}, 3, "using 100"),
    ],
)
def test_junk_user_link_is_answered(hostile_app, params, expected_user, fragment):
    at = hostile_app("existing_user", params)
    assert at.selectbox(key="eu_user").value == expected_user
    assert fragment in unescape(at.warning[0].value)
    assert at.query_params["user"] == str(expected_user)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"movie": "no such film at all"}, "no movie titled"),
        ({"movie": "123456789"}, "no movie with id 123456789"),
        ({"movie": "[x](javascript:alert(1))", "k": "500"}, "using 50"),
        ({"k": "ten"}, "'ten'"),
    ],
)
def test_junk_movie_link_is_answered(hostile_app, params, fragment):
    at = hostile_app("similar_movies", params)
    shown = " ".join(alert.value for alert in (*at.error, *at.warning))
    assert fragment in unescape(shown)
    assert "](" not in shown.replace("\\](", "").replace("\\]\\(", "")  # no live link
    assert 1 <= at.slider(key="sm_k").value <= 50


def test_an_ambiguous_movie_link_is_an_error_naming_the_matches(hostile_app):
    at = hostile_app("similar_movies", {"movie": "Movie"})
    message = unescape(at.error[0].value)
    assert "'Movie' matches" in message and "movies:" in message
    assert "showing" in message


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_a_movie_link_may_name_a_title(real_app):
    at = real_app("similar_movies", {"movie": "Shrek"})
    assert not at.warning
    assert "Shrek \\(2001\\)" in at.subheader[0].value


# ------------------------------------------------------------------ existing user


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_user_2_shows_predicted_and_actual(real_app, real_artifacts):
    at = real_app("existing_user")
    at.selectbox(key="eu_user").set_value(3)
    ok(at.run())
    at.selectbox(key="eu_user").set_value(2)
    rated = table(ok(at.run()), ACTUAL)
    expected = Recommender.load(real_artifacts).for_user(2)
    assert len(rated) == len(expected.rated) > 0
    assert {PREDICTED, ACTUAL, "error"} <= set(rated.columns)
    assert rated[PREDICTED].is_monotonic_decreasing
    assert at.query_params["user"] == "2"
    assert f"{expected.rmse:.3f}" in str([m.value for m in at.metric])
    assert len(at.get("vega_lite_chart")) == 2  # genre averages; predicted vs actual


# ------------------------------------------------------------------ similar movies


@pytest.mark.slow  # trains a quick model on the real data once per session
def test_shrek_lists_its_neighbours(real_app, real_artifacts):
    model = Recommender.load(real_artifacts)
    shrek = model.find_movie("Shrek")
    at = real_app("similar_movies")
    at.selectbox(key="sm_movie").set_value(shrek)
    at.slider(key="sm_k").set_value(8)
    ok(at.run())
    neighbours = table(at, "distance")
    assert len(neighbours) == 8
    assert "Shrek (2001)" not in set(neighbours[TITLE])
    assert neighbours["distance"].is_monotonic_increasing
    assert "Shrek \\(2001\\)" in at.subheader[0].value
    nearest = table(at, "movie1")
    assert len(nearest) == 50  # the lab's table, first 50 shown
    assert page_params(at) == {"movie": str(shrek), "k": "8"}


# ------------------------------------------------------------------ data text is never HTML


def test_hostile_titles_show_as_text(hostile_app, hostile):
    _, _, ids = hostile
    for key, title in (("xss", XSS_TITLE), ("markdown", MARKDOWN_TITLE)):
        at = hostile_app("similar_movies", {"movie": str(ids[key])})
        heading = at.subheader[0].value
        assert unescape(heading).endswith(title)
        assert "<script>" not in heading and "](" not in heading and "**" not in heading
        assert at.selectbox(key="sm_movie").value == ids[key]
    for page in PAGES:
        at = go(at, page)
        assert not any(m.proto.allow_html for m in at.get("markdown")), page
        # The only HTML is the project's own static CSS (see test_app_presenter.py).
        assert all(h.proto.body in OWN_CSS for h in at.get("html")), page


# ------------------------------------------------------------------ damaged bundles


def damage_checksum(bundle: Path) -> None:
    (bundle / "items.csv").write_text("movieId,title\n1,tampered\n")


def damage_manifest(bundle: Path) -> None:
    (bundle / "manifest.json").write_text("{not json")


def damage_schema(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 99}))


def damage_pointer(bundle: Path) -> None:
    (bundle.parent / "CURRENT").write_text("bundle-does-not-exist\n")


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (damage_checksum, "checksum"),
        (damage_manifest, "not valid JSON"),
        (damage_schema, "schema version"),
        (damage_pointer, "missing"),
    ],
)
def test_a_damaged_bundle_is_refused_with_a_retrain_offer(
    monkeypatch, tmp_path, hostile, damage, fragment
):
    data, artifacts, _ = hostile
    copy = copy_bundle(artifacts, tmp_path / "artifacts")
    damage(current_bundle(copy))
    for page in ("overview", "new_user"):
        at = open_app(monkeypatch, copy, data, page)
        assert fragment in unescape(at.error[0].value)
        assert at.button(key="retrain_refused").label == "Retrain now"
        assert not at.get("dataframe")  # nothing is served from the refused bundle


# ------------------------------------------------------------------ no bundle, no data


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"ml-upload/{path.name}")
    return buffer.getvalue()


def test_no_data_says_how_to_get_it_and_an_upload_trains_on_first_start(monkeypatch, tmp_path):
    source = tmp_path / "source"
    write_hostile_dataset(source)
    artifacts, target = tmp_path / "artifacts", tmp_path / "data" / "ml-latest-small"
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(artifacts))
    monkeypatch.setenv("RECSYS_DATA", str(target))
    visit_as(monkeypatch, LOCAL_VISITOR)  # uploading is the operator's
    at = ok(AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT).run())
    assert "No MovieLens data" in at.warning[0].value
    assert "python -m recsys download" in texts(at)

    at.file_uploader(key="dataset_zip").set_value(("junk.zip", b"not a zip", "application/zip"))
    ok(at.run())
    assert "junk.zip" in unescape(at.error[0].value)
    assert not target.exists()

    # A valid zip is unpacked where the app looks, then the first start trains a model.
    upload = ("ml-latest-small.zip", zipped(source), "application/zip")
    at.file_uploader(key="dataset_zip").set_value(upload)
    ok(at.run())
    assert sorted(p.name for p in target.iterdir()) == ["README.txt", "movies.csv", "ratings.csv"]
    current_bundle(artifacts)  # a bundle was trained and made current
    ok(at.run())
    assert [t.value for t in at.title] == ["Overview"]


# ------------------------------------------------------------------ model page


def test_retrain_writes_a_new_bundle_that_is_served(monkeypatch, tmp_path, hostile):
    data, artifacts, _ = hostile
    copy = copy_bundle(artifacts, tmp_path / "artifacts")
    before = current_bundle(copy)
    at = open_app(monkeypatch, copy, data, "model")
    assert "82,240" in str([m.value for m in at.metric])
    next(n for n in at.number_input if n.label == "Epochs").set_value(1)
    next(b for b in at.button if b.label == "Train a new model").click()
    ok(at.run())  # starts the job: a child process
    wait_for_jobs(copy)
    ok(at.run())
    after = current_bundle(copy)
    assert after != before
    assert "New model trained" in texts(at)
    assert "1 epochs" in sidebar_text(at)


def test_model_page_shows_a_saved_evaluation(monkeypatch, tmp_path, hostile):
    from recsys import evaluation as evaluate

    data, artifacts, _ = hostile
    copy = copy_bundle(artifacts, tmp_path / "artifacts")
    metrics = ("rmse", "mae", "precision_at_10", "recall_at_10", "ndcg_at_10", "map_at_10")
    models = {
        name: {
            m: None if name == "popular" and m in ("rmse", "mae") else 0.5 + i / 10
            for m in (*metrics, "coverage")
        }
        for i, name in enumerate(("two_tower", "global_mean", "popular"))
    }
    result = {"protocol": "holdout", "preset": "lab", "counts": {}, "models": models}
    evaluate.save_evaluation(copy, result)
    at = open_app(monkeypatch, copy, data, "model")
    means = table(at, "NDCG@10 (ranking quality, 0–1, higher is better)")
    assert list(means["model"]) == ["Lab's network", "Average rating", "Most popular"]
    assert not [c for c in means.columns if "_" in c]  # no raw metric keys on screen
    assert at.button(key="run_evaluation").label == "Run a new evaluation"
    assert len(at.get("vega_lite_chart")) == 2  # the loss; the evaluation
    # The headline, on the page and in the sidebar, is the saved evaluation's.
    assert "RMSE 0.500 ★ · NDCG@10 0.500 on held-out ratings" in sidebar_text(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["RMSE (stars, lower is better)"] == "0.500 ★"
    assert "On held-out ratings, the lab's network ranks behind all 2 others" in unescape(texts(at))
    # The lab split's figures stay, labelled as leaking.
    assert "On the lab's split, which leaks" in texts(at)
    assert "Lab split: test RMSE (leaks)" in shown and "Test RMSE" not in shown


# ------------------------------------------------------------------ serving stays numpy-only

NO_TF_SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest
from recsys.dashboard.ui.serve import route_apptest_with_navigation
route_apptest_with_navigation()
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
for page in sys.argv[2:]:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def test_rendering_every_page_never_imports_tensorflow(hostile):
    data, artifacts, _ = hostile
    env = {**os.environ, "RECSYS_ARTIFACTS": str(artifacts), "RECSYS_DATA": str(data)}
    result = subprocess.run(
        [sys.executable, "-c", NO_TF_SCRIPT, str(DASHBOARD), *PAGES.values()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"], result.stdout


# ------------------------------------------------------------------ ui helpers


def test_md_escape_makes_markdown_and_html_literal():
    from recsys.dashboard.text import md_escape

    for text in (XSS_TITLE, MARKDOWN_TITLE, "a\nb", ":material/home: $x$"):
        escaped = md_escape(text)
        assert unescape(escaped) == " ".join(text.split())
        assert "<" not in escaped.replace("\\<", "")


def test_csv_download_defuses_formulas():
    import pandas as pd

    from recsys.dashboard.export import csv_bytes

    frame = pd.DataFrame(
        {TITLE: ["=HYPERLINK(1)", "Shrek (2001)"], MOVIE_ID: [1, 2], "error": [-0.5, 0.2]}
    )
    lines = csv_bytes(frame).decode().splitlines()
    assert lines[1].startswith("'=HYPERLINK") and lines[2].startswith("Shrek")
    assert lines[1].endswith("-0.5")  # numbers keep their sign


# ------------------------------------------------------------------ hardening (issue 14)


def test_a_link_in_the_url_is_shown_as_no_link(hostile_app):
    at = hostile_app("existing_user", {"user": "https://evil.example/login"})
    warning = at.warning[0].value
    assert "evil" in warning
    assert "https://" not in warning.replace("\\", "")  # broken by a zero-width space


def test_a_reupload_after_a_failed_training_trains_again(monkeypatch, tmp_path):
    from recsys.dashboard.ui import jobs as ui_jobs
    from recsys.errors import DataError

    attempts: list[int] = []

    def failing_work(config, data_path, artifacts):
        def work(job):
            attempts.append(1)
            raise DataError(data_path, f"training attempt {len(attempts)} failed")

        return work

    monkeypatch.setattr(ui_jobs, "train_work", failing_work)
    source = tmp_path / "source"
    write_hostile_dataset(source)
    target = tmp_path / "data" / "ml-latest-small"
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RECSYS_DATA", str(target))
    visit_as(monkeypatch, LOCAL_VISITOR)  # uploading is the operator's
    at = ok(AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT).run())
    at.file_uploader(key="dataset_zip").set_value(("a.zip", zipped(source), "application/zip"))
    ok(at.run())
    assert "training attempt 1 failed" in unescape(at.error[0].value)
    # The failed first start offers the upload again; a new zip trains again.
    at.file_uploader(key="dataset_zip").set_value(("b.zip", zipped(source), "application/zip"))
    ok(at.run())
    errors = " ".join(unescape(e.value) for e in at.error)
    assert "training attempt 2 failed" in errors and "attempt 1" not in errors
    ok(at.run())  # the same upload is not installed (nor trained on) twice
    assert len(attempts) == 2


def test_a_deeply_nested_manifest_gets_the_retrain_offer(monkeypatch, tmp_path, hostile):
    data, artifacts, _ = hostile
    copy = copy_bundle(artifacts, tmp_path / "artifacts")
    (current_bundle(copy) / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    at = open_app(monkeypatch, copy, data, "overview")
    assert "nested too deeply" in unescape(at.error[0].value)
    assert at.button(key="retrain_refused").label == "Retrain now"


def test_retraining_is_off_when_the_server_listens_beyond_localhost(monkeypatch, tmp_path, hostile):
    from streamlit import config

    data, artifacts, _ = hostile
    copy = copy_bundle(artifacts, tmp_path / "artifacts")
    monkeypatch.delenv("RECSYS_ALLOW_RETRAIN", raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = open_app(monkeypatch, copy, data, "model")
        assert not [b for b in at.button if b.label == "Train a new model"]
        assert "RECSYS_ALLOW_RETRAIN" in texts(at)
        monkeypatch.setenv("RECSYS_ALLOW_RETRAIN", "1")
        at = open_app(monkeypatch, copy, data, "model")
        assert [b for b in at.button if b.label == "Train a new model"]
    finally:
        config.set_option("server.address", before)


# ------------------------------------------------------------------ new user: picked movies


def test_a_picked_movie_is_kept_in_the_link_and_never_recommended(hostile_app):
    at = hostile_app("new_user")
    movie_id = int(table(at, "predicted stars")[MOVIE_ID].iat[0])  # the top movie
    at.selectbox(key="nu_add_movie").set_value(movie_id)
    at.select_slider(key="nu_add_stars").set_value(4.5)
    ok(at.run())
    assert at.query_params["movies"] == f"{movie_id}:4.5"
    assert movie_id not in set(table(at, "predicted stars")[MOVIE_ID])
    assert at.session_state["nu_picks"] == {movie_id: 4.5}
    next(b for b in at.button if b.key == f"nu_pick_{movie_id}").click()  # remove it
    ok(at.run())
    assert "movies" not in at.query_params
    assert movie_id in set(table(at, "predicted stars")[MOVIE_ID])


def test_a_link_restores_picks_and_notes_what_it_ignored(hostile_app, hostile):
    _, _, ids = hostile
    known = ids["xss"]
    at = hostile_app("new_user", {"movies": f"{known}:4.5,999999999:5,abc,{known}:9"})
    assert at.session_state["nu_picks"] == {known: 4.5}
    assert "ignored in movies" in unescape(texts(at))
    assert at.query_params["movies"] == f"{known}:4.5"
    assert known not in set(table(at, "predicted stars")[MOVIE_ID])


# ------------------------------------------------------------------ the hybrid model served


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_serves_the_hybrid_model(monkeypatch, hostile, hybrid_artifacts, page):
    data, _, _ = hostile
    at = open_app(monkeypatch, hybrid_artifacts, data, page)
    assert [t.value for t in at.title] == [TITLES[page]]
    assert not at.error
    assert "hybrid model" in sidebar_text(at)
    if page == "new_user":
        assert "Ranked by how likely" in texts(at)


def charts_and_tables(at: AppTest) -> tuple[int, list[list[str]]]:
    """The run's Altair charts, and each table's columns."""
    return len(at.get("vega_lite_chart")), [list(d.value.columns) for d in at.dataframe]


def test_the_overview_draws_only_its_open_tab_and_keeps_it_in_the_url(hostile_app):
    at = hostile_app()
    labels = ["Start here", "Most rated", "Per genre", "Ratings", "Training data"]
    assert [t.label for t in at.tabs] == labels
    # The first tab: a link to each other page, with what it is for; no table, no chart.
    assert charts_and_tables(at) == (0, [])
    links = [link.proto.page for link in at.get("page_link")]
    assert links == [page for page in PAGES if page != "overview"]  # in the menu's order
    assert page_params(at) == {}  # the first tab needs no parameter

    at.session_state["ov_tab"] = "Most rated"  # the user opens it: the page reruns
    charts, tables = charts_and_tables(ok(at.run()))
    assert charts == 0 and len(tables) == 1 and "num ratings" in tables[0]
    assert page_params(at) == {"tab": "most-rated"}

    at.session_state["ov_tab"] = "Per genre"
    charts, tables = charts_and_tables(ok(at.run()))
    assert charts == 2 and len(tables) == 1 and "ave rating/genre" in tables[0]
    assert page_params(at) == {"tab": "per-genre"}

    at.session_state["ov_tab"] = "Ratings"
    assert charts_and_tables(ok(at.run())) == (1, [])
    at = go(go(at, "explore"), "overview")  # the open tab is kept across pages
    assert at.session_state["ov_tab"] == "Ratings"
    assert charts_and_tables(at) == (1, [])

    at.session_state["ov_tab"] = "Training data"
    charts, tables = charts_and_tables(ok(at.run()))
    assert charts == 0 and len(tables) == 2
    assert any("user" in str(columns).lower() for columns in tables)
    assert any("the rating to predict" in m.value.lower() for m in at.markdown)
    assert page_params(at) == {"tab": "training-data"}


def test_a_link_opens_its_overview_tab_and_an_unknown_tab_is_said(hostile_app):
    at = hostile_app("overview", {"tab": "Ratings"})  # a slug, in any case
    assert at.session_state["ov_tab"] == "Ratings"
    assert charts_and_tables(at) == (1, [])
    assert not at.warning

    at = hostile_app("overview", {"tab": "charts"})
    assert "there is no tab" in at.warning[0].value and "charts" in at.warning[0].value
    assert at.session_state["ov_tab"] == "Start here"
    assert charts_and_tables(at) == (0, [])
    assert page_params(at) == {}  # the URL now says what is shown
