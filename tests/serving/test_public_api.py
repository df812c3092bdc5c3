"""The Recommender's public scoring API: new users by genres and picked movies,
``predict`` for known users, ``for_user`` ranking what a user has not rated."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.columns import GENRE_LIST, MOVIE_ID, PREDICTED
from recsys.errors import UsageError


def test_picks_are_never_recommended_back_and_change_the_list(recommender):
    popular = recommender.items.sort_values("num ratings", ascending=False)[MOVIE_ID]
    picks = {int(m): 5.0 for m in popular.iloc[:3]}
    fan = {"Adventure": 5.0, "Fantasy": 5.0}
    with_picks = recommender.for_new_user(fan, picks, top=20)
    assert not set(with_picks[MOVIE_ID]) & set(picks)
    only_picks = recommender.for_new_user({}, picks, top=10)
    assert len(only_picks) == 10 and not set(only_picks[MOVIE_ID]) & set(picks)
    assert with_picks[PREDICTED].is_monotonic_decreasing  # the lab ranks by its stars


def test_the_lab_network_reads_picks_as_genre_averages(recommender):
    # A pick of a Fantasy movie at 5 stars is the lab's user vector with Fantasy = 5.
    fantasy = recommender.items[recommender.items["Fantasy"] == 1]
    only_fantasy = fantasy[fantasy[list(GENRE_LIST)].sum(axis=1) == 1][MOVIE_ID].iloc[0]
    by_pick = recommender.new_user_scores({}, {int(only_fantasy): 5.0}).stars
    by_slider = recommender.new_user_scores({"Fantasy": 5.0}).stars
    np.testing.assert_allclose(by_pick, by_slider)
    # A slider set by hand wins over the picks' average for that genre.
    both = recommender.new_user_scores({"Fantasy": 1.0}, {int(only_fantasy): 5.0}).stars
    np.testing.assert_allclose(both, recommender.new_user_scores({"Fantasy": 1.0}).stars)


@pytest.mark.parametrize(
    ("picks", "says"),
    [({10**9: 5.0}, "not among"), ({1: 7.0}, "0.5 to 5"), ({1: 3.3}, "0.5 to 5")],
)
def test_bad_picks_are_usage_errors(recommender, picks, says):
    movie = int(recommender.items[MOVIE_ID].iloc[0])
    picks = {movie if k == 1 else k: v for k, v in picks.items()}
    with pytest.raises(UsageError, match=says):
        recommender.for_new_user({}, picks)


def test_predict_agrees_with_the_existing_user_table(recommender):
    user_id = int(recommender.user_ids[0])
    result = recommender.for_user(user_id, top=5)
    rated = result.rated.head(20)
    predicted = recommender.predict([user_id] * len(rated), rated[MOVIE_ID].to_numpy())
    np.testing.assert_allclose(predicted, rated[PREDICTED].to_numpy())
    other = int(recommender.user_ids[1])
    pairs = recommender.predict([user_id, other], rated[MOVIE_ID].iloc[:2].to_numpy())
    assert pairs[0] == pytest.approx(rated[PREDICTED].iloc[0])
    assert not set(result.unseen[MOVIE_ID]) & set(result.rated[MOVIE_ID])
    with pytest.raises(UsageError, match="not in this model"):
        recommender.predict([10**9], rated[MOVIE_ID].iloc[:1].to_numpy())


def test_the_package_gives_the_recommender_lazily_and_without_tensorflow():
    """``import recsys`` loads no stage; ``recsys.Recommender`` is the serving class,
    imported on first use, and serving it never imports TensorFlow."""
    import subprocess
    import sys

    from recsys.settings import PROJECT_ROOT

    probe = (
        "import sys, recsys\n"
        "assert 'recsys.serving.recommender' not in sys.modules, 'imported eagerly'\n"
        "from recsys.serving.recommender import Recommender\n"
        "assert recsys.Recommender is Recommender\n"
        "assert 'tensorflow' not in sys.modules\n"
        "try:\n"
        "    recsys.NoSuchThing\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an unknown name was answered')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
