"""Feature and target scalers, fitted with scikit-learn, stored as plain numbers in JSON.

Serving applies them with numpy alone (see ``Scalers``), so no pickle is ever needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from recsys.columns import ITEM_NOT_TRAINED, USER_NOT_TRAINED

TARGET_RANGE = (-1.0, 1.0)


@dataclass(frozen=True)
class Scalers:
    """StandardScaler for user and item vectors, MinMaxScaler(-1, 1) for stars.

    user_mean/user_scale: [17] over the full user vector (lab column order).
    item_mean/item_scale: [17] over the full item vector.
    target_min/target_max: the star range seen in fitting.
    """

    user_mean: np.ndarray
    user_scale: np.ndarray
    item_mean: np.ndarray
    item_scale: np.ndarray
    target_min: float
    target_max: float

    @classmethod
    def fit(cls, user_rows: np.ndarray, item_rows: np.ndarray, stars: np.ndarray) -> Scalers:
        from sklearn.preprocessing import MinMaxScaler, StandardScaler  # fitting only

        user = StandardScaler().fit(user_rows)
        item = StandardScaler().fit(item_rows)
        target = MinMaxScaler(TARGET_RANGE).fit(np.asarray(stars, "float64").reshape(-1, 1))
        return cls(
            user_mean=user.mean_,
            user_scale=user.scale_,
            item_mean=item.mean_,
            item_scale=item.scale_,
            target_min=float(target.data_min_[0]),
            target_max=float(target.data_max_[0]),
        )

    def scale_users(self, user_rows: np.ndarray) -> np.ndarray:
        return (np.asarray(user_rows, "float64") - self.user_mean) / self.user_scale

    def scale_items(self, item_rows: np.ndarray) -> np.ndarray:
        return (np.asarray(item_rows, "float64") - self.item_mean) / self.item_scale

    def user_inputs(self, user_rows: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled user vectors → [n, 14] scaled inputs the network reads."""
        return self.scale_users(np.atleast_2d(user_rows))[:, len(USER_NOT_TRAINED) :]

    def item_inputs(self, item_rows: np.ndarray) -> np.ndarray:
        """[n, 17] unscaled item vectors → [n, 16] scaled inputs the network reads."""
        return self.scale_items(np.atleast_2d(item_rows))[:, len(ITEM_NOT_TRAINED) :]

    def scale_target(self, stars: np.ndarray) -> np.ndarray:
        """Stars → scaled [-1, 1] units."""
        low, high = TARGET_RANGE
        span = self.target_max - self.target_min or 1.0
        return (np.asarray(stars, "float64") - self.target_min) / span * (high - low) + low

    def unscale_target(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled [-1, 1] units → stars."""
        low, high = TARGET_RANGE
        span = self.target_max - self.target_min or 1.0
        return (np.asarray(scaled, "float64") - low) / (high - low) * span + self.target_min

    @property
    def star_span(self) -> float:
        """Stars per scaled unit × 2: multiply a scaled RMSE by span/2 to get stars."""
        return self.target_max - self.target_min

    def to_json(self) -> str:
        return json.dumps(
            {
                "user": {"mean": self.user_mean.tolist(), "scale": self.user_scale.tolist()},
                "item": {"mean": self.item_mean.tolist(), "scale": self.item_scale.tolist()},
                "target": {
                    "range": list(TARGET_RANGE),
                    "data_min": self.target_min,
                    "data_max": self.target_max,
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Scalers:
        raw = json.loads(text)
        return cls(
            user_mean=np.asarray(raw["user"]["mean"], "float64"),
            user_scale=np.asarray(raw["user"]["scale"], "float64"),
            item_mean=np.asarray(raw["item"]["mean"], "float64"),
            item_scale=np.asarray(raw["item"]["scale"], "float64"),
            target_min=float(raw["target"]["data_min"]),
            target_max=float(raw["target"]["data_max"]),
        )
