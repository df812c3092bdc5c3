"""Nearest neighbours in the movie space: squared Euclidean distances between item
embeddings, by matrix products rather than loops over pairs."""

from __future__ import annotations

import numpy as np


class EmbeddingSpace:
    """Item embeddings with what every distance query reuses; read-only, thread-safe.

    embeddings: [n_items, d] float32 (d = 32), C-contiguous.
    """

    def __init__(self, embeddings: np.ndarray):
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self._squared_norms = np.sum(self.embeddings**2, axis=1)  # [n_items] ‖a_j‖²
        self._minus_two_t = np.ascontiguousarray(-2.0 * self.embeddings.T)  # [d, n_items]
        for array in (self.embeddings, self._squared_norms, self._minus_two_t):
            array.setflags(write=False)

    def __len__(self) -> int:
        return len(self.embeddings)

    def squared_distances(self, rows: np.ndarray) -> np.ndarray:
        """[len(rows), n_items] squared Euclidean distances, clipped at 0."""
        cross = self.embeddings[rows] @ self.embeddings.T
        norms = self._squared_norms
        distance = norms[rows, None] + norms[None, :] - 2.0 * cross
        return np.maximum(distance, 0.0, out=distance)

    def pair_distances(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        """[len(rows), len(others)] squared Euclidean distances, clipped at 0."""
        a, b = self.embeddings[rows], self.embeddings[others]
        norms = self._squared_norms
        distance = norms[rows, None] + norms[None, others] - 2.0 * (a @ b.T)
        return np.maximum(distance, 0.0, out=distance)

    def k_nearest(self, row: int, k: int, tie_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, squared distances) of the ``k`` movies nearest to ``row``, itself left out.

        Nearest first; equal distances are ordered by ``tie_ids`` ([n_items], movieIds),
        so the answer never depends on partition order. k is clipped to 0..n_items-1.
        """
        distance = self.squared_distances(np.array([row]))[0]
        distance[row] = np.inf
        k = max(0, min(int(k), len(distance) - 1))
        nearest = np.argpartition(distance, k - 1)[:k] if k else np.array([], dtype=int)
        nearest = nearest[np.lexsort((tie_ids[nearest], distance[nearest]))]
        return nearest, distance[nearest]

    def nearest_all(self, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """([n_items] row of each movie's nearest other movie, [n_items] its squared distance).

        For a fixed row i, argmin_j ‖a_i − a_j‖² = argmin_j (‖a_j‖² − 2 a_i·a_j), so each
        block of ``block`` rows costs one matrix product and one in-place pass.
        """
        n = len(self.embeddings)
        nearest = np.empty(n, dtype=np.int64)
        best = np.empty(n, dtype=np.float64)
        for start in range(0, n, block):
            rows = np.arange(start, min(start + block, n))
            partial = self.embeddings[rows] @ self._minus_two_t
            partial += self._squared_norms[None, :]
            partial[np.arange(len(rows)), rows] = np.inf
            nearest[rows] = np.argmin(partial, axis=1)
            found = partial[np.arange(len(rows)), nearest[rows]] + self._squared_norms[rows]
            best[rows] = np.maximum(found, 0.0)
        return nearest, best
