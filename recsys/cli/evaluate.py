"""``python -m recsys evaluate``: score the model against baselines; save beside the bundle."""

from __future__ import annotations

import argparse

from recsys.cli.commands import emit, print_warnings, progress_for


def evaluate_command(args: argparse.Namespace) -> None:
    """Load, run the protocol over the seeds, save unless ``--no-save`` or
    ``--validation``, print the tables."""
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.tags import load_tags
    from recsys.evaluation import evaluation_text, run_evaluation, save_evaluation
    from recsys.settings import resolve_artifacts_dir

    dataset = load_movielens(args.data)
    print_warnings(dataset.warnings)
    bar = progress_for(args)
    try:
        result = run_evaluation(
            dataset,
            protocol=args.protocol,
            preset=args.preset,
            recipe=args.recipe,
            seeds=args.seeds,
            progress=bar,
            epochs=args.epochs,
            tags=load_tags(args.data),
            hybrid_epochs=args.hybrid_epochs,
            validation=args.validation,
        )
    finally:
        if bar is not None:
            bar.close()
    # A validation run is where choices are made, never the figure the app shows.
    if not args.no_save and not args.validation:
        result["saved_to"] = str(save_evaluation(resolve_artifacts_dir(args.artifacts), result))
    emit(args, result, evaluation_text)
