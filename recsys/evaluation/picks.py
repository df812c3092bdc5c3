"""The ``onepick`` and ``similar`` protocols' split: held-out users who reveal a few picks.

20% of the users who liked at least ``MIN_LIKED`` movies (rated them ``RELEVANT_STARS``
or more) are held out whole. Each reveals 1, and then 3, of their liked movies as the
picks a new user gives (with their stars; no genre ratings), in one random order per
user, so the 3 picks hold the 1. The rest of their liked movies are the relevant ones.
The preset's movie selection, the popularity lists and every model come from the other
users' ratings only; a held-out user is met through their picks, with no retraining.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST, MOVIE_ID, RATING, USER_ID
from recsys.config import FeatureConfig
from recsys.dataset.groups import position_in_user
from recsys.evaluation.protocols import EvaluationData
from recsys.evaluation.ranking import (
    PICK_COUNTS,
    RELEVANT_STARS,
    RankingTask,
    popularity_masks,
)
from recsys.model.features import build_training_set
from recsys.model.scaling import Scalers

HELD_OUT_FRACTION = 0.2
MIN_LIKED = 10
_COLUMNS = [USER_ID, MOVIE_ID, RATING]


def held_out_users(
    ratings: pd.DataFrame,
    rng: np.random.Generator,
    fraction: float = HELD_OUT_FRACTION,
    min_liked: int = MIN_LIKED,
) -> np.ndarray:
    """Sorted ids of ``floor(fraction × eligible)`` users drawn from those with at least
    ``min_liked`` ratings of ``RELEVANT_STARS`` or more."""
    liked = ratings.loc[ratings[RATING].to_numpy() >= RELEVANT_STARS, USER_ID]
    counts = liked.astype("int64").value_counts()
    eligible = np.sort(counts.index[counts.to_numpy() >= min_liked].to_numpy())
    size = int(np.floor(fraction * len(eligible) + 1e-9))
    return np.sort(rng.choice(eligible, size=size, replace=False))


@dataclass(frozen=True)
class PickSplit:
    """The training side and the held-out users' liked movies, in pick order.

    train_ratings: userId, movieId, rating (stars) of the other users: what every model
    learns from, and the popularity lists.
    user_ids: [n_users] the held-out users that are scored (enough liked candidates).
    movie_ids: [n_items] the candidates (the preset's movies).
    order: [n_users, n_items] int, the position of each liked candidate in the user's
    random order of their liked movies (0 first), -1 where not liked.
    stars: [n_users, n_items] float, the stars of each liked candidate (0 elsewhere).
    data: the training side's features and scalers, for the networks (``test_ratings``:
    every rating of the held-out users, so that no tag of theirs reaches the content);
    None for a validation carve, which fits no network.
    """

    train_ratings: pd.DataFrame
    user_ids: np.ndarray
    movie_ids: np.ndarray
    order: np.ndarray
    stars: np.ndarray
    data: EvaluationData | None = None

    def picked(self, k: int) -> np.ndarray:
        """[n_users, n_items] bool: the user's first ``k`` liked movies."""
        return (self.order >= 0) & (self.order < k)

    def picks(self, k: int) -> list[dict[int, float]]:
        """Each user's first ``k`` liked movies as ``{movieId: stars}`` (a new user's input)."""
        picked = self.picked(k)
        return [
            dict(zip(self.movie_ids[row].tolist(), self.stars[i, row].tolist(), strict=True))
            for i, row in enumerate(picked)
        ]

    def reordered(self, rng: np.random.Generator) -> PickSplit:
        """The same users, movies and training side with each user's liked candidates in
        a new random order (so other movies become the picks)."""
        users, columns = np.nonzero(self.order >= 0)
        order = np.full_like(self.order, -1)
        order[users, columns] = position_in_user(users, rng)
        return dataclasses.replace(self, order=order)

    def genre_flags(self) -> np.ndarray | None:
        """[n_items, genres] the candidates' genre flags (from the training side's
        features); None for a validation carve, which has none."""
        if self.data is None:
            return None
        items = self.data.training.items.set_index(MOVIE_ID)
        return items.loc[self.movie_ids, list(GENRE_LIST)].to_numpy("float64")

    def first_pick(self) -> np.ndarray:
        """[n_users] the candidate index of each user's first pick."""
        return np.argmax(self.order == 0, axis=1)

    def task(self, k: int) -> RankingTask:
        """The ranking task with ``k`` picks: picks never recommended, the rest of the
        liked movies relevant; popularity from the training side."""
        picked = self.picked(k)
        head, blockbuster = popularity_masks(self.train_ratings, self.movie_ids)
        return RankingTask(
            user_ids=self.user_ids,
            movie_ids=self.movie_ids,
            seen=picked,
            relevant=(self.order >= 0) & ~picked,
            head=head,
            blockbuster=blockbuster,
        )


def liked_order(
    theirs: pd.DataFrame, users: np.ndarray, movie_ids: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """([n_users, n_items] each liked candidate's place in a random order per user, -1
    where not liked; [n_users, n_items] its stars) from ``theirs``, the users' ratings."""
    cols = pd.Index(movie_ids).get_indexer(theirs[MOVIE_ID].to_numpy().astype("int64"))
    keep = (theirs[RATING].to_numpy() >= RELEVANT_STARS) & (cols >= 0)
    liked, liked_cols = theirs[keep], cols[keep]
    user_codes = pd.Index(users).get_indexer(liked[USER_ID].to_numpy("int64"))
    order = np.full((len(users), len(movie_ids)), -1, dtype="int64")
    stars = np.zeros((len(users), len(movie_ids)), dtype="float64")
    order[user_codes, liked_cols] = position_in_user(user_codes, rng)
    stars[user_codes, liked_cols] = liked[RATING].to_numpy("float64")
    return order, stars


def carve_picks(
    ratings: pd.DataFrame,
    movie_ids: np.ndarray,
    rng: int | np.random.Generator | None = None,
    most_picks: int = max(PICK_COUNTS),
) -> PickSplit:
    """The same split over given candidates, without features (``data`` None): what a
    peer's hyperparameter is chosen on, carved from a training side."""
    rng = np.random.default_rng(rng)
    held = held_out_users(ratings, rng)
    is_held = np.isin(ratings[USER_ID].to_numpy("int64"), held)
    order, stars = liked_order(ratings[is_held], held, movie_ids, rng)
    scored = (order >= 0).sum(axis=1) > most_picks
    train = ratings.loc[~is_held, _COLUMNS].reset_index(drop=True)
    return PickSplit(train, held[scored], movie_ids, order[scored], stars[scored])


def prepare_picks(
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    feature_config: FeatureConfig,
    rng: int | np.random.Generator | None = None,
    most_picks: int = max(PICK_COUNTS),
) -> PickSplit:
    """Hold out 20% of the users with ``MIN_LIKED`` liked movies; order their liked
    candidates at random. A held-out user with ``most_picks`` or fewer liked candidates
    (the preset may leave out some of their movies) is not scored."""
    rng = np.random.default_rng(rng)
    held = held_out_users(ratings, rng)
    is_held = np.isin(ratings[USER_ID].to_numpy("int64"), held)
    training = build_training_set(ratings[~is_held], movies, feature_config)
    scalers = Scalers.fit(training.user_train, training.item_train, training.y)
    movie_ids = training.items[MOVIE_ID].to_numpy().astype("int64")
    theirs = ratings[is_held]
    order, stars = liked_order(theirs, held, movie_ids, rng)
    scored = (order >= 0).sum(axis=1) > most_picks
    train_ratings = training.ratings[_COLUMNS].reset_index(drop=True)
    counts = {
        "ratings": int(len(ratings)),
        "train_ratings": int(len(training.ratings)),
        "train_rows": int(len(training.y)),
        "test_ratings": int(len(theirs)),
        "held_out": int(len(theirs)),
        "held_out_dropped": int(len(theirs) - (order >= 0).sum()),
        "items": int(len(training.items)),
        "users": int(len(training.users)),
        "held_out_users": int(len(held)),
        "held_out_users_dropped": int((~scored).sum()),
    }
    data = EvaluationData(
        protocol="picks",
        training=training,
        scalers=scalers,
        user_x=scalers.user_inputs(training.user_train),
        item_x=scalers.item_inputs(training.item_train),
        y_scaled=scalers.scale_target(training.y),
        train_ratings=train_ratings,
        test_ratings=theirs[_COLUMNS].reset_index(drop=True),
        counts=counts,
    )
    return PickSplit(
        train_ratings, held[scored], movie_ids, order[scored], stars[scored], data=data
    )
