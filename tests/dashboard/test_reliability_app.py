"""Sessions on threads: one Recommender answers eight threads as it answers one, and
eight app sessions load the bundle once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST
from recsys.serving.recommender import Recommender


def _calls(recommender: Recommender, n: int) -> list[tuple]:
    rng = np.random.default_rng(5)
    genres = list(GENRE_LIST)
    movie_ids = recommender.items["movieId"].to_numpy()
    calls = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            picks = rng.choice(genres, size=3, replace=False)
            calls.append(("new", {g: float(rng.integers(0, 11)) / 2 for g in picks}))
        elif kind == 1:
            calls.append(("user", int(rng.choice(recommender.user_ids))))
        else:
            calls.append(("similar", int(rng.choice(movie_ids))))
    return calls


def _answer(recommender: Recommender, call: tuple) -> pd.DataFrame:
    kind, arg = call
    if kind == "new":
        return recommender.for_new_user(arg, top=10)
    if kind == "user":
        return recommender.for_user(arg, top=5).rated
    return recommender.similar(arg, k=5)


def test_eight_threads_share_one_recommender(trained_dir, monkeypatch):
    loads = []
    original = Recommender.load.__func__

    def counting_load(cls, path):
        loads.append(path)
        return original(cls, path)

    monkeypatch.setattr(Recommender, "load", classmethod(counting_load))
    recommender = Recommender.load(trained_dir)
    calls = _calls(recommender, 1000)
    expected = [_answer(recommender, call) for call in calls]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda call: _answer(recommender, call), calls))
    for want, have in zip(expected, got):
        pd.testing.assert_frame_equal(want, have)
    assert len(loads) == 1


def test_app_sessions_on_eight_threads_load_the_bundle_once(trained_dir, monkeypatch):
    from recsys.dashboard.ui import cache as ui

    monkeypatch.setenv("RECSYS_ARTIFACTS", str(trained_dir))
    loads = []
    original = Recommender.load.__func__

    def counting_load(cls, path):
        loads.append(path)
        time.sleep(0.2)  # widen the window in which a second load could start
        return original(cls, path)

    monkeypatch.setattr(Recommender, "load", classmethod(counting_load))
    ui.load_recommender_cached.clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        models = list(pool.map(lambda _: ui.current_model(), range(8)))
    assert len(loads) == 1
    assert all(model is models[0] for model in models)
    ui.load_recommender_cached.clear()
