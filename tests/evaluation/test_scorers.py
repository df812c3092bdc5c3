"""The two-tower scorer: its numpy towers agree with Keras on the held-out pairs."""

from __future__ import annotations

import numpy as np

from recsys.columns import MOVIE_ID, USER_ID
from recsys.config import preset_config, recipe_config
from recsys.evaluation.protocols import prepare_holdout
from recsys.evaluation.scorers import TwoTowerScorer


def test_numpy_towers_match_keras(synthetic):
    from recsys.model.features import rows_for
    from recsys.model.lab import network as two_tower

    data = prepare_holdout(
        synthetic.ratings, synthetic.movies, "holdout", preset_config("lab"), rng=1
    )
    fitted = two_tower.fit(data.user_x, data.item_x, data.y_scaled, recipe_config("fast", epochs=1))
    scorer = TwoTowerScorer(two_tower.tower_weights(fitted.model), data)
    test = data.test_ratings
    user_rows, item_rows, _ = rows_for(test, data.training.items, data.training.users, None)
    expected = two_tower.predict(
        fitted.model,
        data.scalers.scale_users(user_rows)[:, 3:],
        data.scalers.scale_items(item_rows)[:, 1:],
    )
    got = scorer.predict_scaled(test[USER_ID].to_numpy(), test[MOVIE_ID].to_numpy())
    np.testing.assert_allclose(got, expected, atol=1e-5)
