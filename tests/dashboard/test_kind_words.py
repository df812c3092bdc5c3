"""What the pages say of each model kind comes from one table per concern, looked up by
the kind's name: the two kinds keep their own words, and a kind without any is named by
its registry label rather than passed off as one of them."""

from __future__ import annotations

import dataclasses

import pytest

from recsys.config import HYBRID
from recsys.dashboard import accuracy
from recsys.dashboard.model_words import fit_help, kind_words, model_figures
from recsys.dashboard.tables import model_facts
from recsys.dashboard.tour import STEPS, say
from recsys.model.kinds import KINDS, LAB, ModelKind


@pytest.fixture
def third_kind(monkeypatch) -> str:
    """A third kind in the registry, with no words of its own."""
    third = dataclasses.replace(KINDS[LAB], name="third", label="Matrix factorisation")
    monkeypatch.setitem(KINDS, "third", third)
    assert isinstance(third, ModelKind)
    return "third"


def test_each_kind_keeps_its_own_words():
    assert kind_words(HYBRID).name == "the hybrid model"
    assert kind_words(LAB).name == "the lab's network"
    assert accuracy.evaluated_name(LAB) == "two_tower"  # its name in a saved evaluation
    assert accuracy.evaluated_name(HYBRID) == HYBRID
    assert "random 80%" in fit_help(LAB) and "all of them" in fit_help(HYBRID)
    assert kind_words(LAB).genres_only_note and not kind_words(HYBRID).genres_only_note
    for step in STEPS:
        lab = say(step, model_figures({}, {}))
        hybrid = say(step, model_figures({"model": HYBRID, "config": {"dim": 64}}, {}))
        assert lab and hybrid and lab != hybrid, step.slug


def test_a_kind_without_words_is_named_by_its_label(third_kind):
    words = kind_words(third_kind)
    assert words.name == "the Matrix factorisation model"
    assert accuracy.evaluated_name(third_kind) == third_kind
    assert "Matrix factorisation" in fit_help(third_kind)
    facts = model_facts({"model": third_kind, "metrics": {"epochs_run": 7}})
    assert facts.name == "the Matrix factorisation model" and "7 epochs" in facts.setup
    assert not facts.lab_split_metrics
    figures = model_figures({"model": third_kind}, {})
    assert figures.kind == third_kind
    assert [say(step, figures) for step in STEPS] == [""] * len(STEPS)  # the titles alone
