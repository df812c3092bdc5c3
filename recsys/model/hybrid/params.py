"""The hybrid two-tower model in numpy: its user inputs and its serving math.

No TensorFlow here: training (``recsys.model.hybrid.network``) fits the towers and
hands back a :class:`HybridParams`; serving and the evaluation run it in numpy.

Both towers' outputs are wider than the embedding width d. The user tower gives
``[u (d), π_u, g_u (14)]``: u the taste vector, π_u = β + softplus(·) the user's own
weight on popularity, g_u = softplus(·)·w ⊙ c_u the genre match (w learned per genre,
c_u the centred genre stars, 0 where not rated). The item side is ``[v_i (d),
log(1 + n_i), f_i (14)]``: v_i, the log count of training ratings and the genre flags.

- ranking: ``[u, π_u, g_u]·[v_i, log(1 + n_i), f_i] + p_i`` (a dot product plus an item
  bias), so a user with little evidence can lean on the genres they set, not on
  popularity;
- stars: ``μ + b_u + b_i + α·u·v_i + r_u·q_i``, where ``b_i`` includes the classic item
  bias and r_u (the user's last k outputs, 0-weighted in the ranking), q_i are k-wide
  rating vectors of the two towers. After training, ``recsys.model.hybrid.stars`` refits
  the movies' side in closed form (α·v_i becomes α·v_i + w_i) and a :class:`FoldIn`
  corrects each user's stars from their own ratings (a shift and a vector z_u that adds
  z_u·v_i), computed at serving from the ratings or picks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST
from recsys.genres import validate_genre_ratings
from recsys.model.hybrid.fold_in import FoldIn, apply_fold_in
from recsys.model.hybrid.inputs import (
    CENTER,
    SHRINK,
    UserInputs,
    genre_averages,
    genre_dense,
    genre_deviation,
    softplus,
    user_inputs,
)
from recsys.model.hybrid.layout import DENSE, N_GENRES, N_HEAD, ServedLayout, TowerLayout
from recsys.model.hybrid.neighbour_table import NeighbourTable
from recsys.model.lab.towers import USER_TOWER, weight_key

_GENRE_COLUMN = {genre: j for j, genre in enumerate(GENRE_LIST)}
STAR_RANGE = (0.5, 5.0)


@dataclass(frozen=True)
class HybridParams:
    """A trained hybrid model as numpy arrays; immutable and thread-safe to share.

    movie_ids: [n] the catalogue. item_vecs: [n, d + 15 + k] the item side [v_i, log(1 +
    n_i), f_i, 0]. star_vecs: [n, k] the rating head's item side: learned vectors q_i,
    then the genre flags f_i (its last 14 columns), which the user's genre deviations
    weigh (``star_genre_weight``).
    rank_bias: [n] p_i. star_bias: [n] b_i (stars, baseline included).
    counts: [n] training ratings. baseline_bias: [n] b⁰_i. flags: [n, 14].
    user_layers: ((W1, b1), (W2, b2)) of the user tower, [31 + 2d, h] → [h, d + 3 + k].
    genre_weight: [14] w. mu: mean stars; alpha: stars per u·v; pop_prior: β, the
    least popularity weight. neighbours: the item-to-item term's table
    (``recsys.model.hybrid.neighbour_table``; None in a bundle from before it: no term).
    """

    movie_ids: np.ndarray
    item_vecs: np.ndarray
    rank_bias: np.ndarray
    star_bias: np.ndarray
    counts: np.ndarray
    baseline_bias: np.ndarray
    flags: np.ndarray
    user_layers: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    genre_weight: np.ndarray
    star_vecs: np.ndarray
    star_genre_weight: np.ndarray
    mu: float
    alpha: float
    pop_prior: float
    star_taste: np.ndarray | None = None
    fold_in: FoldIn | None = None
    neighbours: NeighbourTable | None = None

    @property
    def dim(self) -> int:
        """d, the width of the taste vectors u and v."""
        return int(self.item_vecs.shape[1]) - 1 - N_GENRES - self.star_dim

    @property
    def star_dim(self) -> int:
        """k, the width of the rating head's vectors (the last k of u; star_vecs)."""
        return int(self.star_vecs.shape[1])

    @property
    def width(self) -> int:
        """The tower's user vector width, d + 15 + k (the item side's); a user vector
        with the fold-in carries the stars' block after it (``apply_fold_in``)."""
        return int(self.item_vecs.shape[1])

    @cached_property
    def star_items(self) -> np.ndarray:
        """[n, d] s_i, what u·s_i weighs in the stars: α·v_i, plus w_i once the rating
        head is refitted (``recsys.model.hybrid.stars``)."""
        if self.star_taste is not None:
            return self.star_taste
        return np.ascontiguousarray(self.alpha * self.taste_vecs, dtype="float32")

    @cached_property
    def _star_columns(self) -> np.ndarray:
        """[n, 2d + k] [s_i, q_i, v_i]: every movie's side of the stars' dot products, in
        one array, so that they are one product."""
        parts = [self.star_items, self.star_vecs, self.taste_vecs]
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype="float32")

    def _star_user(self, u: np.ndarray) -> np.ndarray:
        """[n, 2d + k] the users' side of ``_star_columns``: the fold-in's block when ``u``
        carries one, else the tower's u and r_u (and no z_u)."""
        at = ServedLayout(self.dim, self.star_dim)
        if u.shape[1] > at.width:
            return u[:, at.fold_in]
        taste = u[:, at.taste]
        return np.concatenate([taste, u[:, at.stars], np.zeros_like(taste)], axis=1)

    def star_dots(self, u: np.ndarray, rows) -> np.ndarray:
        """[n_users, n_rows] the stars' dot products of user vectors [n_users, ≥ width]
        with catalogue ``rows``."""
        return self._star_user(u) @ self._star_columns[rows].T

    @cached_property
    def index(self) -> pd.Index:
        """movieId → catalogue row (built once: a lookup then costs no hashing)."""
        return pd.Index(self.movie_ids)

    @cached_property
    def taste_vecs(self) -> np.ndarray:
        """[n, d] v_i, contiguous: what the user tower pools."""
        return np.ascontiguousarray(self.item_vecs[:, : self.dim])

    # ------------------------------------------------------------------ users

    def user_vectors(self, inputs: UserInputs) -> tuple[np.ndarray, np.ndarray]:
        """The user tower: ([n, d + 15 + k] [u, π_u, g_u, r_u], [n] b_u in stars)."""
        return self._tower(
            inputs.dense, inputs.plain @ self.taste_vecs, inputs.like @ self.taste_vecs
        )

    def _tower(
        self, dense: np.ndarray, plain: np.ndarray, like: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The user MLP and head from dense inputs [n, 31] and the two pools [n, d]:
        ([u | π | g | r_u | genre stars], b_u + the offset) (``layout.TowerLayout``)."""
        at = TowerLayout(self.dim)
        x = np.concatenate([dense, plain, like], axis=1).astype("float32")
        (w1, b1), (w2, b2) = self.user_layers
        out = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        pop = self.pop_prior + softplus(out[:, at.raw_pop])
        strength = softplus(out[:, at.raw_strength])
        genre = strength * self.genre_weight * dense[:, DENSE.centred]
        stars_by_genre = self.star_genre_weight * genre_deviation(dense)
        parts = [out[:, at.taste], pop, genre, out[:, at.raw_rating], stars_by_genre]
        user = np.concatenate(parts, 1).astype("float32")
        return user, out[:, at.user_bias] + dense[:, DENSE.offset_column]

    def histories(self, users: np.ndarray, movie_ids: np.ndarray, stars: np.ndarray, n_users: int):
        """User vectors from ratings: (user codes 0..n_users-1, movie ids, stars).

        Movies outside the catalogue are ignored.
        """
        rows = self.index.get_indexer(np.asarray(movie_ids, "int64"))
        keep = rows >= 0
        users, rows = np.asarray(users)[keep], rows[keep]
        stars = np.asarray(stars, "float64")[keep]
        inputs = user_inputs(users, rows, stars, n_users, self.flags, (self.mu, self.baseline_bias))
        u, user_bias = self.user_vectors(inputs)
        return apply_fold_in(self, u, user_bias, users, rows, stars)

    def new_user(
        self,
        genre_ratings: Mapping[str, float],
        rated_movies: Mapping[int, float] | None = None,
        unset: Iterable[str] = (),
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """A new user from genre stars (0 or absent = not rated) and picked movies
        ({movieId: stars}); no user id and no retraining. Returns (u [d], b_u).

        ``unset`` genres count as not rated, even where the picks have them (what a
        genre adds to a score: see ``recsys.serving.reasons``). ``rows``: the picks'
        catalogue rows when the caller has looked them up already (-1 = not served).
        """
        genre = np.zeros(N_GENRES)
        for name, stars in validate_genre_ratings(genre_ratings).items():
            genre[_GENRE_COLUMN[name]] = stars
        picks = rated_movies or {}
        count = len(picks)
        if rows is None:
            rows = self.index.get_indexer(np.fromiter(picks, dtype="int64", count=count))
        stars = np.fromiter(picks.values(), dtype="float64", count=count)
        if count and (rows < 0).any():
            stars, rows = stars[rows >= 0], rows[rows >= 0]
        # One user: user_inputs' arithmetic on a handful of rows, without sparse matrices.
        genre = np.where(genre > 0, genre, genre_averages(stars, self.flags[rows]))
        for name in unset:
            genre[_GENRE_COLUMN[name]] = 0.0
        n, rated = len(rows), np.count_nonzero(genre)  # genre stars are 0 or positive
        mean = stars.sum() / n if n else (genre.sum() / rated if rated else CENTER)
        offset = (stars.sum() - n * self.mu - self.baseline_bias[rows].sum()) / (n + SHRINK)
        dense = genre_dense(genre[None, :], np.array([mean]), np.array([n]), np.array([offset]))
        taste = self.taste_vecs[rows]
        plain = taste.sum(axis=0)[None, :] / max(n, 1)
        like = ((stars - mean) @ taste)[None, :] / max(n, 1)
        u, user_bias = self._tower(dense, plain, like)
        if n:
            u, user_bias = apply_fold_in(self, u, user_bias, np.zeros(n, "int64"), rows, stars)
        return u[0], float(user_bias[0])

    # ------------------------------------------------------------------ scores

    def rank_scores(self, u: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] ranking scores (higher first) for user vectors [n_users, d]."""
        u = np.atleast_2d(u)[:, : self.width]
        if rows is None:
            return u @ self._item_columns + self.rank_bias
        return u @ self.item_vecs[rows].T + self.rank_bias[rows]

    def rank_with_history(
        self,
        u: np.ndarray,
        rated: np.ndarray,
        stars: np.ndarray,
        rows: np.ndarray | None = None,
        history: bool = False,
    ) -> np.ndarray:
        """[n or len(rows)] one user's ranking scores with the item-to-item term from the
        catalogue rows they rated or picked (``rated``) and their ``stars``; ``history``:
        they are an existing user's ratings, each weighed by its movie's rarity (a new
        user's picks are not)."""
        rank = self.rank_scores(u, rows)[0]
        table = self.neighbours
        if table is None or len(rated) == 0:
            return rank
        term = table.term(rated, stars, self.history_emphasis(rated) if history else None)
        u = np.ravel(u)
        term -= table.popularity_relief * float(u[self.dim]) * self._log_counts
        return rank + (term if rows is None else term[rows])

    def ranks_with_histories(
        self, u: np.ndarray, history: tuple[np.ndarray, np.ndarray, np.ndarray], rows
    ) -> np.ndarray:
        """[n_users, len(rows)] ``rank_with_history`` for user vectors [n_users, …] and
        their ratings ``history`` (user code, catalogue row, stars)."""
        rank = self.rank_scores(u, rows)
        if self.neighbours is None:
            return rank
        columns = slice(None) if rows is None else rows
        emphasis = self.history_emphasis(history[1])
        terms = self.neighbours.terms(*history, len(rank), emphasis)[:, columns].toarray()
        rated = np.bincount(history[0], minlength=len(rank)) > 0
        relief = self._relief(u)[:, columns] * rated[:, None]
        return rank + terms - relief

    def _relief(self, u: np.ndarray) -> np.ndarray:
        """[n_users, n] the share of each user's popularity term that the item-to-item
        term replaces: relief × π_u × log(1 + n_i)."""
        share = self.neighbours.popularity_relief * u[:, self.dim : self.dim + 1]
        return share * self._log_counts[None, :]

    def history_emphasis(self, rated: np.ndarray) -> np.ndarray:
        """[len(rated)] the rarity weight of each catalogue row an existing user rated
        (``NeighbourTable.history_weights``)."""
        return self._history_weights[np.asarray(rated, "int64")]

    @cached_property
    def _history_weights(self) -> np.ndarray:
        return self.neighbours.history_weights(self._log_counts)

    @cached_property
    def _log_counts(self) -> np.ndarray:
        """[n] log(1 + n_i), contiguous (a column of ``item_vecs`` is a strided read)."""
        return np.ascontiguousarray(self.item_vecs[:, self.dim], dtype="float64")

    @cached_property
    def _item_columns(self) -> np.ndarray:
        """[width, n] the item vectors, one movie a column: a product over the whole
        catalogue reads them in order (a fifth faster than through a transposed view)."""
        return np.ascontiguousarray(self.item_vecs.T)

    def stars(self, u: np.ndarray, user_bias, rows: np.ndarray | None = None) -> np.ndarray:
        """[n_users, n_rows] predicted stars, clipped to 0.5–5."""
        rows = slice(None) if rows is None else rows
        user_bias = np.reshape(np.asarray(user_bias, "float64"), (-1, 1))
        dots = self.star_dots(np.atleast_2d(u), rows)
        raw = self.mu + user_bias + self.star_bias[rows] + dots
        return np.clip(raw, *STAR_RANGE)

    def pair_dots(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n] the stars' dot products for aligned (user vector, catalogue row) pairs."""
        return np.einsum("ij,ij->i", self._star_user(u), self._star_columns[rows])

    def pair_stars(self, u: np.ndarray, user_bias: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """[n] predicted stars for aligned (user vector, catalogue row) pairs."""
        raw = self.mu + user_bias + self.star_bias[rows] + self.pair_dots(u, rows)
        return np.clip(raw, *STAR_RANGE)

    # ------------------------------------------------------------------ storage

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array for ``weights.npz``: the user tower under the shared weight keys."""
        arrays = {
            "movie_ids": self.movie_ids,
            "item_vecs": self.item_vecs,
            "rank_bias": self.rank_bias,
            "star_bias": self.star_bias,
            "counts": self.counts,
            "baseline_bias": self.baseline_bias,
            "flags": self.flags,
            "genre_weight": self.genre_weight,
            "star_vecs": self.star_vecs,
            "star_genre_weight": self.star_genre_weight,
            "scalars": np.array([self.mu, self.alpha, self.pop_prior], dtype="float64"),
        }
        if self.star_taste is not None:
            arrays["star_taste"] = self.star_taste
        if self.fold_in is not None:
            arrays["fold_in"] = self.fold_in.to_array()
        if self.neighbours is not None:
            arrays.update(self.neighbours.to_arrays())
        for layer, (kernel, bias) in enumerate(self.user_layers, start=1):
            arrays[weight_key(USER_TOWER, layer, "kernel")] = kernel
            arrays[weight_key(USER_TOWER, layer, "bias")] = bias
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> HybridParams:
        """The inverse of :meth:`to_arrays`; raises KeyError or ValueError if malformed."""
        n = len(arrays["movie_ids"])
        layers = tuple(
            (
                np.asarray(arrays[weight_key(USER_TOWER, i, "kernel")], "float32"),
                np.asarray(arrays[weight_key(USER_TOWER, i, "bias")], "float32"),
            )
            for i in (1, 2)
        )
        item_vecs = np.asarray(arrays["item_vecs"], "float32")
        per_item = ("rank_bias", "star_bias", "counts", "baseline_bias", "flags")
        if item_vecs.shape[0] != n or any(len(arrays[key]) != n for key in per_item):
            raise ValueError("hybrid arrays disagree on the number of movies")
        star_vecs = np.asarray(arrays["star_vecs"], "float32")
        k = star_vecs.shape[1]
        d = item_vecs.shape[1] - 1 - N_GENRES - k
        learned = k - N_GENRES  # the rating head's learned dims; the rest are genre flags
        if (
            layers[0][0].shape[0] != DENSE.width + 2 * d
            or layers[1][0].shape[1] != d + N_HEAD + learned
        ):
            raise ValueError("the user tower does not fit the item vectors")
        genre_weight = np.asarray(arrays["genre_weight"], "float32")
        star_genre_weight = np.asarray(arrays["star_genre_weight"], "float32")
        if genre_weight.shape != (N_GENRES,) or star_genre_weight.shape != (N_GENRES,):
            raise ValueError("the genre weights do not fit the genres")
        mu, alpha, pop_prior = (float(x) for x in arrays["scalars"])
        star_taste = None  # absent from a model whose rating head was not refitted
        if "star_taste" in arrays:
            star_taste = np.asarray(arrays["star_taste"], "float32")
            if star_taste.shape != (n, d):
                raise ValueError("the rating head's movie vectors do not fit the movies")
        fold_in = FoldIn.from_array(arrays["fold_in"]) if "fold_in" in arrays else None
        params = cls(
            movie_ids=np.asarray(arrays["movie_ids"], "int64"),
            item_vecs=item_vecs,
            rank_bias=np.asarray(arrays["rank_bias"], "float64"),
            star_bias=np.asarray(arrays["star_bias"], "float64"),
            counts=np.asarray(arrays["counts"], "int64"),
            baseline_bias=np.asarray(arrays["baseline_bias"], "float64"),
            flags=np.asarray(arrays["flags"], "float32"),
            user_layers=layers,
            genre_weight=genre_weight,
            star_vecs=star_vecs,
            star_genre_weight=star_genre_weight,
            mu=mu,
            alpha=alpha,
            pop_prior=pop_prior,
            star_taste=star_taste,
            fold_in=fold_in,
            neighbours=NeighbourTable.from_arrays(arrays, n),
        )
        arrays_out = (params.movie_ids, params.item_vecs, params.rank_bias, params.star_bias)
        for array in (*arrays_out, params.genre_weight):
            array.setflags(write=False)
        return params
