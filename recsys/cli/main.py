"""The command line: ``python -m recsys COMMAND``.

Commands: info, download, train, rollback, evaluate, recommend, user, similar.

Each command takes ``--json`` and then prints one JSON object on stdout. Bad input
exits 2 with one line on stderr naming the file (and line) and no traceback. This
module only parses arguments; the commands' bodies live beside it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from recsys.cli.commands import (
    download_command,
    info_command,
    recommend_command,
    similar_command,
    user_command,
)
from recsys.cli.evaluate import evaluate_command
from recsys.cli.train import rollback_command, train_command
from recsys.config import MODELS, PRESETS, PROTOCOLS, RECIPES, TrainConfig
from recsys.dataset.fetch import DEFAULT_RELEASE, RELEASES
from recsys.errors import EXIT_BAD_INPUT, UsageError, exit_on_known_errors
from recsys.model.distributed.cluster import JOIN_TIMEOUT_S, OPEN_PORTS_SWITCH

__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]

Command = Callable[[argparse.Namespace], None]
_DEFAULT_TRAINING = TrainConfig()
DEFAULT_PROTOCOL = "holdout"
ROLLBACK_HELP = "serve the previous kept bundle of a model"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        raise UsageError(f"{self.prog}: {message}")


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


def _add_training_choices(parser: argparse.ArgumentParser) -> None:
    """--preset and --recipe, as offered by recsys.config."""
    parser.add_argument("--preset", choices=PRESETS, default=_DEFAULT_TRAINING.preset)
    parser.add_argument("--recipe", choices=RECIPES, default=_DEFAULT_TRAINING.recipe)


def _add_model_choice(parser: argparse.ArgumentParser) -> None:
    """--model for the serving commands: which served bundle answers."""
    parser.add_argument(
        "--model", choices=MODELS, help="the served bundle of this model (default: the default)"
    )


def _add_run_choices(p: argparse.ArgumentParser) -> None:
    """train's --wait and --force, and --distributed, --workers and --join-timeout
    (docs/scaling.md)."""
    p.add_argument("--wait", action="store_true", help="wait for another training to finish")
    p.add_argument(
        "--force",
        action="store_true",
        help="serve the new model even when the quality gate finds it clearly worse",
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help=(
            "train as one worker of the cluster in TF_CONFIG (MultiWorkerMirroredStrategy). "
            "WARNING: the worker's port listens on every interface, unauthenticated, and "
            "runs arbitrary code for anyone who reaches it: run a cluster only on an "
            "isolated network whose firewall admits the cluster's hosts alone"
        ),
    )
    p.add_argument(
        "--workers",
        type=_positive,
        help=(
            "start N workers on this machine and train; they run in a private network "
            "namespace (only loopback), so no other host reaches their ports; where the "
            f"system refuses one, set {OPEN_PORTS_SWITCH}=1 to run them on open ports"
        ),
    )
    p.add_argument(
        "--join-timeout",
        type=_positive_float,
        default=JOIN_TIMEOUT_S,
        help="seconds a worker waits for the others before giving up (default: %(default)g)",
    )


def _add_progress_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress-json",
        action="store_true",
        help='report progress as JSON lines on stderr ({"progress": [done, total, text]}), '
        "for a program that runs this one",
    )


_BATCH_HELP = (
    "batch size (default: the recipe's); distributed, the lab network's is the global "
    "batch and the hybrid's each worker's"
)


_VALIDATION_HELP = (
    "run on the training side of each seed's test split, where hyperparameters are "
    "chosen (never saved)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m recsys", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, func: Command, help_text: str, data=True, artifacts=False):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        if data:
            p.add_argument("--data", help="MovieLens folder or .zip (else RECSYS_DATA)")
        if artifacts:
            p.add_argument("--artifacts", help="bundle folder (else RECSYS_ARTIFACTS)")
        return p

    command("info", info_command, "print the dataset's source and counts")

    p = command("download", download_command, "fetch a MovieLens release from GroupLens", False)
    p.add_argument(
        "--dataset",
        choices=tuple(RELEASES),
        default=DEFAULT_RELEASE,
        help="the release (default: %(default)s); an interrupted download resumes",
    )
    p.add_argument("--dest", help="folder to unpack into (default: data/)")
    p.add_argument("--url", help="alternative address of the release's zip (a mirror)")
    p.add_argument("--if-missing", action="store_true", help="do nothing if a dataset is found")

    p = command(
        "train", train_command, "train a two-tower model and write a bundle", artifacts=True
    )
    p.add_argument(
        "--model",
        choices=MODELS,
        default=MODELS[0],
        help="hybrid (the default: the whole catalogue) or the lab's network",
    )
    _add_training_choices(p)
    p.add_argument("--epochs", type=_positive, help="epochs (default: the recipe's)")
    p.add_argument("--lr", type=_positive_float, help="learning rate (default: the recipe's)")
    p.add_argument("--batch-size", type=_positive, help=_BATCH_HELP)
    p.add_argument("--seed", type=int, default=_DEFAULT_TRAINING.seed)
    _add_run_choices(p)
    _add_progress_json(p)

    p = command("rollback", rollback_command, ROLLBACK_HELP, data=False, artifacts=True)
    p.add_argument("--model", choices=MODELS, help="hybrid or lab (default: the served default)")
    p.add_argument("--wait", action="store_true", help="wait for a running training")

    p = command("evaluate", evaluate_command, "compare the model with baselines", artifacts=True)
    p.add_argument("--protocol", choices=PROTOCOLS, default=DEFAULT_PROTOCOL)
    _add_training_choices(p)
    p.add_argument("--seeds", type=_positive, default=1)
    p.add_argument("--epochs", type=_positive, help="the lab network's epochs (default: recipe's)")
    p.add_argument("--hybrid-epochs", type=_positive, help="the hybrid model's epochs")
    p.add_argument("--no-save", action="store_true", help="do not store beside the bundle")
    p.add_argument("--validation", action="store_true", help=_VALIDATION_HELP)
    _add_progress_json(p)

    p = command("recommend", recommend_command, "top movies for a new user", False, True)
    p.add_argument("--genres", default="", help='e.g. "Adventure=5,Fantasy=5"')
    p.add_argument(
        "--movie",
        action="append",
        default=[],
        metavar="TITLE=STARS",
        help='a movie you rated, e.g. "Toy Story (1995)=5" or "1=5" (repeatable)',
    )
    p.add_argument("--top", type=_positive, default=10)
    _add_model_choice(p)

    p = command("user", user_command, "predicted vs actual for a MovieLens user", False, True)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("--top", type=_positive, default=10)
    _add_model_choice(p)

    p = command("similar", similar_command, "nearest movies in the item space", False, True)
    p.add_argument("--movie", required=True, help="a title (case-insensitive) or a movieId")
    p.add_argument("--top", type=_positive, default=10)
    _add_model_choice(p)
    return parser


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    args.func(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: sys.argv), run the command; the exit status."""
    return exit_on_known_errors(lambda: _run(argv))


if __name__ == "__main__":
    sys.exit(main())
