"""``python -m recsys train``: load the data, train, write a bundle, print the figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recsys.cli.commands import emit, print_warnings, progress_for
from recsys.errors import printable
from recsys.model.distributed import check_global_batch
from recsys.progress import TextBar


def train_command(args: argparse.Namespace) -> None:
    """Train the model named on the command line (``--model``); print the report.

    The hybrid model trains on the whole catalogue (``--preset`` and ``--recipe`` are the
    lab network's); ``--epochs``, ``--lr``, ``--batch-size`` and ``--seed`` apply to both.
    """
    from recsys.dataset.movielens import load_movielens
    from recsys.model.kinds import RunOptions, train
    from recsys.settings import resolve_artifacts_dir

    if args.workers or args.distributed:
        distributed_train_command(args)
        return
    dataset = load_movielens(args.data)
    print_warnings(dataset.warnings)
    config = _config(args)
    artifacts = resolve_artifacts_dir(args.artifacts)
    bar = progress_for(args)
    try:
        options = RunOptions(progress=bar, wait=args.wait, force=args.force)
        report = train(dataset, config, artifacts, options)
    finally:
        if bar is not None:
            bar.close()
    emit(args, report.to_json(), train_text)
    _warn_not_served(report.to_json())


def distributed_train_command(args: argparse.Namespace) -> None:
    """``--workers N``: start N local workers (in a private network) and report the
    chief's result. ``--distributed``: be one worker of the cluster that TF_CONFIG
    describes, warning on stderr that its port is open to whoever reaches it; the chief
    trains and writes the bundle as ``train`` does, the others only train. The worker's
    training runs in a child process that this one watches (``supervise_worker``)."""
    import json

    from recsys.model.distributed.cluster import (
        cluster_from_env,
        open_port_warning,
        run_local_workers,
        supervise_worker,
        supervised,
    )
    from recsys.model.kinds import model_kind

    config = _config(args)
    if args.workers:
        if model_kind(args.model).global_batch:
            check_global_batch(config, args.workers)
        run = run_local_workers(_worker_args(args, json_output=True), args.workers)
        sys.stderr.write(run.stderr)
        result = json.loads(run.stdout)
        emit(args, result, train_text)
        _warn_not_served(result)
        return
    cluster = cluster_from_env()
    if not supervised():
        warning = open_port_warning(cluster)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        argv = _worker_args(args, json_output=args.json)
        code = supervise_worker(argv, cluster, args.join_timeout)
        if code:
            raise SystemExit(code)
        return
    _train_as_worker(args, config, cluster)


def _config(args: argparse.Namespace):
    """The config of the model named by ``--model``, from the command line's choices
    (``--preset`` and ``--recipe`` are the lab network's; distributed, the lab's
    ``--batch-size`` is the global batch and the hybrid's each worker's)."""
    from recsys.model.kinds import model_kind

    return model_kind(args.model).make_config(
        recipe=args.recipe,
        preset=args.preset,
        seed=args.seed,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
    )


def _train_as_worker(args: argparse.Namespace, config, cluster) -> None:
    """One worker's training: the chief's report, or a line from the others."""
    from recsys.dataset.movielens import load_movielens
    from recsys.model.kinds import RunOptions, model_kind, train
    from recsys.settings import resolve_artifacts_dir

    dataset = load_movielens(args.data)
    artifacts = resolve_artifacts_dir(args.artifacts)
    if not cluster.is_chief:
        options = RunOptions(wait=args.wait, force=args.force, cluster=cluster)
        result = model_kind(args.model).worker(dataset, config, artifacts, options)
        emit(
            args,
            result,
            lambda r: (
                f"worker {r['worker']} of {r['workers']} trained; the chief writes the bundle"
            ),
        )
        return
    print_warnings(dataset.warnings)
    bar = None if args.json else TextBar()
    options = RunOptions(progress=bar, wait=args.wait, force=args.force, cluster=cluster)
    try:
        report = train(dataset, config, artifacts, options)
    finally:
        if bar is not None:
            bar.close()
    emit(args, report.to_json(), train_text)
    _warn_not_served(report.to_json())


def _worker_args(args: argparse.Namespace, json_output: bool) -> list[str]:
    """The command line each worker runs: this one, as ``--distributed``."""
    argv = ["train", "--distributed", "--model", args.model] + ["--json"] * json_output
    argv += ["--preset", args.preset, "--recipe", args.recipe, "--seed", str(args.seed)]
    argv += ["--join-timeout", repr(args.join_timeout)]
    for flag, value in (
        ("--data", args.data),
        ("--artifacts", args.artifacts),
        ("--epochs", args.epochs),
        ("--lr", args.lr),
        ("--batch-size", args.batch_size),
    ):
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--wait"] * bool(args.wait) + ["--force"] * bool(args.force)
    return argv


def _warn_not_served(result: dict) -> None:
    if not result.get("served", True):
        gate = result.get("gate") or {}
        print(
            f"warning: the new {result['model']} model was kept but not served: "
            f"{printable(gate.get('reason', ''))}; retrain with --force to serve it anyway",
            file=sys.stderr,
        )


def train_text(result: dict) -> str:
    """The train report for people: rows, counts, seconds, test error, bundle path."""
    lines = [
        f"trained the {result['model']} model on {result['train_rows']:,} rows "
        f"({result['items']} movies, {result['users']} users) in {result['seconds']:.1f} s"
    ]
    if result.get("test_mse") is not None:  # the lab's split; the hybrid has no test rows
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
