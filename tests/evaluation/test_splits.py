"""The per-user split: a fifth of each user held out (at random or the latest), replayable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys.columns import MOVIE_ID, RATING, TIMESTAMP, USER_ID
from recsys.evaluation import split_ratings


def _ratings(per_user: dict[int, int]) -> pd.DataFrame:
    rows = [(user, movie, 3.0, 1000 + movie) for user, n in per_user.items() for movie in range(n)]
    return pd.DataFrame(rows, columns=[USER_ID, MOVIE_ID, RATING, TIMESTAMP])


def test_split_holds_out_a_fifth_of_each_user_rounded_down():
    ratings = _ratings({1: 1, 2: 4, 3: 5, 4: 14, 5: 15})
    split = split_ratings(ratings, "holdout", rng=0)
    held_out = split.test[USER_ID].value_counts().reindex([1, 2, 3, 4, 5], fill_value=0)
    # floor(0.2 × n): 1 → 0 (a single rating stays in training), 4 → 0, 5 → 1, 14 → 2, 15 → 3.
    assert held_out.tolist() == [0, 0, 1, 2, 3]


def test_temporal_split_holds_out_the_latest():
    ratings = _ratings({1: 10, 2: 5})
    split = split_ratings(ratings, "temporal", rng=0)
    # Timestamps rise with movieId, so the latest two of user 1 and latest one of user 2.
    assert sorted(map(tuple, split.test[[USER_ID, MOVIE_ID]].to_numpy())) == [
        (1, 8),
        (1, 9),
        (2, 4),
    ]


def test_split_refuses_the_lab_protocol():
    from recsys.errors import UsageError

    with pytest.raises(UsageError, match="unknown protocol"):
        split_ratings(_ratings({1: 5}), "lab", rng=0)


RATING_FRAMES = st.lists(
    st.tuples(st.integers(1, 12), st.integers(0, 10**6), st.sampled_from([1.0, 3.5, 5.0])),
    min_size=1,
    max_size=200,
).map(
    lambda rows: pd.DataFrame(
        [(user, i, stars, time) for i, (user, time, stars) in enumerate(rows)],
        columns=[USER_ID, MOVIE_ID, RATING, TIMESTAMP],
    )
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    ratings=RATING_FRAMES,
    protocol=st.sampled_from(["holdout", "temporal"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_disjoint_complete_and_replays(ratings, protocol, seed):
    split = split_ratings(ratings, protocol, rng=seed)
    assert split.train.index.intersection(split.test.index).empty
    assert sorted(split.train.index.append(split.test.index)) == list(ratings.index)
    per_user = ratings[USER_ID].value_counts()
    held_out = split.test[USER_ID].value_counts().reindex(per_user.index, fill_value=0)
    assert (held_out == np.floor(per_user * 0.2 + 1e-9).astype(int)).all()
    again = split_ratings(ratings.assign(**{RATING: 6.0 - ratings[RATING]}), protocol, rng=seed)
    assert again.test.index.equals(split.test.index)  # the split never looks at the stars
    if protocol == "temporal":
        last_train = split.train.groupby(USER_ID)[TIMESTAMP].max()
        first_test = split.test.groupby(USER_ID)[TIMESTAMP].min()
        assert (first_test >= last_train.reindex(first_test.index)).all()
