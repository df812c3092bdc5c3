"""The peers (Surprise's SVD and KNNBaseline, implicit's ALS, EASE) on tiny hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import MOVIE_ID, RATING, USER_ID
from recsys.evaluation.peers import PEERS, make_peer

pytest.importorskip("surprise", reason="scikit-surprise is in requirements.txt; CI installs it")
pytest.importorskip("implicit", reason="implicit is in requirements.txt; CI installs it")


def _ratings(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    users, movies, stars = zip(*rows)
    return pd.DataFrame({USER_ID: users, MOVIE_ID: movies, RATING: np.array(stars, "float64")})


# Two tastes: users 1-4 watch movies 10, 11, 12 together; users 5-8 watch 20, 21, 22.
CLUSTERS = _ratings(
    [(u, m, 4.0 + (u + m) % 2 * 0.5) for u in (1, 2, 3, 4) for m in (10, 11, 12)]
    + [(u, m, 2.0 + (u + m) % 2) for u in (5, 6, 7, 8) for m in (20, 21, 22)]
    + [(9, 10, 5.0), (10, 20, 1.0)]
)


def test_ease_is_the_closed_form():
    # Three users, three movies: X = [[1,1,0],[1,0,1],[0,1,1]], λ = 1.
    ratings = _ratings([(1, 1, 4), (1, 2, 4), (2, 1, 4), (2, 3, 4), (3, 2, 4), (3, 3, 4)])
    ease = make_peer("ease")
    ease.lam = 1.0
    ease.fit(ratings)
    x = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=float)
    p = np.linalg.inv(x.T @ x + np.eye(3))
    expected = np.eye(3) - p / np.diag(p)  # B = I − P diag(1/diag P): zero diagonal
    np.testing.assert_allclose(ease.weights_, expected, atol=1e-12)
    np.testing.assert_allclose(np.diag(ease.weights_), 0.0)
    np.testing.assert_allclose(ease.scores([1, 2, 3], [1, 2, 3]), x @ expected, atol=1e-12)


@pytest.mark.parametrize("name", ["ease", "als"])
def test_ranking_peers_recommend_what_like_minded_users_watched(name):
    peer = make_peer(name, seed=3).fit(CLUSTERS)
    # User 9 watched only movie 10: 11 and 12 (same cluster) beat 21 and 22.
    scores = peer.scores([9], [11, 12, 21, 22])[0]
    assert min(scores[:2]) > max(scores[2:])
    scores = peer.scores([10], [11, 12, 21, 22])[0]
    assert min(scores[2:]) > max(scores[:2])
    assert np.isnan(peer.predict([9], [11])).all()  # they rank; they predict no stars


def test_svd_in_numpy_equals_surprise_predict():
    svd = make_peer("svd", seed=1).fit(CLUSTERS)
    users = CLUSTERS[USER_ID].to_numpy()
    movies = CLUSTERS[MOVIE_ID].to_numpy()
    ours = svd.predict(users, movies)
    codes_u = svd.user_index_.get_indexer(users)
    codes_m = svd.movie_index_.get_indexer(movies)
    theirs = [svd.algo_.predict(int(u), int(m)).est for u, m in zip(codes_u, codes_m)]
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    # An unknown user gets the global mean plus the movie's bias, as Surprise does.
    unknown = svd.predict([999], [10])[0]
    theirs_unknown = svd.algo_.predict("nobody", int(svd.movie_index_.get_loc(10))).est
    assert unknown == pytest.approx(theirs_unknown)
    full = svd.scores([1, 5], [10, 20])
    np.testing.assert_allclose(
        np.clip(full, 1.0, 5.0).ravel(), svd.predict([1, 1, 5, 5], [10, 20, 10, 20])
    )


def test_knn_baseline_predicts_stars_and_declines_to_rank():
    knn = make_peer("knn_baseline").fit(CLUSTERS)
    predicted = knn.predict([1, 5], [11, 21])
    assert predicted[0] > 3.5 > predicted[1]  # each user's cluster taste
    assert knn.ranks is False
    assert np.isnan(knn.scores([1], [10, 11])).all()


def test_every_peer_is_made_by_name_and_a_typo_is_refused():
    for name in PEERS:
        assert make_peer(name, seed=1).name == name
    with pytest.raises(ValueError, match="unknown peer"):
        make_peer("svdpp")
