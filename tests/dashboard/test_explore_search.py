"""Explore's title search (recsys.dashboard.explore.browse): words in any order, and a
bounded cost whatever is pasted into the box."""

from __future__ import annotations

import pandas as pd
import pytest

from recsys.columns import AVE_RATING, GENRES, MOVIE_ID, NUM_RATINGS, TITLE, YEAR
from recsys.dashboard import explore
from recsys.dashboard.explore import (
    MAX_SEARCH_CHARS,
    MAX_SEARCH_WORDS,
    BrowseQuery,
    browse,
    search_needles,
)

TITLES = [
    "Star Wars: Episode IV - A New Hope (1977)",
    "Star Trek: The Motion Picture (1979)",
    "Wars of the Roses, The (1989)",
    "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)",
]


@pytest.fixture
def items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            MOVIE_ID: range(1, len(TITLES) + 1),
            TITLE: TITLES,
            YEAR: [1977.0, 1979.0, 1989.0, 1964.0],
            GENRES: "Comedy",
            AVE_RATING: 4.0,
            NUM_RATINGS: 10,
        }
    )


@pytest.fixture
def passes(monkeypatch) -> list[str]:
    """Each needle ``browse`` matches against every title, in order."""
    seen: list[str] = []
    real = explore._titles_containing

    def counted(titles, needle):
        seen.append(needle)
        return real(titles, needle)

    monkeypatch.setattr(explore, "_titles_containing", counted)
    return seen


def test_every_word_must_appear_in_any_order(items, passes):
    found = browse(items, BrowseQuery(text="WARS star wars"))
    assert found[TITLE].tolist() == [TITLES[0]]
    assert passes == ["wars", "star"]  # one pass per distinct word


def test_a_20000_word_query_is_one_capped_phrase_not_a_pass_per_word(items, passes):
    # Before: each of the 20,000 words was a pass over every title (7.6 s per rerun).
    query = " ".join(f"star{i}" for i in range(20_000))
    found = browse(items, BrowseQuery(text=query))
    assert len(passes) == 1
    assert len(passes[0]) <= MAX_SEARCH_CHARS
    assert passes[0].startswith("star0 star1 star2")
    assert found.empty  # no title holds the phrase; every word is in none either


def test_a_repeated_word_costs_one_pass(items, passes):
    found = browse(items, BrowseQuery(text="star wars " * 10_000))
    assert passes == ["star", "wars"]
    assert found[TITLE].tolist() == [TITLES[0]]


def test_a_long_phrase_that_is_in_a_title_still_finds_it(items, passes):
    phrase = "or: How I Learned to Stop Worrying and Love the Bomb"
    assert len(set(phrase.casefold().split())) > MAX_SEARCH_WORDS
    assert browse(items, BrowseQuery(text=phrase))[TITLE].tolist() == [TITLES[3]]
    assert passes == [phrase.casefold()]


def test_only_the_first_characters_of_the_box_are_read():
    assert search_needles("star " + "x" * 100_000) == ["star", "x" * (MAX_SEARCH_CHARS - 5)]
    assert search_needles("   ") == []
