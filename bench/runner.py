"""Run the chosen sections in one process, sharing one dataset, split and bundle."""

from __future__ import annotations

import contextlib
import tempfile
import time
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bench.common import log, machine
from bench.goals import check_goals
from bench.keys import blank
from bench.plan import FULL, QUICK, Plan

SECTIONS = ("train", "limit", "new_user", "nearest", "hybrid", "app", "load", "scale")
# A small synthetic dataset for --quick when no MovieLens data is found.
QUICK_SYNTHETIC = {"n_users": 400, "n_movies": 1200, "n_ratings": 60_000}


class BenchError(RuntimeError):
    """A problem with the bench's own input (no data, no bundle)."""


@dataclass
class Options:
    quick: bool = False
    sections: tuple[str, ...] = SECTIONS
    data: Path | None = None
    artifacts: Path | None = None
    app: Path = Path("dashboard.py")
    scale_data: Path | None = None


class Context:
    """What sections share, built on first use: data, split, bundle, models, app server."""

    def __init__(self, options: Options, work: Path, stack: contextlib.ExitStack):
        self.options = options
        self.plan: Plan = QUICK if options.quick else FULL
        self.work = work
        self._stack = stack

    @cached_property
    def data_path(self) -> Path:
        from recsys.dataset.movielens import dataset_present
        from recsys.settings import resolve_data_path

        path = resolve_data_path(self.options.data)
        if dataset_present(path):
            return path
        if not self.options.quick:
            raise BenchError(f"no MovieLens data at {path}; set RECSYS_DATA or pass --data")
        from recsys.dataset.synth import write_synthetic

        log(f"no MovieLens data at {path}; --quick uses a small synthetic set")
        folder = self.work / "synthetic-quick"
        write_synthetic(folder, **QUICK_SYNTHETIC, rng=0)
        return folder

    @cached_property
    def dataset(self):
        from recsys.dataset.movielens import load_movielens

        log(f"loading {self.data_path}")
        return load_movielens(self.data_path)

    @cached_property
    def split(self):
        from recsys.config import preset_config
        from recsys.model.features import build_features
        from recsys.model.lab.train import lab_split

        return lab_split(build_features(self.dataset, preset_config("lab")))

    @cached_property
    def artifacts(self) -> Path:
        """An artifacts folder whose current bundle the serving sections use."""
        if self.options.artifacts is not None:
            return self.options.artifacts
        from recsys.config import recipe_config
        from recsys.model.lab.train import train_bundle

        folder = self.work / "artifacts"
        config = recipe_config("fast", epochs=self.plan.bundle_epochs)
        log(f"training the served bundle (fast recipe, {config.epochs} epochs)")
        train_bundle(self.dataset, config, folder)
        return folder

    @cached_property
    def recommender(self):
        from recsys.serving.recommender import Recommender

        return Recommender.load(self.artifacts)

    @cached_property
    def keras_model(self):
        from recsys.model.lab.network import load_model

        return load_model(self.recommender.bundle / "model.keras")

    @property
    def app_path(self) -> Path:
        from recsys.settings import PROJECT_ROOT

        app = self.options.app
        return app if app.is_absolute() else PROJECT_ROOT / app

    @cached_property
    def app_env(self) -> dict[str, str]:
        from bench.app import app_env

        return app_env(self.artifacts, self.data_for_app)

    @cached_property
    def app_server(self):
        """(server, seconds until healthy): started once, stopped when the run ends."""
        from bench.server import running_app, wait_healthy

        log(f"starting streamlit for {self.app_path.name}")
        server = self._stack.enter_context(running_app(self.app_path, self.work, **self.app_env))
        return server, wait_healthy(server)

    @property
    def data_for_app(self) -> Path | None:
        """The data the bundle came from, else whatever dataset is found, else None."""
        if "data_path" in self.__dict__:
            return self.data_path
        from recsys.dataset.movielens import dataset_present
        from recsys.settings import resolve_data_path

        path = resolve_data_path(self.options.data)
        return path if dataset_present(path) else None


def _section(name: str, ctx: Context, results: dict) -> dict:
    plan = ctx.plan
    if name == "train":
        from bench.training import run_train

        return run_train(ctx.split, plan)
    if name == "limit":
        from bench.limit import run_limit

        return run_limit(results.get("train") or {}, plan.quick)
    if name == "new_user":
        from bench.serving import run_new_user

        return run_new_user(ctx.recommender, ctx.keras_model, plan)
    if name == "nearest":
        from bench.serving import run_nearest

        return run_nearest(ctx.recommender, plan)
    if name == "hybrid":
        from bench.hybrid import run_hybrid

        return run_hybrid(ctx.dataset, ctx.recommender, ctx.keras_model, ctx.work, plan)
    if name in ("app", "load") and not ctx.app_path.exists():
        return blank(name, skipped=f"{ctx.app_path.name} is not in the project yet")
    if name == "app":
        from bench.app import run_app

        server, healthy_s = ctx.app_server
        return run_app(server, healthy_s, ctx.app_env, plan)
    if name == "load":
        from bench.load import run_load

        return run_load(ctx.app_server[0], plan)
    if name == "scale":
        from bench.scale import run_scale

        return run_scale(plan, ctx.work, ctx.options.scale_data)
    raise ValueError(f"unknown section {name!r}")


def run(options: Options) -> tuple[dict, bool]:
    """(results, whether every section ran without error)."""
    results: dict = {"mode": "quick" if options.quick else "full", "machine": machine()}
    ok = True
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="recsys-bench-") as work,
        contextlib.ExitStack() as stack,
    ):
        ctx = Context(options, Path(work), stack)
        for name in (s for s in SECTIONS if s in options.sections):
            section_start = time.perf_counter()
            try:
                results[name] = _section(name, ctx, results)
            except BenchError:
                raise
            except Exception as err:  # one broken section must not hide the others
                ok = False
                traceback.print_exc()
                reason = f"{type(err).__name__}: {' '.join(str(err).split())[:500]}"
                results[name] = blank(name, error=reason)
            log(f"{name}: done in {time.perf_counter() - section_start:.1f} s")
        if "data_path" in ctx.__dict__:
            results["data"] = _describe_data(ctx)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["goals"] = check_goals(results)
    # --quick shrinks every part: its figures show that the bench works, not the speed.
    results["goals_apply"] = not options.quick
    return results, ok


def _describe_data(ctx: Context) -> dict:
    path = ctx.data_path
    synthetic = path.is_relative_to(ctx.work)
    return {"source": "synthetic" if synthetic else path.name, "synthetic": synthetic}
