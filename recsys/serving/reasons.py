"""Why a movie is recommended, read off the model that ranked it.

Two reasons per row, both computed from the model, never from a rule of thumb:

- *because you liked*: the one or two movies the user rated ``LIKED_STARS`` or more (the
  New user page's picks, or an existing user's ratings) closest to the recommended movie
  in the model's movie space, by the squared distance that Similar movies uses;
- *genre lift*: for each genre the user rated, the change in the movie's ranking score
  when that genre's rating is removed (counted as not rated), less the average change
  over the catalogue (a change every movie shares moves none of them up the list); the
  genres that raise it most, largest first.

A row with neither is ranked high for everyone: the text says so. Reasons differ from row
to row exactly where the model's reasons do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from recsys.columns import BECAUSE, GENRE_LIFT, WHY

LIKED_STARS = 4.0  # a rating that counts as "liked"
MAX_BECAUSE = 2  # liked movies named per row
MAX_GENRES = 2  # genres named per row
MIN_LIFT = 0.1  # a genre adding less than this to the score (stars or logits) is no reason
EVERYONE = "ranked high for everyone (few of your ratings bear on it)"


def liked_movies(rated: Mapping[int, float]) -> list[int]:
    """The movie ids rated ``LIKED_STARS`` or more, best rated first (ties by id)."""
    liked = [(-stars, movie_id) for movie_id, stars in rated.items() if stars >= LIKED_STARS]
    return [movie_id for _, movie_id in sorted(liked)]


def closest_liked(distances: np.ndarray, liked_ids: Sequence[int]) -> list[list[int]]:
    """For each row of ``distances`` ([n_rows, n_liked]), the ids of up to
    ``MAX_BECAUSE`` liked movies nearest to it, nearest first; ties by movie id."""
    ids = np.asarray(liked_ids, dtype="int64")
    if len(ids) == 0:
        return [[] for _ in range(len(distances))]
    out = []
    for row in distances:
        order = np.lexsort((ids, row))[:MAX_BECAUSE]
        out.append(ids[order].tolist())
    return out


def genre_lifts(
    base: np.ndarray,
    score_without: Callable[[frozenset[str]], np.ndarray],
    rows: np.ndarray,
    genres: Sequence[str],
) -> np.ndarray:
    """[len(rows), len(genres)]: what each genre's rating adds to each row's score,
    beyond what it adds to the average movie. ``base``: the [n_items] ranking scores
    the list was made from; ``score_without(unset)``: the same with the genres of
    ``unset`` counted as not rated."""
    lifts = []
    for genre in genres:
        change = base - score_without(frozenset({genre}))
        lifts.append(change[rows] - change.mean())
    return np.stack(lifts, axis=1) if lifts else np.zeros((len(rows), 0))


def top_lifts(lifts: np.ndarray, genres: Sequence[str]) -> list[dict[str, float]]:
    """Per row, the up to ``MAX_GENRES`` genres whose lift is at least ``MIN_LIFT``,
    largest first (ties in genre order): {genre: lift}."""
    out = []
    for row in lifts:
        order = np.argsort(-row, kind="stable")[:MAX_GENRES]
        out.append({genres[j]: round(float(row[j]), 3) for j in order if row[j] >= MIN_LIFT})
    return out


def reason_text(because_titles: Sequence[str], lifts: Mapping[str, float]) -> str:
    """One line: "because you liked A and B · raised by Adventure (+0.42), Fantasy (+0.3)"."""
    parts = []
    if because_titles:
        parts.append("because you liked " + " and ".join(because_titles))
    if lifts:
        raised = ", ".join(f"{genre} (+{lift:.2f})" for genre, lift in lifts.items())
        parts.append(f"raised by your {raised} rating" + ("s" if len(lifts) > 1 else ""))
    return " · ".join(parts) if parts else EVERYONE


def reason_columns(
    because: list[list[int]], lifts: list[dict[str, float]], title_of: Callable[[int], str]
) -> dict[str, list]:
    """The three reason columns of a result table: ``WHY`` (text), ``BECAUSE`` (movie
    ids) and ``GENRE_LIFT`` ({genre: lift})."""
    why = [
        reason_text([title_of(m) for m in ids], lift)
        for ids, lift in zip(because, lifts, strict=True)
    ]
    return {WHY: why, BECAUSE: because, GENRE_LIFT: lifts}
