"""The dashboard's Altair charts (recsys.dashboard.charts): what each plots, in what order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys.columns import ACTUAL, ERROR, GENRE_LIST, GENRES, MOVIE_ID, PREDICTED, TITLE, YEAR
from recsys.dashboard.charts import (
    embedding_chart,
    evaluation_chart,
    genre_averages_chart,
    genre_bar_chart,
    loss_chart,
    predicted_vs_actual_chart,
)
from recsys.dashboard.overview import MAIN_GENRE

MEANS = pd.DataFrame(
    {
        "model": ["two_tower", "global_mean", "item_mean"],
        "rmse": [0.88, 1.04, np.nan],
        "ndcg_at_10": [0.12, 0.01, 0.05],
    }
)


@pytest.mark.parametrize(("metric", "order"), [("rmse", "x"), ("ndcg_at_10", "-x")])
def test_evaluation_chart_puts_the_best_model_first(metric, order):
    spec = evaluation_chart(MEANS, metric).to_dict()
    assert spec["encoding"]["y"]["sort"] == order


def test_evaluation_chart_marks_ours_and_drops_what_does_not_apply():
    chart = evaluation_chart(MEANS, "rmse")
    assert chart.data["model"].tolist() == ["two_tower", "global_mean"]
    assert chart.data["ours"].tolist() == ["served model", "others"]
    named = evaluation_chart(MEANS, "rmse", "RMSE (stars)", ours="global_mean")
    assert named.data["ours"].tolist() == ["others", "served model"]
    assert named.to_dict()["title"] == "RMSE (stars) by model"


def test_loss_chart_has_one_point_per_epoch_and_series():
    chart = loss_chart({"loss": [0.3, 0.2, 0.1], "val_loss": [0.4, 0.35, 0.3], "lr": [0.01] * 3})
    table = chart.data
    assert sorted(set(table["series"])) == ["loss", "val_loss"]
    assert table[table["series"] == "loss"]["epoch"].tolist() == [1, 2, 3]
    assert table[table["series"] == "val_loss"]["MSE (scaled)"].tolist() == [0.4, 0.35, 0.3]


def test_the_hybrid_models_losses_are_named_as_what_they_are_each_on_its_own_axis():
    """A hybrid bundle's history also holds its ranking loss under "loss": it is not
    shown as a scaled MSE."""
    history = {"loss": [7.1, 6.9], "rank_loss": [7.1, 6.9], "rating_loss": [0.79, 0.72]}
    spec = loss_chart(history).to_dict()
    titles = [layer["encoding"]["y"]["field"] for layer in spec["layer"]]
    assert titles == ["ranking loss (softmax)", "stars² error"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert "MSE (scaled)" not in str(spec)


@pytest.mark.parametrize("history", [{}, {"loss": []}, {"lr": [0.01]}, {"loss": "broken"}])
def test_no_loss_history_gives_no_chart(history):
    assert loss_chart(history) is None


def test_genre_bars_are_sorted_by_value_and_mean_ratings_need_not_start_at_zero():
    table = pd.DataFrame({"genre": sorted(GENRE_LIST), "ratings per genre": range(14)})
    spec = genre_bar_chart(table, "ratings per genre", "Ratings").to_dict()
    assert spec["encoding"]["y"]["sort"] == "-x"
    assert spec["encoding"]["x"]["axis"]["format"] == ",.0f"  # 10,000, not 1e+4
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["scale"]["zero"] is True
    means = genre_bar_chart(table, "ratings per genre", "Mean", ".2f", from_zero=False)
    assert means.to_dict()["encoding"]["x"]["scale"]["zero"] is False
    assert means.to_dict()["mark"]["type"] == "circle"  # a bar must start at zero


def test_the_scatter_is_square_and_spreads_equal_stars_apart():
    rated = pd.DataFrame(
        {
            MOVIE_ID: [1, 2, 3, 4],
            TITLE: list("abcd"),
            "actual stars": [4.0] * 4,
            "predicted stars": [3.9, 4.1, 4.0, 3.8],
            "error": [-0.1, 0.1, 0.0, -0.2],
        }
    )
    chart = predicted_vs_actual_chart(rated)
    assert chart.to_dict()["width"] == chart.to_dict()["height"]
    shown = chart.layer[1].data["shown at"]
    assert shown.nunique() == 4 and shown.between(3.85, 4.15).all()


def _points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            MOVIE_ID: [1, 2, 3, 4],
            TITLE: ["a", "b", "c", "d"],
            YEAR: pd.array([2000, 2001, 2002, 2003], dtype="Int64"),
            GENRES: ["Drama"] * 4,
            "pc1": [-2.0, -1.0, 1.0, 2.0],
            "pc2": [0.0, 1.0, 0.0, -1.0],
            MAIN_GENRE: ["Drama"] * 4,
        }
    )


@pytest.mark.parametrize("picked", [4, 1])
def test_embedding_chart_rings_the_neighbours_and_names_the_pick_in_its_title(picked):
    chart = embedding_chart(_points(), picked, [2, 3])
    dots, rings, pick = chart.layer
    assert len(dots.data) == 4
    assert rings.data[MOVIE_ID].tolist() == [2, 3]
    assert pick.data[MOVIE_ID].tolist() == [picked]
    assert chart.to_dict()["title"]["text"] == "◆ " + "abcd"[picked - 1]
    # A plain mouse wheel scrolls the page: zooming needs Shift.
    assert "shiftKey" in str(chart.to_dict())


def test_the_scatter_ticks_whole_stars_only_and_the_genre_title_fits():
    rated = pd.DataFrame(
        {
            MOVIE_ID: [1, 2],
            TITLE: ["a", "b"],
            ACTUAL: [5.0, 0.5],
            PREDICTED: [5.0, 1.0],
            ERROR: [0.0, 0.5],
        }
    )
    spec = predicted_vs_actual_chart(rated).to_dict()
    axis = spec["layer"][1]["encoding"]["x"]
    assert axis["axis"]["values"] == [0, 1, 2, 3, 4, 5]  # no 5.5 tick for the edge to cut
    assert axis["scale"]["nice"] is False
    title = genre_averages_chart(pd.Series({"Drama": 4.0})).to_dict()["title"]
    assert len(title["text"]) <= 30  # a 1280 px screen's half column holds it whole


def test_a_chart_for_the_projector_has_large_dark_labels():
    from recsys.dashboard.charts import PRESENTER_INK, for_projector

    config = for_projector(genre_averages_chart(pd.Series({"Drama": 4.0}))).to_dict()["config"]
    assert config["axis"]["labelFontSize"] >= 16 and config["axis"]["titleFontSize"] >= 16
    assert config["axis"]["labelColor"] == PRESENTER_INK
    assert config["legend"]["labelFontSize"] >= 16
