"""The Explore page's tables, as plain pandas: browse the catalogue, then one movie's
ratings (histogram, over time), tags and the users who rated it highest.

``browse`` filters and sorts the served model's catalogue. ``MovieRatings`` groups the
dataset's ratings by movie once (one sort), so a movie's ratings are a slice, not a scan
of every rating: at ml-25m size a scan would cost a second per click.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import (
    AVE_RATING,
    GENRES,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    TIMESTAMP,
    TITLE,
    USER_ID,
    YEAR,
)
from recsys.dashboard.text import folded
from recsys.dataset.movielens import parse_years

SORTS = {  # label → (columns, ascending) of the browse table's sort
    "Most rated": ([NUM_RATINGS, MOVIE_ID], [False, True]),
    "Highest rated": ([AVE_RATING, NUM_RATINGS, MOVIE_ID], [False, False, True]),
    "Lowest rated": ([AVE_RATING, NUM_RATINGS, MOVIE_ID], [True, False, True]),
    "Newest": ([YEAR, NUM_RATINGS, MOVIE_ID], [False, False, True]),
    "Oldest": ([YEAR, NUM_RATINGS, MOVIE_ID], [True, False, True]),
    "Title A–Z": ([TITLE, MOVIE_ID], [True, True]),
}
BROWSE_COLUMNS = [MOVIE_ID, TITLE, YEAR, GENRES, AVE_RATING, NUM_RATINGS]
TOP_RATERS = 10
TOP_TAGS = 20
# The search box takes this many characters (``max_chars``), and ``browse`` reads no more,
# whatever the session holds. A query of more than MAX_SEARCH_WORDS distinct words is
# matched as one phrase: each word costs a pass over every title (20,000 pasted words
# took seconds per rerun), and a title has far fewer words than that anyway.
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class BrowseQuery:
    """What the user typed and chose; every part optional."""

    text: str = ""  # words the title must hold (any case, accents or not); see search_needles
    genres: tuple[str, ...] = ()  # movies having all of these genres
    years: tuple[int, int] | None = None  # release years, inclusive (unknown years pass)
    min_ratings: int = 0
    sort: str = "Most rated"


def browse(items: pd.DataFrame, query: BrowseQuery) -> pd.DataFrame:
    """The catalogue rows matching ``query``, sorted by ``query.sort``: movieId, title,
    year, genres, ave rating, num ratings."""
    keep = np.ones(len(items), dtype=bool)
    titles = items[TITLE].astype(str).map(folded)  # any case, accents or not
    for needle in search_needles(query.text):
        keep &= _titles_containing(titles, needle)
    genre_sets = items[GENRES].astype(str).str.split("|")
    for genre in query.genres:
        keep &= genre_sets.map(lambda names, g=genre: g in names).to_numpy(dtype=bool)
    if query.years is not None:
        years = items[YEAR]
        low, high = query.years
        keep &= (years.isna() | ((years >= low) & (years <= high))).to_numpy()
    keep &= (items[NUM_RATINGS] >= least_ratings(query)).to_numpy()
    columns, ascending = SORTS.get(query.sort, SORTS["Most rated"])
    table = items.loc[keep, BROWSE_COLUMNS]
    table = table.sort_values(columns, ascending=ascending, na_position="last", kind="stable")
    return table.reset_index(drop=True)


def search_needles(text: str) -> list[str]:
    """What each matching title must contain, from the search box's ``text`` (its first
    MAX_SEARCH_CHARS characters, any case, accents or not): each distinct word, or, for a
    query of more
    than MAX_SEARCH_WORDS words, the whole query as one phrase."""
    words = folded(text[:MAX_SEARCH_CHARS]).split()
    distinct = list(dict.fromkeys(words))
    if len(distinct) > MAX_SEARCH_WORDS:
        return [" ".join(words)]
    return distinct


def _titles_containing(titles: pd.Series, needle: str) -> np.ndarray:
    """One pass over the folded titles: which contain ``needle``."""
    return titles.str.contains(needle, regex=False).to_numpy()


def genre_names(genres: pd.Series) -> list[str]:
    """Every genre name that appears in "A|B|C" strings, sorted."""
    names: set[str] = set()
    for value in genres.astype(str).unique():
        names.update(value.split("|"))
    return sorted(names)


class MovieRatings:
    """A dataset's ratings grouped by movie once; read-only, shared by every session.

    ratings: userId, movieId, rating (stars), optional timestamp (seconds since 1970).
    tags: userId, movieId, tag (may be empty).
    """

    def __init__(self, ratings: pd.DataFrame, tags: pd.DataFrame | None = None):
        order = np.argsort(ratings[MOVIE_ID].to_numpy(), kind="stable")
        self.ratings = ratings.iloc[order].reset_index(drop=True)
        self._ids, self._starts = np.unique(self.ratings[MOVIE_ID].to_numpy(), return_index=True)
        self._ends = np.append(self._starts[1:], len(self.ratings))
        self.user_counts = ratings[USER_ID].value_counts()
        self.tags = tags if tags is not None else pd.DataFrame(columns=[USER_ID, MOVIE_ID, "tag"])
        self.has_time = TIMESTAMP in ratings.columns

    def of(self, movie_id: int) -> pd.DataFrame:
        """The ratings of ``movie_id`` (empty when it has none)."""
        slot = np.searchsorted(self._ids, int(movie_id))
        if slot < len(self._ids) and self._ids[slot] == int(movie_id):
            return self.ratings.iloc[self._starts[slot] : self._ends[slot]]
        return self.ratings.iloc[0:0]

    def histogram(self, movie_id: int) -> pd.DataFrame:
        """stars (0.5 … 5, every half star), ratings: how often each was given."""
        stars = np.arange(1, 11) / 2
        counts = self.of(movie_id)[RATING].round(1).value_counts()
        return pd.DataFrame({"stars": stars, "ratings": counts.reindex(stars, fill_value=0)})

    def over_time(self, movie_id: int) -> pd.DataFrame:
        """year, ratings, mean stars: per calendar year of the ratings (empty without
        timestamps)."""
        own = self.of(movie_id)
        if not self.has_time or own.empty:
            return pd.DataFrame({"year": [], "ratings": [], "mean stars": []})
        years = pd.to_datetime(own[TIMESTAMP], unit="s").dt.year
        grouped = own[RATING].groupby(years.to_numpy())
        table = grouped.agg(["size", "mean"]).reset_index()
        table.columns = ["year", "ratings", "mean stars"]
        return table

    def top_tags(self, movie_id: int, top: int = TOP_TAGS) -> pd.DataFrame:
        """tag, users: the movie's tags, most used first (case kept as first written)."""
        own = self.tags[self.tags[MOVIE_ID] == int(movie_id)]
        if own.empty:
            return pd.DataFrame({"tag": [], "users": []})
        key = own["tag"].astype(str).str.strip().str.casefold()
        grouped = own.assign(key=key).groupby("key", sort=False)
        table = pd.DataFrame({"tag": grouped["tag"].first(), "users": grouped[USER_ID].nunique()})
        table = table.sort_values(["users", "tag"], ascending=[False, True], kind="stable")
        return table.head(top).reset_index(drop=True)

    def top_raters(self, movie_id: int, top: int = TOP_RATERS) -> pd.DataFrame:
        """userId, rating, their ratings in all, [rated on]: who rated it highest, most
        active first among equal stars."""
        own = self.of(movie_id)
        table = pd.DataFrame(
            {
                USER_ID: own[USER_ID].to_numpy(),
                RATING: own[RATING].to_numpy(),
                "their ratings": self.user_counts.reindex(own[USER_ID]).to_numpy(),
            }
        )
        if self.has_time:
            table["rated on"] = pd.to_datetime(own[TIMESTAMP].to_numpy(), unit="s").date
        table = table.sort_values(
            [RATING, "their ratings", USER_ID], ascending=[False, False, True], kind="stable"
        )
        return table.head(top).reset_index(drop=True)


def ids_in(table: pd.DataFrame, rows: Iterable[int]) -> list[int]:
    """The movieIds at positional ``rows`` of a table (a dataframe selection)."""
    return [int(table[MOVIE_ID].iat[row]) for row in rows if 0 <= row < len(table)]


# "Highest rated" over every movie lists films with one or two ratings first; unless
# the user sets a minimum, the rated-order sorts count movies with at least this many.
RATED_SORT_FLOOR = 20


def least_ratings(query: BrowseQuery) -> int:
    """The fewest ratings a listed movie has: the user's minimum, or, sorting by mean
    rating with none set, ``RATED_SORT_FLOOR``."""
    if query.min_ratings == 0 and query.sort in ("Highest rated", "Lowest rated"):
        return RATED_SORT_FLOOR
    return query.min_ratings


def whole_catalogue(movies: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Every movie of a dataset with the columns Explore browses (movieId, title, year,
    genres, ave rating, num ratings), whichever model is served; a movie nobody rated
    has 0 ratings and no mean."""
    stats = ratings.groupby(MOVIE_ID)[RATING].agg(["mean", "size"])
    table = movies[[MOVIE_ID, TITLE, GENRES]].copy()
    table[YEAR] = parse_years(table[TITLE].astype(str)).astype("float64")
    table[AVE_RATING] = table[MOVIE_ID].map(stats["mean"]).astype("float64")
    table[NUM_RATINGS] = table[MOVIE_ID].map(stats["size"]).fillna(0).astype("int64")
    return table[BROWSE_COLUMNS].reset_index(drop=True)
