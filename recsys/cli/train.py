"""``python -m recsys train``: load the data, train, write a bundle, print the figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recsys.cli.commands import emit, print_warnings
from recsys.errors import printable
from recsys.progress import TextBar


def train_command(args: argparse.Namespace) -> None:
    """Train the model named on the command line (``--model``); print the report.

    The hybrid model trains on the whole catalogue (``--preset`` and ``--recipe`` are the
    lab network's); ``--epochs``, ``--lr``, ``--batch-size`` and ``--seed`` apply to both.
    """
    from recsys.config import HYBRID, hybrid_config, recipe_config
    from recsys.dataset.movielens import load_movielens
    from recsys.dataset.tags import load_tags
    from recsys.model.hybrid_train import train_hybrid_bundle
    from recsys.model.train import train_bundle
    from recsys.settings import resolve_artifacts_dir

    dataset = load_movielens(args.data)
    print_warnings(dataset.warnings)
    overrides = {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size}
    artifacts = resolve_artifacts_dir(args.artifacts)
    bar = None if args.json else TextBar()
    try:
        if args.model == HYBRID:
            config = hybrid_config(**overrides, seed=args.seed)
            tags = load_tags(args.data)
            report = train_hybrid_bundle(
                dataset, tags, config, artifacts, progress=bar, wait=args.wait, force=args.force
            )
        else:
            config = recipe_config(args.recipe, preset=args.preset, seed=args.seed, **overrides)
            report = train_bundle(
                dataset, config, artifacts, progress=bar, wait=args.wait, force=args.force
            )
    finally:
        if bar is not None:
            bar.close()
    emit(args, report.to_json(), train_text)
    if not report.served:
        print(
            f"warning: the new {report.model} model was kept but not served: "
            f"{printable(report.gate['reason'])}; retrain with --force to serve it anyway",
            file=sys.stderr,
        )


def train_text(result: dict) -> str:
    """The train report for people: rows, counts, seconds, test error, bundle path."""
    lines = [
        f"trained the {result['model']} model on {result['train_rows']:,} rows "
        f"({result['items']} movies, {result['users']} users) in {result['seconds']:.1f} s"
    ]
    if result["test_mse"] is not None:
        lines.append(
            f"test MSE (scaled) {result['test_mse']:.4f}, "
            f"test RMSE {result['test_rmse_stars']:.3f} stars (the lab's split)"
        )
    gate = result.get("gate") or {}
    if gate.get("new_rmse") is not None:
        lines.append(f"validation RMSE {gate['new_rmse']:.3f} stars (the quality gate's slice)")
    served = "served" if result.get("served", True) else "kept, NOT served"
    lines.append(f"bundle: {result['bundle']} ({served})")
    return printable("\n".join(lines), keep="\n")


def rollback_command(args: argparse.Namespace) -> None:
    """Serve the previous kept bundle of ``--model`` (default: the default model's kind)."""
    from recsys.model.bundle import bundle_kind, current_bundle, read_manifest, rollback
    from recsys.settings import resolve_artifacts_dir

    artifacts = resolve_artifacts_dir(args.artifacts)
    model = args.model or bundle_kind(read_manifest(current_bundle(artifacts))[0])
    was = current_bundle(artifacts, model)
    now = rollback(artifacts, model, wait=args.wait)
    payload = {"model": model, "bundle": str(now), "was": str(was)}
    emit(args, payload, rollback_text)


def rollback_text(result: dict) -> str:
    return printable(
        f"now serving {Path(result['bundle']).name} as the {result['model']} model "
        f"(was {Path(result['was']).name})"
    )
