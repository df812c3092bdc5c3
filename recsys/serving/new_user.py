"""A new user's request, checked once: what every model kind scores for a new user.

``NewUser.of`` checks the genre stars and the picks and looks the picks up in the
catalogue once; the scorers, the reasons and the result table then read its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recsys.errors import UsageError
from recsys.genres import validate_genre_ratings

if TYPE_CHECKING:
    from recsys.serving.catalogue import Catalogue


@dataclass(frozen=True)
class NewUser:
    """genre_ratings: {genre: stars}, each one of the 14 genres, 0 to 5 stars (0 or
    absent = not rated). picks: {movieId: stars} of movies the user liked, each one the
    catalogue serves, 0.5 to 5 stars in halves. rows: [len(picks)] their item rows, in
    the order of ``picks``; stars: [len(picks)] their stars, the same order."""

    genre_ratings: Mapping[str, float]
    picks: Mapping[int, float]
    rows: np.ndarray
    stars: np.ndarray

    @classmethod
    def of(
        cls,
        catalogue: Catalogue,
        genre_ratings: Mapping[str, float],
        rated_movies: Mapping[int, float] | None = None,
    ) -> NewUser:
        """The checked request; UsageError (one line) for an unknown genre, stars out of
        range, a movie the catalogue does not serve, or stars not in halves."""
        genres = validate_genre_ratings(genre_ratings)
        picks = dict(rated_movies or {})
        ids = np.fromiter(picks, dtype="int64", count=len(picks))
        stars = np.fromiter(picks.values(), dtype="float64", count=len(picks))
        rows = catalogue.rows_of(ids)
        unknown = rows < 0
        if unknown.any():
            catalogue.movie_row(int(ids[unknown][0]))  # raises the one-line UsageError
        halves = stars * 2
        bad = ~((stars >= 0.5) & (stars <= 5.0) & (halves == np.round(halves)))
        if bad.any():
            movie_id, value = int(ids[bad][0]), float(stars[bad][0])
            raise UsageError(f"{value:g} stars for movie {movie_id}: use 0.5 to 5 in halves")
        for array in (rows, stars):
            array.setflags(write=False)
        return cls(genres, dict(zip(ids.tolist(), stars.tolist())), rows, stars)

    @property
    def movie_ids(self) -> np.ndarray:
        """[len(picks)] the picked movieIds, in the order of ``picks``."""
        return np.fromiter(self.picks, dtype="int64", count=len(self.picks))
