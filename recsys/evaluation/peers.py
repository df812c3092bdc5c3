"""Well-known recommenders scored on the very same split as ours: the peers.

- ``svd``: Surprise's SVD (biased matrix factorisation, Funk-style SGD), defaults.
- ``knn_baseline``: Surprise's KNNBaseline, item-based with the pearson_baseline
  similarity; it predicts stars only (ranking every movie for every user through its
  per-pair ``estimate`` would take minutes, so its ranking metrics are null).
- ``als``: implicit's AlternatingLeastSquares (64 factors) on who rated what; ranks only.
- ``ease``: EASE (Steck, 2019), the closed form ``B = I − P·diag(1/diag P)`` with
  ``P = (XᵀX + λI)⁻¹`` over the binary user × movie matrix, λ = 500; ranks only.

Each has the baselines' API (``fit``, ``predict`` in stars, ``scores``), learns on the
training ratings only, and takes its seed in the constructor. None loads or writes a
pickle: the fitted parameters stay in memory.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy import sparse

from recsys.evaluation.baselines import Baseline, RatingCodes

PEERS = ("svd", "knn_baseline", "als", "ease")
# Peers that score any (user, movie) pair cheaply: they take part in the ranking task.
EASE_LAMBDA = 500.0
ALS_FACTORS = 64


def _interactions(codes: RatingCodes, n_users: int, n_movies: int) -> sparse.csr_matrix:
    """[n_users, n_movies] float32, 1 where the user rated the movie."""
    ones = np.ones(len(codes.users), dtype=np.float32)
    matrix = sparse.csr_matrix((ones, (codes.users, codes.movies)), shape=(n_users, n_movies))
    matrix.data[:] = 1.0  # a duplicate (user, movie) pair counts once
    return matrix


class _SurpriseModel(Baseline):
    """Fits a Surprise algorithm on the coded ratings; ids are our codes, as strings-free ints."""

    rating_scale = (0.5, 5.0)

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def _algorithm(self):
        raise NotImplementedError

    def _fit(self, codes, items):
        import pandas as pd
        from surprise import Dataset, Reader

        frame = pd.DataFrame({"u": codes.users, "i": codes.movies, "r": codes.stars})
        reader = Reader(rating_scale=self.rating_scale)
        self.trainset_ = Dataset.load_from_df(frame, reader).build_full_trainset()
        self.algo_ = self._algorithm()
        self.algo_.fit(self.trainset_)
        # Surprise's inner ids for our codes; -1 where it never saw the code.
        self.inner_user_ = self._inner(self.trainset_.to_inner_uid, len(self.user_index_))
        self.inner_movie_ = self._inner(self.trainset_.to_inner_iid, len(self.movie_index_))

    @staticmethod
    def _inner(to_inner, n: int) -> np.ndarray:
        inner = np.full(n, -1, dtype=np.int64)
        for code in range(n):
            with contextlib.suppress(ValueError):
                inner[code] = to_inner(code)
        return inner


class SurpriseSVD(_SurpriseModel):
    """``est = μ + b_u + b_i + q_iᵀ p_u``, computed from the fitted factors in numpy."""

    name = "svd"

    def _algorithm(self):
        from surprise import SVD

        return SVD(random_state=self.seed)

    def _parts(self, users: np.ndarray, movies: np.ndarray):
        u = np.where(users >= 0, self.inner_user_[np.maximum(users, 0)], -1)
        m = np.where(movies >= 0, self.inner_movie_[np.maximum(movies, 0)], -1)
        algo = self.algo_
        bu = np.where(u >= 0, algo.bu[np.maximum(u, 0)], 0.0)
        bi = np.where(m >= 0, algo.bi[np.maximum(m, 0)], 0.0)
        pu = np.where((u >= 0)[:, None], algo.pu[np.maximum(u, 0)], 0.0)
        qi = np.where((m >= 0)[:, None], algo.qi[np.maximum(m, 0)], 0.0)
        return bu, bi, pu, qi

    def _pair_scores(self, users, movies):
        bu, bi, pu, qi = self._parts(users, movies)
        return self.trainset_.global_mean + bu + bi + np.sum(pu * qi, axis=1)

    def _scores(self, users, movies):
        bu, _, pu, _ = self._parts(users, np.full(users.shape, -1))
        _, bi, _, qi = self._parts(np.full(movies.shape, -1), movies)
        return self.trainset_.global_mean + bu[:, None] + bi[None, :] + pu @ qi.T


class SurpriseKNNBaseline(_SurpriseModel):
    """Item-based KNN with pearson_baseline similarity; Surprise's own ``estimate``."""

    name = "knn_baseline"
    ranks = False

    def _algorithm(self):
        from surprise import KNNBaseline

        return KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False
        )

    def _pair_scores(self, users, movies):
        from surprise import PredictionImpossible

        out = np.empty(len(users), dtype="float64")
        for n, (code_u, code_m) in enumerate(zip(users, movies)):
            u = self.inner_user_[code_u] if code_u >= 0 else -1
            m = self.inner_movie_[code_m] if code_m >= 0 else -1
            try:
                if u < 0 or m < 0:
                    raise PredictionImpossible("unknown user or movie")
                estimate = self.algo_.estimate(int(u), int(m))
                out[n] = estimate[0] if isinstance(estimate, tuple) else estimate
            except PredictionImpossible:
                out[n] = self.trainset_.global_mean
        return out

    def _scores(self, users, movies):
        return np.full((users.size, movies.size), np.nan)


class ImplicitALS(Baseline):
    """implicit's ALS on the binary who-rated-what matrix; ranks movies, predicts no stars."""

    name = "als"
    predicts_ratings = False

    def __init__(self, seed: int | None = None, factors: int = ALS_FACTORS):
        self.seed = seed
        self.factors = factors

    def _fit(self, codes, items):
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        matrix = _interactions(codes, len(self.user_index_), len(self.movie_index_))
        with threadpool_limits(1, "blas"):  # implicit warns unless BLAS runs one thread
            model = AlternatingLeastSquares(
                factors=self.factors, iterations=15, random_state=self.seed, num_threads=1
            )
            model.fit(matrix, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        return np.full(np.asarray(movie_ids).reshape(-1).shape, np.nan)

    def _scores(self, users, movies):
        known_u, known_m = users >= 0, movies >= 0
        user_vecs = np.where(known_u[:, None], self.user_factors_[np.maximum(users, 0)], 0.0)
        item_vecs = np.where(known_m[:, None], self.item_factors_[np.maximum(movies, 0)], 0.0)
        return user_vecs @ item_vecs.T


class EASE(Baseline):
    """Embarrassingly shallow autoencoder: one closed-form item-item weight matrix."""

    name = "ease"
    predicts_ratings = False

    def __init__(self, seed: int | None = None, lam: float = EASE_LAMBDA):
        self.seed = seed  # EASE draws nothing; kept for a uniform constructor
        self.lam = lam

    def _fit(self, codes, items):
        self.interactions_ = _interactions(codes, len(self.user_index_), len(self.movie_index_))
        gram = (self.interactions_.T @ self.interactions_).toarray().astype("float64")
        gram[np.diag_indices_from(gram)] += self.lam
        precision = np.linalg.inv(gram)
        weights = precision / -np.diag(precision)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights

    def predict(self, user_ids, movie_ids) -> np.ndarray:
        return np.full(np.asarray(movie_ids).reshape(-1).shape, np.nan)

    def _scores(self, users, movies):
        known_u, known_m = users >= 0, movies >= 0
        history = self.interactions_[np.maximum(users, 0)].toarray()
        history[~known_u] = 0.0
        scores = history @ self.weights_[:, np.maximum(movies, 0)]
        scores[:, ~known_m] = 0.0
        return scores


PEER_FACTORIES = {
    "svd": SurpriseSVD,
    "knn_baseline": SurpriseKNNBaseline,
    "als": ImplicitALS,
    "ease": EASE,
}


def make_peer(name: str, seed: int | None = None) -> Baseline:
    """A fresh, unfitted peer by its name in ``PEERS``."""
    try:
        return PEER_FACTORIES[name](seed=seed)
    except KeyError:
        raise ValueError(f"unknown peer {name!r}; choose one of {', '.join(PEERS)}") from None
