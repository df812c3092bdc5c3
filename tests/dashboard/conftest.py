"""The dashboard tests' bundles: a quick one on the real data (tests that need it skip
when RECSYS_DATA is unset) and one on a small synthetic dataset whose most-rated movies
carry hostile titles; both trained once per process (tests/e2e/app_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.dashboard.ui.serve import route_apptest_with_navigation
from tests.dashboard.apptest import open_app
from tests.e2e.app_data import (
    hostile_bundle,
    real_bundle,
    real_data_or_skip,
    real_hybrid_bundle,
)


@pytest.fixture(scope="session", autouse=True)
def routed_as_launched() -> None:
    """Every AppTest run routes by ``st.navigation`` from its start, as the launcher's
    server does (else the ``pages/`` folder would put each run in Streamlit's old mode)."""
    route_apptest_with_navigation()


@pytest.fixture(scope="session")
def real_artifacts() -> Path:
    return real_bundle(real_data_or_skip())


@pytest.fixture(scope="session")
def hostile() -> tuple[Path, Path, dict[str, int]]:
    return hostile_bundle()


@pytest.fixture
def hostile_app(monkeypatch, hostile):
    data, artifacts, _ = hostile
    return lambda page="overview", params=None: open_app(monkeypatch, artifacts, data, page, params)


@pytest.fixture
def real_app(monkeypatch, real_artifacts):
    data = real_data_or_skip()
    return lambda page="overview", params=None: open_app(
        monkeypatch, real_artifacts, data, page, params
    )


@pytest.fixture(scope="session")
def hybrid_artifacts(hostile, tmp_path_factory) -> Path:
    """The hostile dataset's hybrid bundle (2 epochs): every page must serve it too."""
    from recsys.config import hybrid_config
    from recsys.dataset.movielens import load_movielens
    from recsys.model.hybrid.train import train_hybrid_bundle

    data, _, _ = hostile
    artifacts = tmp_path_factory.mktemp("hybrid_app")
    config = hybrid_config(epochs=2)
    train_hybrid_bundle(load_movielens(data), config, artifacts)
    return artifacts


@pytest.fixture(scope="session")
def both_artifacts(hostile, hybrid_artifacts, tmp_path_factory) -> Path:
    """The hostile dataset's hybrid bundle with a lab bundle trained beside it."""
    import shutil

    from tests.helpers import train_small_bundle

    data, _, _ = hostile
    artifacts = tmp_path_factory.mktemp("both") / "artifacts"
    shutil.copytree(hybrid_artifacts, artifacts)
    train_small_bundle(data, artifacts, epochs=1, preset="full")
    return artifacts


@pytest.fixture
def real_hybrid_app(monkeypatch):
    """The app serving a hybrid bundle trained on the real data."""
    data = real_data_or_skip()
    artifacts = real_hybrid_bundle(data)
    return lambda page="overview", params=None: open_app(monkeypatch, artifacts, data, page, params)
