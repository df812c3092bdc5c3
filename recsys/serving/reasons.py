"""Why a movie is recommended, read off the terms that ranked it.

Two reasons per row, both computed from the model, never from a rule of thumb:

- *because you liked*: the movies the user rated or picked ``LIKED_STARS`` or more whose
  item-to-item term (``recsys.model.hybrid.neighbour_table``) adds most to the row's score,
  largest first; with no such term (the lab's network, or a bundle from before the
  table), the liked movies closest to the row in the model's movie space, by the squared
  distance that Similar movies uses;
- *genres*: for each genre the user rated (on the sliders, or through the movies they
  rated or picked), the change in the movie's ranking score when that genre's rating is
  removed (counted as not rated), less the average change over the catalogue (a change
  every movie shares moves none of them up the list). A genre is named only where the
  lift is true of the movie: a genre rated ``LIKED_GENRE_STARS`` or more for a movie
  that has it ("your Horror rating (4.5★)"), or one rated lower for a movie that does
  not ("you rated Children low (1★)": the dislike pushed the others down). A genre the
  user never set on the sliders is called after the picks that carry it ("Animation, as
  in Toy Story"), or, for an existing user, their ratings of it. The lift itself is in
  the score's units, which mean nothing to a reader: the text gives the stars instead.

A row with neither is ranked high for everyone: the text says so. Reasons differ from row
to row exactly where the model's reasons do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recsys.columns import BECAUSE, GENRE_LIFT, GENRE_LIST, WHY

LIKED_STARS = 4.0  # a rating that counts as "liked"
LIKED_GENRE_STARS = 3.0  # a genre rated this or more raises its movies; lower, the others
MAX_BECAUSE = 2  # liked movies named per row
MAX_GENRES = 2  # genres named per row
MIN_LIFT = 0.1  # a genre adding less than this to the score (stars or logits) is no reason
EVERYONE = "ranked high for everyone (few of your ratings bear on it)"

SLIDER, PICKS, RATINGS = "slider", "picks", "ratings"


@dataclass(frozen=True)
class GenreRating:
    """What the user said of one genre: ``stars`` (a slider's, or the average of the
    movies of that genre they rated or picked), where it came from (``SLIDER``,
    ``PICKS`` or ``RATINGS``), and for ``PICKS`` the title of the best-rated pick of
    that genre."""

    stars: float
    source: str
    pick: str = ""

    @property
    def liked(self) -> bool:
        return self.stars >= LIKED_GENRE_STARS


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


def largest_terms(terms: np.ndarray, liked_ids: Sequence[int]) -> list[list[int]]:
    """For each row of ``terms`` ([n_rows, n_liked], what each liked movie's item-to-item
    term adds to the row's score), the ids of up to ``MAX_BECAUSE`` liked movies whose
    term is positive, largest first; ties by movie id."""
    ids = np.asarray(liked_ids, dtype="int64")
    out = []
    for row in np.asarray(terms, dtype="float64"):
        order = np.lexsort((ids, -row))[:MAX_BECAUSE]
        out.append([int(ids[j]) for j in order if row[j] > 0])
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


def top_lifts(
    lifts: np.ndarray,
    genres: Sequence[str],
    has_genre: np.ndarray | None = None,
    rated: Mapping[str, GenreRating] | None = None,
) -> list[dict[str, float]]:
    """Per row, the up to ``MAX_GENRES`` genres whose lift is at least ``MIN_LIFT`` and
    true of the movie, largest first (ties in genre order): {genre: lift}.

    has_genre: [n_rows, len(genres)] bool, the movie's genres; rated: what the user said
    of each genre. With both, a liked genre counts only for a movie that has it and a
    disliked one only for a movie that has it not.
    """
    out = []
    for i, row in enumerate(lifts):
        order = np.argsort(-row, kind="stable")
        named: dict[str, float] = {}
        for j in order:
            if row[j] < MIN_LIFT or len(named) == MAX_GENRES:
                break
            genre = genres[j]
            judged = has_genre is not None and rated is not None and genre in rated
            if judged and bool(has_genre[i, j]) != rated[genre].liked:
                continue  # a like lifts its own genre; a dislike, only the others
            named[genre] = round(float(row[j]), 3)
        out.append(named)
    return out


def _stars(stars: float) -> str:
    return f"{stars:.1f}".rstrip("0").rstrip(".") + "★"


def genre_phrase(genre: str, said: GenreRating | None) -> str:
    """How one genre reason reads: the user's own words for it, with its stars."""
    if said is None:
        return f"your {genre} rating"
    if said.source == SLIDER:
        if said.liked:
            return f"your {genre} rating ({_stars(said.stars)})"
        return f"you rated {genre} low ({_stars(said.stars)})"
    if said.source == PICKS:
        if said.liked:
            return f"{genre}, as in {said.pick}"
        return f"you rated {said.pick} ({genre}) low"
    if said.liked:
        return f"your {genre} ratings ({_stars(said.stars)} on average)"
    return f"you rate {genre} low ({_stars(said.stars)} on average)"


def reason_text(
    because_titles: Sequence[str],
    lifts: Mapping[str, float],
    rated: Mapping[str, GenreRating] | None = None,
) -> str:
    """One line: "because you liked A and B · your Adventure rating (4.5★), Fantasy, as
    in Shrek (2001)"."""
    parts = []
    if because_titles:
        parts.append("because you liked " + " and ".join(because_titles))
    if lifts:
        parts.append(", ".join(genre_phrases(list(lifts), rated or {})))
    return " · ".join(parts) if parts else EVERYONE


def genre_phrases(genres: Sequence[str], rated: Mapping[str, GenreRating]) -> list[str]:
    """The genre reasons in order, with the liked genres of one pick said together where
    the first of them stands: "Fantasy and Animation, as in Toy Story (1995)", not the
    pick's title once per genre."""
    by_pick: dict[str, list[str]] = {}
    for genre in genres:
        said = rated.get(genre)
        if said is not None and said.source == PICKS and said.liked:
            by_pick.setdefault(said.pick, []).append(genre)
    phrases = []
    for genre in genres:
        said = rated.get(genre)
        grouped = by_pick.get(said.pick) if said is not None and said.source == PICKS else None
        if grouped is None or not said.liked:
            phrases.append(genre_phrase(genre, said))
        elif grouped[0] == genre:
            phrases.append(f"{' and '.join(grouped)}, as in {said.pick}")
    return phrases


def reason_columns(
    because: list[list[int]],
    lifts: list[dict[str, float]],
    title_of: Callable[[int], str],
    rated: Mapping[str, GenreRating] | None = None,
) -> dict[str, list]:
    """The three reason columns of a result table: ``WHY`` (text), ``BECAUSE`` (movie
    ids) and ``GENRE_LIFT`` ({genre: lift in score units})."""
    why = [
        reason_text([title_of(m) for m in ids], lift, rated)
        for ids, lift in zip(because, lifts, strict=True)
    ]
    return {WHY: why, BECAUSE: because, GENRE_LIFT: lifts}


def genres_said(
    genre_ratings: Mapping[str, float],
    flags: np.ndarray,
    stars: np.ndarray,
    titles: Sequence[str],
    source: str,
) -> dict[str, GenreRating]:
    """What the user said of each genre, in ``GENRE_LIST`` order: a slider set above 0
    wins; else the average stars of the rated or picked movies of that genre (``flags``:
    their [n, 14] genres, ``stars``, ``titles``), from ``source`` (``PICKS`` or
    ``RATINGS``). Genres they said nothing of are left out."""
    said = {}
    stars = np.asarray(stars, dtype="float64")
    for j, genre in enumerate(GENRE_LIST):
        slider = float(genre_ratings.get(genre, 0) or 0)
        if slider > 0:
            said[genre] = GenreRating(slider, SLIDER)
            continue
        carry = np.flatnonzero(np.asarray(flags)[:, j]) if len(stars) else np.array([], int)
        if len(carry):
            best = carry[np.argmax(stars[carry])]  # the first best-rated pick of the genre
            said[genre] = GenreRating(float(stars[carry].mean()), source, titles[best])
    return said
