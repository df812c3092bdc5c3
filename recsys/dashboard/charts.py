"""Altair charts for the dashboard: each takes a DataFrame and returns a chart.

No Streamlit here: pages render these with ``st.altair_chart``. Ratings are in stars
(0.5 to 5) unless a chart says "scaled" (the network's [-1, 1] units).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from recsys.columns import ACTUAL, ERROR, GENRE_LIST, GENRES, MOVIE_ID, PREDICTED, TITLE, YEAR
from recsys.config import TWO_TOWER
from recsys.dashboard.overview import MAIN_GENRE, OTHER_GENRE

MAX_STARS = 5.0  # the top of MovieLens' rating scale, in stars

# One label per genre: Vega otherwise drops every other one when bars are close.
_ALL_LABELS = alt.Axis(labelOverlap=False, labelLimit=140)


PRESENTER_INK = "#2f2d2b"  # the theme's text colour: over 13:1 on white
PRESENTER_LABEL_PX = 16  # axis and legend labels on a projector
PRESENTER_TITLE_PX = 20


def for_projector(chart: Any) -> Any:
    """``chart`` with labels and titles large and dark enough for a projector (the
    defaults are 11–13 px light grey, about 3.7:1)."""
    text = {"labelColor": PRESENTER_INK, "titleColor": PRESENTER_INK}
    sizes = {"labelFontSize": PRESENTER_LABEL_PX, "titleFontSize": PRESENTER_LABEL_PX}
    return (
        chart.configure_axis(**text, **sizes, labelLimit=240)
        .configure_legend(**text, **sizes, labelLimit=240)
        .configure_title(fontSize=PRESENTER_TITLE_PX, color=PRESENTER_INK, subtitleFontSize=16)
    )


def rating_distribution_chart(
    rating_counts: pd.DataFrame, title: str = "How the ratings are spread"
) -> alt.Chart:
    """Bars of ratings per star value; ``rating_counts`` holds stars, ratings."""
    return (
        alt.Chart(rating_counts, title=title)
        .mark_bar()
        .encode(
            x=alt.X("stars:O", title="stars", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("ratings:Q", title="ratings"),
            tooltip=[alt.Tooltip("stars:Q"), alt.Tooltip("ratings:Q", format=",")],
        )
        .properties(height=300)
    )


def ratings_over_time_chart(by_year: pd.DataFrame) -> alt.LayerChart:
    """Ratings given per year (bars, left axis) and their mean stars (line, right
    axis); ``by_year`` holds year, ratings, mean stars."""
    base = alt.Chart(by_year, title="Its ratings over time").encode(
        x=alt.X("year:O", title="year rated", axis=alt.Axis(labelAngle=0, labelOverlap=True)),
        tooltip=[
            alt.Tooltip("year:O"),
            alt.Tooltip("ratings:Q", format=","),
            alt.Tooltip("mean stars:Q", format=".2f"),
        ],
    )
    bars = base.mark_bar(opacity=0.6).encode(y=alt.Y("ratings:Q", title="ratings"))
    line = base.mark_line(point=True, color="#d62728").encode(
        y=alt.Y("mean stars:Q", title="mean stars", scale=alt.Scale(domain=[0, MAX_STARS]))
    )
    return alt.layer(bars, line).resolve_scale(y="independent").properties(height=300)


def genre_bar_chart(
    table: pd.DataFrame,
    value: str,
    title: str,
    value_format: str = ",.0f",
    from_zero: bool = True,
) -> alt.Chart:
    """One mark per genre, largest first: bars from zero, or, with ``from_zero=False``,
    dots on an axis that starts near the smallest value (mean ratings of 3.3 and 3.8
    then look different; a bar would have to start at zero to be honest)."""
    chart = alt.Chart(table, title=title)
    chart = chart.mark_bar() if from_zero else chart.mark_circle(size=140, opacity=1.0)
    return chart.encode(
        y=alt.Y("genre:N", sort="-x", title=None, axis=_ALL_LABELS),
        x=alt.X(
            f"{value}:Q",
            title=value,
            scale=alt.Scale(zero=from_zero),
            axis=alt.Axis(format=value_format),
        ),
        tooltip=[alt.Tooltip("genre:N"), alt.Tooltip(f"{value}:Q", format=value_format)],
    ).properties(height=400)


def genre_averages_chart(genre_averages: pd.Series) -> alt.Chart:
    """A user's average stars per genre (indexed by genre; 0 = none rated)."""
    table = pd.DataFrame(
        {"genre": genre_averages.index, "average stars": genre_averages.to_numpy()}
    )
    table["rated"] = np.where(table["average stars"] > 0, "rated", "not rated")
    return (
        # A short title, the rest beneath it: one long line is cut at the chart's width.
        alt.Chart(
            table,
            title=alt.TitleParams("Average rating per genre", subtitle="0 = none of it rated"),
        )
        .mark_bar()
        .encode(
            y=alt.Y("genre:N", sort=list(GENRE_LIST), title=None, axis=_ALL_LABELS),
            x=alt.X("average stars:Q", scale=alt.Scale(domain=[0, MAX_STARS])),
            tooltip=[alt.Tooltip("genre:N"), alt.Tooltip("average stars:Q", format=".2f")],
        )
        .properties(height=400)
    )


def predicted_vs_actual_chart(rated: pd.DataFrame) -> alt.LayerChart:
    """Each rated movie at (actual, predicted) stars, with the y = x line; square, both
    axes 0–5. Actual stars come in half steps, so each dot is spread sideways a little
    (by its movie id, the same on every draw) to keep hundreds of ratings apart."""
    points = rated[[MOVIE_ID, TITLE, ACTUAL, PREDICTED, ERROR]].copy()
    spread = (points[MOVIE_ID].to_numpy() * 0.6180339887) % 1.0 - 0.5
    points["shown at"] = points[ACTUAL] + 0.3 * spread
    # padding: 5-star dots stay whole; nice=False and whole-star ticks: the padding would
    # otherwise add a 5.5 tick that the plot's edge cuts in half.
    axis_scale = alt.Scale(domain=[0, MAX_STARS], padding=10, nice=False)
    stars_axis = alt.Axis(values=list(range(int(MAX_STARS) + 1)))
    dots = (
        alt.Chart(points, title="Predicted against actual stars")
        .mark_circle(size=30, opacity=0.45)
        .encode(
            x=alt.X("shown at:Q", scale=axis_scale, axis=stars_axis, title="actual stars"),
            y=alt.Y(f"{PREDICTED}:Q", scale=axis_scale, axis=stars_axis, title="predicted stars"),
            tooltip=[
                alt.Tooltip(f"{TITLE}:N"),
                alt.Tooltip(f"{ACTUAL}:Q", format=".1f"),
                alt.Tooltip(f"{PREDICTED}:Q", format=".2f"),
                alt.Tooltip(f"{ERROR}:Q", format="+.2f"),
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"a": [0.0, MAX_STARS], "b": [0.0, MAX_STARS]}))
        .mark_line(strokeDash=[6, 4], color="gray")
        .encode(x="a:Q", y="b:Q")
    )
    # 310 px, with its axis and title about 372 px: within half of a 1280 px page (about
    # 378 px); at 380 px the column's edge cut the 5-star dots and the 5 off the axis.
    return (diagonal + dots).properties(width=310, height=310)


def embedding_chart(points: pd.DataFrame, picked: int, neighbours: Iterable[int]) -> alt.LayerChart:
    """All movies on the first two principal components, by main genre; the picked movie
    (black diamond, named in the title, where no plot edge can cut it) and its
    neighbours (ringed) stand out."""
    neighbour_ids = list(neighbours)
    tooltip = [
        alt.Tooltip(f"{TITLE}:N"),
        alt.Tooltip(f"{YEAR}:Q", format="d"),
        alt.Tooltip(f"{GENRES}:N"),
        alt.Tooltip(f"{MAIN_GENRE}:N"),
    ]
    x = alt.X("pc1:Q", title="first principal component")
    y = alt.Y("pc2:Q", title="second principal component")
    dots = (
        alt.Chart(points)
        .mark_circle(size=28, opacity=0.55)
        .encode(
            x=x,
            y=y,
            color=alt.Color(f"{MAIN_GENRE}:N", scale=_genre_colours(points[MAIN_GENRE])),
            tooltip=tooltip,
        )
    )
    near = (
        alt.Chart(points[points[MOVIE_ID].isin(neighbour_ids)])
        .mark_point(size=150, filled=False, strokeWidth=2, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    chosen = points[points[MOVIE_ID] == picked]
    pick = (
        alt.Chart(chosen)
        .mark_point(shape="diamond", size=320, filled=True, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    # Shift + wheel zooms (a plain wheel scrolls the page); drag pans; double-click resets.
    zoom = alt.selection_interval(bind="scales", zoom="wheel![event.shiftKey]")
    title = f"◆ {chosen[TITLE].iat[0]}" if len(chosen) else "The movie map"
    chart = dots.add_params(zoom) + near + pick
    return chart.properties(height=520, title=alt.TitleParams(title, limit=0))


def _genre_colours(names: pd.Series) -> alt.Scale:
    """Strong colours for the named genres, most common first; grey for "Other"."""
    counts = names[names != OTHER_GENRE].value_counts()
    domain = [*counts.index, OTHER_GENRE]
    strong = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
    strong += ["#17becf", "#bcbd22", "#7f7f7f"]
    return alt.Scale(domain=domain, range=[*strong[: len(counts)], "#c8c8c8"])


def loss_chart(history: Mapping[str, Any]) -> alt.Chart | alt.LayerChart | None:
    """Loss per epoch: the lab's network's MSE in the scaled [-1, 1] units (with the
    validation loss, if any), or the hybrid model's two losses, each on its own axis."""
    if _series(history, "rank_loss"):
        return _hybrid_loss_chart(history)
    series = {name: history[name] for name in ("loss", "val_loss") if _series(history, name)}
    if not series:
        return None
    frames = [
        pd.DataFrame({"epoch": np.arange(1, len(v) + 1), "MSE (scaled)": v, "series": name})
        for name, v in series.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    return (
        alt.Chart(table, title="Loss per epoch")
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("MSE (scaled):Q", scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None),
            tooltip=["epoch:Q", "series:N", alt.Tooltip("MSE (scaled):Q", format=".4f")],
        )
        .properties(height=320)
    )


def _series(history: Mapping[str, Any], name: str) -> bool:
    values = history.get(name)
    return isinstance(values, list) and bool(values)


# The hybrid's losses: the in-batch softmax's cross-entropy, and the squared error of the
# stars (before their closed-form last step); their scales differ tenfold.
_HYBRID_LOSSES = {"rank_loss": "ranking loss (softmax)", "rating_loss": "stars² error"}


def _hybrid_loss_chart(history: Mapping[str, Any]) -> alt.LayerChart:
    table = pd.DataFrame({"epoch": np.arange(1, len(history["rank_loss"]) + 1)})
    layers = []
    for (key, label), color in zip(_HYBRID_LOSSES.items(), ("#1f77b4", "#e4572e"), strict=True):
        if not _series(history, key) or len(history[key]) != len(table):
            continue
        table[label] = history[key]
        layers.append(
            alt.Chart(table)
            .mark_line(
                point=alt.OverlayMarkDef(color=color),
                color=color,
                strokeDash=[] if key == "rank_loss" else [4, 3],
            )
            .encode(
                x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
                y=alt.Y(f"{label}:Q", scale=alt.Scale(zero=False), axis=alt.Axis(titleColor=color)),
                tooltip=["epoch:Q", alt.Tooltip(f"{label}:Q", format=".4f")],
            )
        )
    chart = alt.layer(*layers, title="Loss per epoch").resolve_scale(y="independent")
    return chart.properties(height=320)


def evaluation_chart(
    means: pd.DataFrame, metric: str, title: str | None = None, ours: str = TWO_TOWER
) -> alt.Chart:
    """One bar per model for ``metric`` (a column of ``means``), best first: RMSE and MAE
    (stars) ascending, the others descending. The model named ``ours`` stands out;
    ``title`` names the metric (default: its column name)."""
    table = means[["model", metric]].dropna()
    table = table.assign(ours=np.where(table["model"] == ours, "served model", "others"))
    return (
        alt.Chart(table, title=f"{title or metric} by model")
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort="-x" if metric not in ("rmse", "mae") else "x", title=None),
            x=alt.X(f"{metric}:Q"),
            color=alt.Color("ours:N", title=None, scale=alt.Scale(range=["#9aa5b1", "#e4572e"])),
            tooltip=["model:N", alt.Tooltip(f"{metric}:Q", format=".4f")],
        )
        .properties(height=260)
    )
