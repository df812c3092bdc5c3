"""The command line: ``python -m recsys {info,download,train,evaluate,recommend,user,similar}``.

Each command takes ``--json`` and then prints one JSON object on stdout. Bad input
exits 2 with one line on stderr naming the file (and line) and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from recsys.errors import UsageError, known_errors

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        raise UsageError(f"{self.prog}: {message}")


def _print(args: argparse.Namespace, payload: dict, text: Callable[[dict], str]) -> None:
    if args.json:
        print(json.dumps(payload, default=_json_default))
    else:
        print(text(payload))


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _cmd_info(args: argparse.Namespace) -> None:
    from recsys.cli.report import info_text
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.summary import summary

    dataset = load_movielens(args.data)
    _warn(dataset.warnings, args)
    _print(args, summary(dataset), info_text)


def _cmd_download(args: argparse.Namespace) -> None:
    from recsys.dataset.download import download_dataset

    result = download_dataset(
        target=args.dest, url=args.url, if_missing=args.if_missing, progress=not args.json
    )
    _print(args, result, lambda r: f"dataset ready at {r['path']} ({r['status']})")


def _cmd_train(args: argparse.Namespace) -> None:
    from recsys.model.train import train_command

    result = train_command(args)
    _print(args, result, _train_text)


def _train_text(result: dict) -> str:
    return (
        f"trained on {result['train_rows']:,} rows ({result['items']} movies, "
        f"{result['users']} users) in {result['seconds']:.1f} s\n"
        f"test MSE (scaled) {result['test_mse']:.4f}, test RMSE {result['test_rmse_stars']:.3f} "
        f"stars\nbundle: {result['bundle']}"
    )


def _cmd_recommend(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, frame_text
    from recsys.genres import parse_genre_ratings
    from recsys.serving.load import load_recommender

    genre_ratings = parse_genre_ratings(args.genres)
    recommender = load_recommender(args.artifacts)
    table = recommender.for_new_user(genre_ratings, top=args.top)
    _print(args, frame_payload("recommendations", table, genres=genre_ratings), frame_text)


def _cmd_user(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, user_text
    from recsys.serving.load import load_recommender

    recommender = load_recommender(args.artifacts)
    result = recommender.for_user(args.id, top=args.top)
    payload = frame_payload(
        "rated", result.rated, user_id=args.id, rmse=result.rmse, mae=result.mae
    )
    payload["recommendations"] = frame_payload("recommendations", result.unseen)["recommendations"]
    _print(args, payload, user_text)


def _cmd_similar(args: argparse.Namespace) -> None:
    from recsys.cli.report import frame_payload, frame_text
    from recsys.serving.load import load_recommender

    recommender = load_recommender(args.artifacts)
    movie_id = recommender.find_movie(args.movie)
    table = recommender.similar(movie_id, k=args.top)
    title = recommender.title_of(movie_id)
    _print(args, frame_payload("similar", table, movie_id=movie_id, title=title), frame_text)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from recsys.evaluation.evaluate import evaluate_command, evaluation_text

    result = evaluate_command(args)
    _print(args, result, evaluation_text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m recsys", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, func, help_text: str, data=True, artifacts=False):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        if data:
            p.add_argument("--data", help="MovieLens folder or .zip (else RECSYS_DATA)")
        if artifacts:
            p.add_argument("--artifacts", help="bundle folder (else RECSYS_ARTIFACTS)")
        return p

    command("info", _cmd_info, "print the dataset's source and counts")

    p = command("download", _cmd_download, "fetch ml-latest-small from GroupLens", data=False)
    p.add_argument("--dest", help="folder to unpack into (default: data/)")
    p.add_argument("--url", help="alternative address of ml-latest-small.zip")
    p.add_argument("--if-missing", action="store_true", help="do nothing if a dataset is found")

    p = command("train", _cmd_train, "train the two-tower model and write a bundle", artifacts=True)
    p.add_argument("--preset", choices=["lab", "full"], default="lab")
    p.add_argument("--recipe", choices=["fast", "lab"], default="fast")
    p.add_argument("--epochs", type=_positive, help="epochs (default: the recipe's)")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the recipe's)")
    p.add_argument("--batch-size", type=_positive, help="batch size (default: the recipe's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wait", action="store_true", help="wait for another training to finish")

    p = command("evaluate", _cmd_evaluate, "compare the model with baselines", artifacts=True)
    p.add_argument("--protocol", choices=["lab", "holdout", "temporal"], default="holdout")
    p.add_argument("--preset", choices=["lab", "full"], default="lab")
    p.add_argument("--recipe", choices=["fast", "lab"], default="fast")
    p.add_argument("--seeds", type=_positive, default=1)
    p.add_argument("--epochs", type=_positive, help="epochs (default: the recipe's)")
    p.add_argument("--no-save", action="store_true", help="do not store beside the bundle")

    p = command("recommend", _cmd_recommend, "top movies for a new user", False, True)
    p.add_argument("--genres", required=True, help='e.g. "Adventure=5,Fantasy=5"')
    p.add_argument("--top", type=_positive, default=10)

    p = command("user", _cmd_user, "predicted vs actual for a MovieLens user", False, True)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("--top", type=_positive, default=10)

    p = command("similar", _cmd_similar, "nearest movies in the item space", False, True)
    p.add_argument("--movie", required=True, help="a title (case-insensitive) or a movieId")
    p.add_argument("--top", type=_positive, default=10)
    return parser


def _warn(warnings, args) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except known_errors() as err:
        message = " ".join(str(err).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing to report
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
