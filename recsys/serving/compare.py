"""Two models side by side for one user, with a most-popular chart as the yardstick.

For each list: the top movies the user has not rated, and how many of the movies the user
rated 4 stars or more the list's ranking would put in its top N had they not been rated
yet ("own favourites found"; the models trained on those ratings, so this shows what the
list is made of, not its accuracy: the Model page's evaluation is the honest measure).
Between lists: how many movies they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, NUM_RATINGS, RATING
from recsys.errors import UsageError
from recsys.serving.reasons import LIKED_STARS
from recsys.serving.recommender import Recommender
from recsys.serving.scoring import Scores

POPULAR = "most popular"


@dataclass(frozen=True)
class Comparison:
    """lists: name → its top table (movieId, title, …), in the order given, then
    POPULAR. favourites: name → own favourites found in its top N. overlap: one row per
    pair of lists (a, b, shared movies). missing: name → why a model has no list."""

    lists: dict[str, pd.DataFrame]
    favourites: dict[str, int]
    liked: int  # the user's 4★+ ratings
    overlap: pd.DataFrame
    missing: dict[str, str]


def favourites_found(rank: np.ndarray, liked_rows: np.ndarray, top: int) -> int:
    """How many of ``liked_rows`` a ranking ([n_items] scores, higher first) puts in its
    top ``top`` of every movie."""
    if len(liked_rows) == 0 or top <= 0:
        return 0
    top = min(top, len(rank))
    best = np.argpartition(-rank, top - 1)[:top]
    return int(np.isin(liked_rows, best).sum())


def _ranked(
    model: Recommender, rank: np.ndarray, own: pd.DataFrame, top: int, scores: Scores | None
):
    """(the top ``top`` unseen movies as a table, own favourites found by ``rank``, the
    user's liked movies in this catalogue). With ``scores``, the table is the model's
    served list (``Recommender.served_rows``, as ``for_user`` shows it); without, the
    top by ``rank``."""
    rated_rows = model.catalogue.rows_of(own[MOVIE_ID])
    liked_rows = rated_rows[(own[RATING].to_numpy() >= LIKED_STARS) & (rated_rows >= 0)]
    unseen = np.ones(len(rank), dtype=bool)
    unseen[rated_rows[rated_rows >= 0]] = False
    if scores is None:
        rows = model.catalogue.top_rows(rank, unseen, top)
    else:
        rows = model.served_rows(scores, unseen, top)
    return model.catalogue.movie_table(rows), favourites_found(rank, liked_rows, top), liked_rows


def _most_popular(
    items: pd.DataFrame, own: pd.DataFrame, top: int
) -> tuple[pd.DataFrame, int, int]:
    """(the ``top`` most-rated movies of ``items`` the user has not rated, own favourites
    found among the ``top`` most-rated of all, the user's liked movies in ``items``); ties
    broken by movieId."""
    ids = items[MOVIE_ID].to_numpy(dtype="int64")
    order = np.lexsort((ids, -items[NUM_RATINGS].to_numpy(dtype="float64")))
    rated = own[MOVIE_ID].to_numpy(dtype="int64")
    liked = np.intersect1d(rated[own[RATING].to_numpy() >= LIKED_STARS], ids)
    unseen = order[~np.isin(ids[order], rated)][:top]
    found = int(np.isin(liked, ids[order[:top]]).sum())
    return items.iloc[unseen].reset_index(drop=True), found, len(liked)


def compare_for_user(
    models: Mapping[str, Recommender],
    user_id: int,
    top: int = 10,
    popular_items: pd.DataFrame | None = None,
) -> Comparison:
    """The ``top`` unseen movies of ``user_id`` by each model and by popularity, with own
    favourites found and pairwise overlap.

    Popularity ranks ``popular_items`` (movieId, title, …, num ratings: the dataset's
    whole catalogue, so the list does not change with the model) when given, else the
    first model's catalogue and counts."""
    lists: dict[str, pd.DataFrame] = {}
    favourites: dict[str, int] = {}
    missing: dict[str, str] = {}
    liked = 0
    first: tuple[Recommender, pd.DataFrame] | None = None
    for name, model in models.items():
        try:
            scores, own = model.scores_for_user(user_id)
        except UsageError as err:
            missing[name] = str(err)
            continue
        first = first or (model, own)
        lists[name], favourites[name], liked_rows = _ranked(model, scores.rank, own, top, scores)
        liked = max(liked, len(liked_rows))
    if first is not None and popular_items is not None:
        _, own = first
        lists[POPULAR], favourites[POPULAR], popular_liked = _most_popular(popular_items, own, top)
        liked = max(liked, popular_liked)
    elif first is not None:
        model, own = first
        counts = model.items[NUM_RATINGS].to_numpy(dtype="float64")
        lists[POPULAR], favourites[POPULAR], _ = _ranked(model, counts, own, top, None)
    pairs = [
        (a, b, len(set(lists[a][MOVIE_ID]) & set(lists[b][MOVIE_ID])))
        for a, b in combinations(lists, 2)
    ]
    overlap = pd.DataFrame(pairs, columns=["list", "other list", "shared movies"])
    return Comparison(lists, favourites, liked, overlap, missing)
