"""The Tour's script: the story in steps, for a presenter, true to the served model
(no Streamlit here).

Each step has a slug (its name in the URL, ``?step=vectors``), a title, and what the
presenter can say. The page (``pages/tour.py``) draws each step's live widgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recsys.config import HYBRID
from recsys.dashboard.model_words import ModelFigures
from recsys.dashboard.model_words import number as shown_number
from recsys.model.kinds import LAB


@dataclass(frozen=True)
class Step:
    """slug, title, and by model kind what the presenter says: markdown, two or three
    sentences, which may name {figures} (``say``). A kind without lines of its own has
    the step's title alone."""

    slug: str
    title: str
    lines: Mapping[str, str]  # model kind → what the presenter says


STEPS: tuple[Step, ...] = (
    Step(
        "data",
        "The data: people rating movies",
        {
            LAB: (
                "MovieLens: real people gave movies 0.5 to 5 stars. Most ratings are 3 to 4 stars, "
                "and a few movies get most of them. The lab's network learns from {ratings} of "
                "these ratings, on {movies} movies, and from the movies' genres and years."
            ),
            HYBRID: (
                "MovieLens: real people gave movies 0.5 to 5 stars. Most ratings are 3 to 4 stars, "
                "and a few movies get most of them. The hybrid model learns from all {ratings} "
                "ratings, on {movies} movies, and from what each movie is: its genres, year, title "
                "words and tags."
            ),
        },
    ),
    Step(
        "vectors",
        "Users and movies as vectors",
        {
            LAB: (
                "Each user becomes a vector: their average rating of each of 14 genres. Each movie "
                "becomes a vector too: its year, its average rating and its genres. Pick a user "
                "and a movie to see theirs."
            ),
            HYBRID: (
                "Each user is their average rating of each of 14 genres, plus the movies they "
                "rated. Each movie is its content (genres, year, title words, tags) plus a vector "
                "learned for its id, so a rarely rated movie leans on its content. The lab's "
                "network sees less: the genre averages, and each movie's year, average rating and "
                "genres, shown here for the movie you pick."
            ),
        },
    ),
    Step(
        "network",
        "Two towers and a dot product",
        {
            LAB: (
                "One small network turns the user vector into {dim} numbers, another turns the "
                "movie vector into {dim} numbers. Their dot product is the predicted rating: users "
                "and movies meet in one shared space."
            ),
            HYBRID: (
                "One tower turns the user's inputs into {dim} numbers, another turns the movie's "
                "into {dim}. Their dot product, with the genres the user set, ranks the movies by "
                "how likely the user is to watch and enjoy each one; the predicted stars are a "
                "second, separate output. The lab's network ranks by its predicted rating itself."
            ),
        },
    ),
    Step(
        "training",
        "Training: lowering the error, epoch by epoch",
        {
            LAB: (
                "The network saw each training rating {epochs} times (an epoch is one pass over "
                "them) and moved its weights to shrink the squared error of the scaled rating. "
                "{validation}"
            ),
            HYBRID: (
                "The model saw each rating {epochs} times (an epoch is one pass over them) and "
                "moved its weights to shrink two losses: a ranking loss (each rated movie against "
                "the other movies of its batch, a softmax) and the squared error of the stars. "
                "There is no validation curve: a slice of ratings checks the stars once training "
                "ends (validation RMSE {validation_rmse} stars)."
            ),
        },
    ),
    Step(
        "new-user",
        "A new user, with no ratings yet",
        {
            LAB: (
                "A newcomer tells us which genres they like. That is a user vector already: the "
                "user tower turns it into a point in the movie space, and the movies with the "
                "highest dot product are the recommendations. Move the sliders."
            ),
            HYBRID: (
                "A newcomer tells us which genres they like (and may pick movies they liked). The "
                "user tower turns that into a point in the movie space at once, with no "
                "retraining; each picked movie also pulls up what its fans liked most (a table "
                "learned from who liked what), and the highest-ranked movies are the "
                "recommendations. Move the sliders, or pick a movie."
            ),
        },
    ),
    Step(
        "similar",
        "Similar movies: what goes together",
        {
            LAB: (
                "Movies that the network placed close together are similar in how people rate "
                "them. No one told it that; it is a side effect of predicting ratings."
            ),
            HYBRID: (
                "A movie's similar movies are what its fans also loved most: people who liked it "
                "liked these, counted from who rated what, those of its own kind (sharing its "
                "genres) first. The distance is each one's distance in "
                "the model's movie space, where movies watched by the same people or sharing "
                "content (genres, title words, tags) lie close together; no one told the model "
                "which movies are alike."
            ),
        },
    ),
)


def say(step: Step, figures: ModelFigures) -> str:
    """What the presenter says at ``step`` for the served model, its figures filled in
    from the bundle."""
    template = step.lines.get(figures.kind, "")
    validation = (
        "The gap between training and validation loss shows how well it generalises."
        if figures.validation_loss
        else "This training kept no validation loss per epoch: the Model page's "
        "evaluation on held-out ratings shows how well it generalises."
    )
    rmse = figures.validation_rmse
    return template.format(
        ratings=shown_number(figures.ratings),
        movies=shown_number(figures.movies),
        dim=shown_number(figures.dim),
        epochs=shown_number(figures.epochs),
        validation=validation,
        validation_rmse="?" if rmse is None else f"{rmse:.2f}",
    )


def step_number(raw: str | None) -> int | None:
    """The 1-based step a link names (a number or a slug), or None when it names none."""
    if raw is None:
        return None
    text = raw.strip().lower()
    for number, step in enumerate(STEPS, start=1):
        if text in (str(number), step.slug):
            return number
    return None
