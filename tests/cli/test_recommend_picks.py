"""``recommend --movie "TITLE=STARS"``: picked movies by title or id, and bad picks."""

from __future__ import annotations

import json

import pytest

from recsys.cli.commands import parse_picks
from recsys.errors import UsageError
from tests.helpers import run_cli

TITLES = {
    "Toy Story (1995)": 1,
    "Monsters, Inc. (2001)": 4886,
    "Sex, Lies, and Videotape (1989)": 1103,
    "x=y (2001)": 7,
}


def _find(title: str) -> int:
    if title.isdigit():
        return int(title)
    if title not in TITLES:
        raise UsageError(f"no movie titled {title!r}")
    return TITLES[title]


def test_titles_may_hold_commas_and_equals_signs():
    picks = parse_picks(
        ["Toy Story (1995)=5", "Monsters, Inc. (2001)=4", "x=y (2001)=3.5", "1103=0.5"], _find
    )
    assert picks == {1: 5.0, 4886: 4.0, 7: 3.5, 1103: 0.5}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Toy Story (1995)", "TITLE=STARS"),
        ("=5", "TITLE=STARS"),
        ("Toy Story (1995)=five", "not stars"),
        ("Toy Story (1995)=6", "0.5 to 5"),
        ("Toy Story (1995)=4.2", "0.5 to 5"),
        ("Toy Story (1995)=nan", "0.5 to 5"),
        ("Unknown Movie (2000)=5", "no movie titled"),
    ],
)
def test_a_bad_pick_is_one_usage_error(value, says):
    with pytest.raises(UsageError, match=says):
        parse_picks([value], _find)


def test_the_command_takes_picks_and_refuses_an_unknown_title(trained_dir):
    result = run_cli("recommend", "--movie", "1=5", "--json", "--artifacts", str(trained_dir))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["movies"] == {"1": 5.0}
    shown = [row["movieId"] for row in payload["recommendations"]]
    assert 1 not in shown and len(shown) == 10  # a picked movie is never recommended back
    bad = run_cli("recommend", "--movie", "No Such Film=5", "--artifacts", str(trained_dir))
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "no movie titled" in bad.stderr
    empty = run_cli("recommend", "--artifacts", str(trained_dir))
    assert empty.returncode == 2 and "--genres" in empty.stderr
