"""The Tour's script: the lab's story in steps, for a presenter (no Streamlit here).

Each step has a slug (its name in the URL, ``?step=vectors``), a title, and what the
presenter can say. The page (``pages/tour.py``) draws each step's live widgets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    say: str  # markdown: the point of the step, in two or three sentences


STEPS: tuple[Step, ...] = (
    Step(
        "data",
        "The data: people rating movies",
        "MovieLens: real people gave movies 0.5 to 5 stars. Most ratings are 3 to 4 stars, "
        "and a few movies get most of them. The recommender learns only from these numbers "
        "and the movies' genres and years.",
    ),
    Step(
        "vectors",
        "Users and movies as vectors",
        "Each user becomes a vector: their average rating of each of 14 genres. Each movie "
        "becomes a vector too: its year, its average rating and its genres. Pick a user "
        "and a movie to see theirs.",
    ),
    Step(
        "network",
        "Two towers and a dot product",
        "One small network turns the user vector into 32 numbers, another turns the movie "
        "vector into 32 numbers. Their dot product is the predicted rating: users and "
        "movies meet in one shared space.",
    ),
    Step(
        "training",
        "Training: lowering the error, epoch by epoch",
        "The network sees each rating a few times (an epoch is one pass over them) and "
        "moves its weights to shrink the squared error. The gap between training and "
        "validation loss shows how well it generalises.",
    ),
    Step(
        "new-user",
        "A new user, with no ratings yet",
        "A newcomer tells us which genres they like. That is a user vector already: the "
        "user tower turns it into a point in the movie space, and the nearest movies by "
        "dot product are the recommendations. Move the sliders.",
    ),
    Step(
        "similar",
        "Similar movies: neighbours in the movie space",
        "Movies that the network placed close together are similar in how people rate "
        "them. No one told it that; it is a side effect of predicting ratings.",
    ),
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
