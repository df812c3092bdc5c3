"""``python -m recsys train``: load the data, train, write a bundle, print the figures."""

from __future__ import annotations

import argparse

from recsys.cli.commands import emit, print_warnings
from recsys.progress import TextBar


def train_command(args: argparse.Namespace) -> None:
    """Train with the recipe and preset named on the command line; print the report."""
    from recsys.config import recipe_config
    from recsys.dataset.movielens import load_movielens
    from recsys.model.train import train_bundle
    from recsys.settings import resolve_artifacts_dir

    dataset = load_movielens(args.data)
    print_warnings(dataset.warnings)
    config = recipe_config(
        args.recipe,
        preset=args.preset,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    bar = None if args.json else TextBar()
    try:
        report = train_bundle(
            dataset, config, resolve_artifacts_dir(args.artifacts), progress=bar, wait=args.wait
        )
    finally:
        if bar is not None:
            bar.close()
    emit(args, report.to_json(), train_text)


def train_text(result: dict) -> str:
    """The train report for people: rows, counts, seconds, test error, bundle path."""
    return (
        f"trained on {result['train_rows']:,} rows ({result['items']} movies, "
        f"{result['users']} users) in {result['seconds']:.1f} s\n"
        f"test MSE (scaled) {result['test_mse']:.4f}, test RMSE {result['test_rmse_stars']:.3f} "
        f"stars\nbundle: {result['bundle']}"
    )
