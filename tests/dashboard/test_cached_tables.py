"""The dashboard's cached tables are functions of the served model, hashed by its bundle
(folder and manifest sha256): computed once per bundle, whichever Recommender object
asks, and again for another bundle."""

from __future__ import annotations

from dataclasses import replace

from recsys.dashboard.ui import cache
from recsys.serving.recommender import Recommender


def test_a_table_is_computed_once_per_bundle(hostile, monkeypatch):
    _, artifacts, _ = hostile
    model, again = Recommender.load(artifacts), Recommender.load(artifacts)
    assert model is not again
    computed = []
    movie_labels = cache.overview.movie_labels

    def counted(items):
        computed.append(len(items))
        return movie_labels(items)

    monkeypatch.setattr(cache.overview, "movie_labels", counted)
    cache.movie_labels.clear()
    labels = cache.movie_labels(model)
    assert cache.movie_labels(again) == labels
    assert len(computed) == 1  # the same bundle: the same entry
    retrained = Recommender(replace(model.decoded, manifest_hash="0" * 64))
    cache.movie_labels(retrained)
    assert len(computed) == 2  # another manifest: another entry
    cache.movie_labels.clear()
