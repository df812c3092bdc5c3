"""The launcher fills the app's caches before the server starts: the first page then
finds the served model and the overviews loaded, and a missing model stops nothing."""

from __future__ import annotations

import pytest

from recsys.dashboard.ui import cache
from recsys.dashboard.ui.serve import route_apptest_with_navigation, warm_caches
from recsys.serving.recommender import Recommender


@pytest.fixture
def fresh_caches():
    for cached in (
        cache.load_recommender_cached,
        cache.dataset_overview_cached,
        cache.model_overview,
    ):
        cached.clear()
    yield
    cache.load_recommender_cached.clear()


def test_warm_caches_loads_what_the_first_page_reads(
    trained_dir, good_data, monkeypatch, fresh_caches
):
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(trained_dir))
    monkeypatch.setenv("RECSYS_DATA", str(good_data))
    warm_caches()

    def no_more_reading(*args, **kwargs):
        raise AssertionError("read again: the cache was not warmed")

    monkeypatch.setattr(Recommender, "load", no_more_reading)
    monkeypatch.setattr(cache, "load_movielens", no_more_reading)
    model = cache.current_model()
    assert len(model.items) > 0
    assert cache.dataset_overview(good_data).numbers["ratings"] == 4_000
    assert cache.model_overview(model).numbers["ratings"] > 0


def test_warm_caches_without_a_model_or_data_leaves_it_to_the_pages(
    tmp_path, monkeypatch, fresh_caches
):
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("RECSYS_DATA", str(tmp_path / "no-data"))
    warm_caches()  # nothing to load: no error, nothing written
    assert not (tmp_path / "artifacts").exists()


def test_apptest_runs_route_by_navigation_despite_a_pages_folder(tmp_path):
    from streamlit.runtime.pages_manager import PagesManager

    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    route_apptest_with_navigation()
    PagesManager.uses_pages_directory = None  # as AppTest sets it before each run
    PagesManager(str(tmp_path / "app.py"), setup_watcher=False)
    assert PagesManager.uses_pages_directory is False
