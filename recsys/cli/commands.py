"""The bodies of the dataset and serving commands: plain values in, one payload out.

Each command loads what it needs, calls the library with plain values, and prints
either one JSON object (``--json``) or text. Heavy packages are imported inside the
command that needs them, so ``info`` and ``download`` start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable

from recsys.errors import UsageError
from recsys.progress import JsonLinesProgress, TextBar


def emit(args: argparse.Namespace, payload: dict, text: Callable[[dict], str]) -> None:
    """Print ``payload`` as one JSON line under ``--json``, else as ``text(payload)``."""
    if args.json:
        print(json.dumps(payload, default=_json_default))
    else:
        print(text(payload))


def _json_default(value):
    """numpy scalars and arrays as plain numbers and lists; anything else as text."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def progress_for(args: argparse.Namespace) -> TextBar | JsonLinesProgress | None:
    """How a long command reports progress: JSON lines on stderr under
    ``--progress-json`` (for a program that runs it), nothing under ``--json``, else
    a text bar."""
    if getattr(args, "progress_json", False):
        return JsonLinesProgress()
    return None if args.json else TextBar()


def print_warnings(warnings: Iterable[str]) -> None:
    """A dataset's warnings, one ``warning: ...`` line each on stderr."""
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def info_command(args: argparse.Namespace) -> None:
    from recsys.cli.report import info_text
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.summary import summary

    dataset = load_movielens(args.data)
    print_warnings(dataset.warnings)
    emit(args, summary(dataset), info_text)


def download_command(args: argparse.Namespace) -> None:
    from recsys.dataset.download import download_dataset

    bar = None if args.json else TextBar()
    try:
        result = download_dataset(
            target=args.dest,
            url=args.url,
            if_missing=args.if_missing,
            progress=bar,
            dataset=args.dataset,
        )
    finally:
        if bar is not None:
            bar.close()
    emit(args, result, lambda r: f"dataset ready at {r['path']} ({r['status']})")


def recommend_command(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, frame_text
    from recsys.genres import parse_genre_ratings
    from recsys.serving.load import load_recommender

    if not args.genres.strip() and not args.movie:
        raise UsageError('give --genres "Adventure=5,…", one --movie "TITLE=STARS" or both')
    genre_ratings = parse_genre_ratings(args.genres) if args.genres.strip() else {}
    recommender = load_recommender(args.artifacts, args.model)
    picks = parse_picks(args.movie, recommender.find_movie)
    table = recommender.for_new_user(genre_ratings, picks, top=args.top, explain=True)
    payload = frame_payload("recommendations", table, genres=genre_ratings)
    payload["movies"] = {str(movie_id): stars for movie_id, stars in picks.items()}
    emit(args, payload, frame_text)


def parse_picks(values: list[str], find_movie: Callable[[str], int]) -> dict[int, float]:
    """``["Toy Story (1995)=5", "1=4.5"]`` → ``{1: 5.0, ...}`` via ``find_movie``.

    The stars follow the last ``=``, so a title may hold commas and ``=``; an unknown
    or ambiguous title is a UsageError listing close matches.
    """
    picks: dict[int, float] = {}
    for value in values:
        title, sep, stars_text = value.rpartition("=")
        if not sep or not title.strip():
            raise UsageError(f'expected --movie "TITLE=STARS", got {value!r}')
        try:
            stars = float(stars_text)
        except ValueError:
            raise UsageError(f"--movie {value!r}: {stars_text.strip()!r} is not stars") from None
        if not (0.5 <= stars <= 5.0) or stars * 2 != int(stars * 2):
            raise UsageError(f"--movie {value!r}: stars run 0.5 to 5 in halves")
        picks[find_movie(title.strip())] = stars
    return picks


def user_command(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, user_text
    from recsys.serving.load import load_recommender

    recommender = load_recommender(args.artifacts, args.model)
    result = recommender.for_user(args.id, top=args.top, explain=True)
    payload = frame_payload(
        "rated", result.rated, user_id=args.id, rmse=result.rmse, mae=result.mae
    )
    payload["recommendations"] = frame_payload("recommendations", result.unseen)["recommendations"]
    emit(args, payload, user_text)


def similar_command(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, frame_text
    from recsys.serving.load import load_recommender

    recommender = load_recommender(args.artifacts, args.model)
    movie_id = recommender.find_movie(args.movie)
    table = recommender.similar(movie_id, k=args.top)
    title = recommender.title_of(movie_id)
    emit(args, frame_payload("similar", table, movie_id=movie_id, title=title), frame_text)
