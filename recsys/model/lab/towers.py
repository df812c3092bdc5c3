"""The two towers in numpy: the one forward pass that serving, evaluation and the bench run.

Training (``recsys.model.lab.network``) saves each tower's Dense layers under the keys that
:func:`weight_key` spells; :class:`Towers` reads them back and runs
``relu(x W1 + b1) → relu(· W2 + b2) → · W3 + b3 → L2-normalise`` in float32.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

USER_TOWER = "user_tower"
ITEM_TOWER = "item_tower"
TOWERS = (USER_TOWER, ITEM_TOWER)
LAYERS = (1, 2, 3)  # Dense 256 relu, Dense 128 relu, Dense 32


def weight_key(tower: str, layer: int, part: str) -> str:
    """``"user_tower/1/kernel"``: the name of one array in ``weights.npz``.

    part: ``"kernel"`` ([inputs, units]) or ``"bias"`` ([units]).
    """
    return f"{tower}/{layer}/{part}"


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """x / max(‖x‖₂, 1e-6) along the last axis, as the network's L2Normalize layer does."""
    squared = np.sum(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(np.maximum(squared, np.float32(1e-12)))


class Towers:
    """Both towers' weights as float32 arrays, read-only; thread-safe to share."""

    def __init__(self, weights: Mapping[str, np.ndarray]):
        self._layers: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for tower in TOWERS:
            layers = []
            for layer in LAYERS:
                kernel = np.array(weights[weight_key(tower, layer, "kernel")], np.float32)
                bias = np.array(weights[weight_key(tower, layer, "bias")], np.float32)
                if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):
                    raise ValueError(f"{weight_key(tower, layer, 'kernel')}: bad shape")
                kernel.setflags(write=False)
                bias.setflags(write=False)
                layers.append((kernel, bias))
            self._layers[tower] = layers

    def input_width(self, tower: str) -> int:
        return int(self._layers[tower][0][0].shape[0])

    def forward(self, tower: str, x: np.ndarray) -> np.ndarray:
        """[n, input_width] scaled network inputs → [n, 32] unit embeddings (float32)."""
        hidden = np.asarray(x, np.float32)
        last = len(self._layers[tower]) - 1
        for i, (kernel, bias) in enumerate(self._layers[tower]):
            hidden = hidden @ kernel + bias
            if i < last:
                np.maximum(hidden, 0.0, out=hidden)
        return l2_normalize(hidden)

    def users(self, x: np.ndarray) -> np.ndarray:
        """[n, 14] scaled user inputs → [n, 32] user embeddings."""
        return self.forward(USER_TOWER, x)

    def items(self, x: np.ndarray) -> np.ndarray:
        """[n, 16] scaled item inputs → [n, 32] item embeddings."""
        return self.forward(ITEM_TOWER, x)
