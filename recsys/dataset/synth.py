"""Synthetic MovieLens-format data with planted genre tastes, of any size.

Each user loves one genre and hates another. A rating (in stars) is a global mean,
plus a user bias, a movie bias, the user's taste for each of the movie's genres, and
noise, rounded to half stars in 0.5..5. A model that learns anything should find that
a Fantasy lover rates Fantasy movies high.

Ratings are generated and written in chunks of users, with vectorised numpy, so the
ml-25m shape (25M ratings, 162k users, 62k movies) takes minutes and well under a GB.

Command line: ``python -m recsys.dataset.synth OUT --users N --movies N --ratings N --seed S``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.columns import GENRE_LIST, GENRES, MOVIE_ID, RATINGS_COLUMNS, TITLE
from recsys.dataset.sources import MOVIES_FILE, RATINGS_FILE
from recsys.errors import UsageError, exit_on_known_errors

N_GENRES = len(GENRE_LIST)
# How often each genre tags a movie: ml-latest-small's counts, flattened by a square
# root so that even Documentary lovers find enough movies to rate.
_GENRE_WEIGHTS = np.sqrt(
    np.array([1828, 1263, 611, 664, 3756, 1199, 440, 4361, 779, 978, 573, 1596, 980, 1894], float)
)
_GENRES_PER_MOVIE = (1, 2, 3)
_GENRES_PER_MOVIE_P = (0.4, 0.35, 0.25)
YEARS = (1980, 2020)

MEAN_STARS = 3.5
LOVE_STARS = 1.5  # added for a loved genre, taken away for a hated one
TASTE_SD = 0.25  # the other genres' tastes
USER_BIAS_SD = 0.3
MOVIE_BIAS_SD = 0.3
NOISE_SD = 0.5

# A user's first rating falls between 2000-01-01 and 2020-01-01 (seconds since 1970);
# each next one follows within three days.
_FIRST_TIME, _LAST_START = 946_684_800, 1_577_836_800
_MAX_GAP_S = 3 * 86_400

_CHUNK_RATINGS = 1_000_000
_HALF_STARS = np.array([f"{k / 2:.1f}" for k in range(11)], dtype="S3")


@dataclass(frozen=True)
class SyntheticInfo:
    """What was written, and the planted tastes.

    loved, hated: [n_users] int, an index into GENRE_LIST; row ``u - 1`` is userId ``u``.
    tastes: [n_users, 14] float32, stars added to a rating for each genre of the movie.
    """

    folder: Path
    n_users: int
    n_movies: int
    n_ratings: int
    loved: np.ndarray
    hated: np.ndarray
    tastes: np.ndarray

    def loved_genre(self, user_id: int) -> str:
        """The genre that ``user_id`` (1-based) was made to love."""
        return GENRE_LIST[int(self.loved[user_id - 1])]


@dataclass(frozen=True)
class _Movies:
    """Row ``m - 1`` is movieId ``m``.

    years: [n_movies] int. genre_index: [n_movies, 3] int into GENRE_LIST, -1 where the
    movie has fewer genres. popularity_cdf: [n_movies] float, cumulative chance of being
    drawn. bias: [n_movies] float, stars.
    """

    years: np.ndarray
    genre_index: np.ndarray
    popularity_cdf: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class _Users:
    """Row ``u - 1`` is userId ``u``; see SyntheticInfo for loved, hated and tastes.

    bias: [n_users] float, stars. counts: [n_users] int, how many movies each one rates.
    """

    loved: np.ndarray
    hated: np.ndarray
    tastes: np.ndarray
    bias: np.ndarray
    counts: np.ndarray


def max_ratings_per_user(n_movies: int) -> int:
    """A user rates at most half the movies: MovieLens is sparse, and sampling stays fast."""
    return max(1, n_movies // 2)


def _check_sizes(n_users: int, n_movies: int, n_ratings: int) -> None:
    if n_users < 1 or n_movies < 1:
        raise UsageError(f"need at least one user and one movie, got {n_users} and {n_movies}")
    most = n_users * max_ratings_per_user(n_movies)
    if not n_users <= n_ratings <= most:
        raise UsageError(
            f"{n_ratings:,} ratings do not fit: every one of {n_users:,} users rates at least "
            f"one movie and at most {max_ratings_per_user(n_movies):,} (so {n_users:,} to {most:,})"
        )


def _draw_movies(n_movies: int, rng: np.random.Generator) -> _Movies:
    years = rng.integers(YEARS[0], YEARS[1] + 1, n_movies)
    n_genres = rng.choice(_GENRES_PER_MOVIE, size=n_movies, p=_GENRES_PER_MOVIE_P)
    # Gumbel top-k: the k largest of log(weight) + Gumbel noise are k genres drawn
    # by weight without replacement.
    keys = np.log(_GENRE_WEIGHTS) + rng.gumbel(size=(n_movies, N_GENRES))
    top = np.argsort(-keys, axis=1)[:, : max(_GENRES_PER_MOVIE)]
    genre_index = np.where(np.arange(top.shape[1]) < n_genres[:, None], top, -1)
    # Zipf-like popularity over a shuffled order: a few movies get many ratings.
    popularity = 1.0 / (np.arange(n_movies) + 2.0)
    popularity = popularity[rng.permutation(n_movies)]
    cdf = np.cumsum(popularity)
    bias = rng.normal(0.0, MOVIE_BIAS_SD, n_movies)
    return _Movies(years, genre_index, cdf / cdf[-1], bias)


def _spread(
    total: int, weights: np.ndarray, cap: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """[n] int counts summing to ``total``, roughly proportional to weights, each <= cap."""
    counts = np.minimum(cap, np.floor(total * weights / weights.sum()).astype(np.int64))
    while (left := total - int(counts.sum())) > 0:
        open_users = np.flatnonzero(counts < cap)
        share = weights[open_users] / weights[open_users].sum()
        extra = rng.multinomial(left, share)
        counts[open_users] = np.minimum(cap[open_users], counts[open_users] + extra)
    return counts


def _draw_users(n_users: int, n_movies: int, n_ratings: int, rng: np.random.Generator) -> _Users:
    loved = rng.integers(0, N_GENRES, n_users)
    hated = (loved + rng.integers(1, N_GENRES, n_users)) % N_GENRES
    tastes = rng.normal(0.0, TASTE_SD, (n_users, N_GENRES)).astype(np.float32)
    rows = np.arange(n_users)
    tastes[rows, loved] = LOVE_STARS
    tastes[rows, hated] = -LOVE_STARS
    bias = rng.normal(0.0, USER_BIAS_SD, n_users)
    # Activity is log-normal, as in MovieLens; every user rates at least one movie.
    activity = rng.lognormal(0.0, 1.0, n_users)
    cap = np.full(n_users, max_ratings_per_user(n_movies) - 1)
    counts = 1 + _spread(n_ratings - n_users, activity, cap, rng)
    return _Users(loved, hated, tastes, bias, counts)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy's hash-based unique is several times slower here."""
    keys.sort()
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]


def _pick_movies(
    users: np.ndarray, counts: np.ndarray, movies: _Movies, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """For users [k] (0-based, ascending) wanting counts [k] ratings: (user, movie) rows.

    Draws by popularity and drops repeated pairs, then redraws what is missing;
    after a few rounds it draws uniformly, which always finishes since nobody rates
    more than half of the movies.
    """
    n_movies = len(movies.bias)
    keys = np.empty(0, np.int64)
    want = counts
    for round_ in range(1000):
        wanted_users = np.repeat(users, want)
        if round_ < 4:
            picked = np.searchsorted(movies.popularity_cdf, rng.random(len(wanted_users)))
            picked = np.minimum(picked, n_movies - 1)
        else:
            picked = rng.integers(0, n_movies, len(wanted_users))
        keys = _sorted_unique(np.concatenate([keys, wanted_users * n_movies + picked]))
        have = np.bincount(keys // n_movies - users[0], minlength=len(users))
        want = counts - have
        if not want.any():
            return keys // n_movies, keys % n_movies
    raise RuntimeError("could not draw distinct movies; is every user below the cap?")


class _RatingsChunk(NamedTuple):
    """[k] int columns of some users' ratings; half_stars is the rating times 2 (1..10)."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    half_stars: np.ndarray
    timestamps: np.ndarray


def _ratings_chunk(
    users: np.ndarray, counts: np.ndarray, people: _Users, movies: _Movies, rng: np.random.Generator
) -> _RatingsChunk:
    """The ratings of ``users`` (0-based, consecutive); each user's rows in time order."""
    user_rows, movie_rows = _pick_movies(users, counts, movies, rng)
    # Rows come back sorted by user, then movie: shuffle each user's movies before
    # timing them, so that time does not follow movieId.
    order = np.lexsort((rng.random(len(user_rows)), user_rows))
    user_rows, movie_rows = user_rows[order], movie_rows[order]

    genres = movies.genre_index[movie_rows]
    taste = np.where(genres >= 0, people.tastes[user_rows[:, None], genres], 0.0).sum(axis=1)
    stars = (
        MEAN_STARS
        + people.bias[user_rows]
        + movies.bias[movie_rows]
        + taste
        + rng.normal(0.0, NOISE_SD, len(user_rows))
    )
    half_stars = np.clip(np.round(stars * 2), 1, 10).astype(np.int64)

    gaps = rng.integers(1, _MAX_GAP_S, len(user_rows))
    elapsed = np.cumsum(gaps)
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    elapsed -= np.repeat(elapsed[firsts] - gaps[firsts], counts)
    starts = rng.integers(_FIRST_TIME, _LAST_START, len(users))
    timestamps = np.repeat(starts, counts) + elapsed
    return _RatingsChunk(user_rows + 1, movie_rows + 1, half_stars, timestamps)


def _digits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative ints [n] as ASCII digits [n, width] uint8, and the mask of real digits."""
    width = len(str(int(values.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)
    n_digits = np.maximum(1, (values[:, None] >= powers).sum(axis=1))
    return digits, np.arange(width) >= width - n_digits[:, None]


def _csv_bytes(chunk: _RatingsChunk) -> bytes:
    """CSV rows "userId,movieId,rating,timestamp", ratings as "4.5", built without a
    Python loop: pandas' to_csv would take over a minute for 25M rows."""
    n = len(chunk.user_ids)
    comma = (np.full((n, 1), ord(","), np.uint8), np.ones((n, 1), bool))
    newline = (np.full((n, 1), ord("\n"), np.uint8), np.ones((n, 1), bool))
    stars = _HALF_STARS[chunk.half_stars].view(np.uint8).reshape(n, 3)
    parts = [
        _digits(chunk.user_ids),
        comma,
        _digits(chunk.movie_ids),
        comma,
        (stars, np.ones((n, 3), bool)),
        comma,
        _digits(chunk.timestamps),
        newline,
    ]
    matrix = np.concatenate([p[0] for p in parts], axis=1)
    mask = np.concatenate([p[1] for p in parts], axis=1)
    return matrix[mask].tobytes()


def _user_chunks(counts: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) ranges of users holding about _CHUNK_RATINGS ratings each."""
    ends = np.cumsum(counts)
    bounds = [0]
    while bounds[-1] < len(counts):
        done = ends[bounds[-1] - 1] if bounds[-1] else 0
        stop = int(np.searchsorted(ends, done + _CHUNK_RATINGS, side="right"))
        bounds.append(max(stop, bounds[-1] + 1))
    return list(zip(bounds[:-1], bounds[1:]))


def _write_movies(path: Path, movies: _Movies) -> None:
    """movies.csv: "Synthetic Movie 12 (1994)" titles and "A|B" genres."""
    ids = np.arange(1, len(movies.years) + 1)
    genres = ["|".join(GENRE_LIST[g] for g in row if g >= 0) for row in movies.genre_index]
    table = pd.DataFrame(
        {
            MOVIE_ID: ids,
            TITLE: [f"Synthetic Movie {i} ({y})" for i, y in zip(ids, movies.years)],
            GENRES: genres,
        }
    )
    table.to_csv(path, index=False, lineterminator="\n")


def _write_readme(path: Path, n_users: int, n_movies: int, n_ratings: int) -> None:
    path.write_text(
        "Synthetic MovieLens-format data\n"
        "===============================\n\n"
        "Written by recsys.dataset.synth. These are NOT real ratings: users, movies and ratings\n"
        "are random, with planted genre tastes (each user loves one genre and hates\n"
        "another). The files follow the layout of GroupLens' MovieLens releases but hold\n"
        "no MovieLens data, so the MovieLens licence does not apply to them.\n\n"
        f"users: {n_users}\nmovies: {n_movies}\nratings: {n_ratings}\n",
        encoding="utf-8",
    )


def write_synthetic(
    folder: str | Path,
    n_users: int,
    n_movies: int,
    n_ratings: int,
    rng: int | np.random.Generator | None = None,
) -> SyntheticInfo:
    """Write ratings.csv, movies.csv and README.txt into ``folder`` (created if needed).

    Exactly ``n_ratings`` ratings (stars, half steps in 0.5..5), each (user, movie) pair
    at most once, from users 1..n_users on movies 1..n_movies; every user rates at least
    one movie and at most half of them. The same ``rng`` seed writes the same bytes.
    Raises UsageError when the counts cannot be met.
    """
    _check_sizes(n_users, n_movies, n_ratings)
    rng = np.random.default_rng(rng)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    movies = _draw_movies(n_movies, rng)
    people = _draw_users(n_users, n_movies, n_ratings, rng)
    _write_movies(folder / MOVIES_FILE, movies)
    with open(folder / RATINGS_FILE, "wb") as out:
        out.write((",".join(RATINGS_COLUMNS) + "\n").encode())
        for start, stop in _user_chunks(people.counts):
            users = np.arange(start, stop)
            chunk = _ratings_chunk(users, people.counts[start:stop], people, movies, rng)
            out.write(_csv_bytes(chunk))
    _write_readme(folder / "README.txt", n_users, n_movies, n_ratings)
    return SyntheticInfo(
        folder=folder,
        n_users=n_users,
        n_movies=n_movies,
        n_ratings=n_ratings,
        loved=people.loved,
        hated=people.hated,
        tastes=people.tastes,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m recsys.dataset.synth``; the exit status (2 where the sizes cannot fit)."""
    parser = argparse.ArgumentParser(
        prog="python -m recsys.dataset.synth", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", help="folder to write ratings.csv, movies.csv, README.txt into")
    parser.add_argument("--users", type=int, default=610)
    parser.add_argument("--movies", type=int, default=9742)
    parser.add_argument("--ratings", type=int, default=100_836)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    return exit_on_known_errors(lambda: _write_and_report(args))


def _write_and_report(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    info = write_synthetic(args.out, args.users, args.movies, args.ratings, rng=args.seed)
    result = {
        "path": str(info.folder),
        "users": info.n_users,
        "movies": info.n_movies,
        "ratings": info.n_ratings,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        seconds = result["seconds"]
        print(f"wrote {info.n_ratings:,} synthetic ratings to {info.folder} ({seconds} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
