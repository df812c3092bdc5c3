"""Training the hybrid model into a bundle over the whole catalogue.

The bundle shares the lab's file names but for the scalers (``HYBRID_FILES``), so the
store, its checks and the decoder are shared: ``weights.npz`` holds the hybrid's numpy
parameters, ``model.keras`` both towers, ``items.csv``/``users.csv`` the whole catalogue
and every user as the lab's vectors (for display), and the manifest says
``"model": "hybrid"``. The lab network's training rows and scalers are not built: the
hybrid's serving never reads them. TensorFlow is imported only inside
:func:`train_hybrid_bundle`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.config import HYBRID, HybridConfig, preset_config
from recsys.dataset.movielens import MovieLens
from recsys.model.bundle import training_lock, write_bundle
from recsys.model.bundle.gate import (
    hybrid_validation_rmse,
    judge_against_served,
    validation_record,
    validation_rows,
)
from recsys.model.bundle.manifest import training_manifest
from recsys.model.distributed import fit_hybrid_on_cluster, hybrid_training_record
from recsys.model.distributed.shards import shard_key, shard_path
from recsys.model.features import catalogue_tables
from recsys.model.hybrid.content import build_content
from recsys.model.hybrid.stars import refit_on_ratings
from recsys.model.lab.train import save_npz, table_writers
from recsys.model.report import TrainReport, worker_report
from recsys.model.run import RunOptions, worker_cluster

SERVED_PRESET = "catalogue"


def train_hybrid_bundle(
    dataset: MovieLens,
    config: HybridConfig,
    artifacts_dir: Path,
    options: RunOptions | None = None,
) -> TrainReport:
    """Train the hybrid model on every rating (and the dataset's tags) and atomically
    write a new bundle, served unless the quality gate finds it clearly worse than the
    served hybrid bundle.

    ``options.progress``, ``wait`` and ``force`` as in
    ``recsys.model.lab.train.train_bundle``; a failure leaves the previous bundle intact.
    ``options.cluster``: train on TensorFlow's MultiWorkerMirroredStrategy as the chief of
    that cluster, each worker on its own users with a batch of ``config.batch_size``
    (``recsys.model.distributed.hybrid_step``); the other workers call
    :func:`train_hybrid_worker`.
    """
    options = options or RunOptions()
    progress, cluster = options.progress, options.cluster
    say = progress or (lambda _done, _total, _text="": None)
    start = time.perf_counter()
    with training_lock(artifacts_dir, wait=options.wait):
        from recsys.model.lab.network import architecture  # TensorFlow, only to train

        say(0, 0, "building features")
        feature_config = preset_config(SERVED_PRESET)
        tables = catalogue_tables(dataset.ratings, dataset.movies, feature_config)
        content = build_content(dataset.movies, dataset.tags, config.min_token_df)
        say(0, 0, "training")
        params, model, history = _fit(
            tables.ratings,
            content,
            config,
            artifacts_dir,
            dataset.fingerprint,
            cluster,
            progress,
        )
        say(0, 0, "writing the bundle")
        validation = _validation(params, tables.ratings, dataset.fingerprint)
        verdict = judge_against_served(artifacts_dir, HYBRID, validation, options.force)
        rows = pd.Index(params.movie_ids).get_indexer(tables.items["movieId"].astype("int64"))
        embeddings = np.ascontiguousarray(params.item_vecs[rows, : params.dim], dtype="float32")
        writers = {
            "model.keras": lambda path: model.save(path),
            "weights.npz": lambda path: save_npz(path, params.to_arrays()),
            **table_writers(tables, embeddings),
            "history.json": lambda path: path.write_text(
                json.dumps({"loss": history["rank_loss"], **history})
            ),
        }
        # Every rating is a training row: no lab split (and no repeats in the catalogue).
        rows_trained = int(len(tables.ratings))
        counts = {**tables.counts(), "rows": rows_trained, "train_rows": rows_trained}
        counts["test_rows"] = 0
        manifest = training_manifest(
            HYBRID,
            dataset,
            config={**config.to_dict(), "features": feature_config.to_dict()},
            training=hybrid_training_record(config, cluster),
            metrics={"fit_seconds": history["seconds"], "epochs_run": history["epochs"]},
            counts=counts,
            architecture=architecture(model),
            protocol=None,
            validation=validation,
            gate=verdict.to_json(),
        )
        bundle = write_bundle(artifacts_dir, writers, manifest, make_current=verdict.serve)
    return TrainReport(
        model=HYBRID,
        counts={key: counts[key] for key in ("items", "users", "ratings", "rows")},
        train_rows=counts["train_rows"],
        test_rows=0,
        seconds=time.perf_counter() - start,
        fit_seconds=history["seconds"],
        epochs_run=history["epochs"],
        bundle=bundle,
        gate=verdict.to_json(),
    )


def _fit(ratings, content, config, artifacts_dir, fingerprint, cluster, progress):
    """(HybridParams, the Keras towers, history): in this process, or as one worker of
    ``cluster`` on its shard of the users (written under the artifacts' ``.shards``)."""
    if cluster is None:
        from recsys.model.hybrid.network import fit_hybrid  # TensorFlow: only to train

        return fit_hybrid(ratings, content, config, progress=progress)
    shard = shard_path(artifacts_dir, shard_key(fingerprint, HYBRID), cluster)
    params, model, history = fit_hybrid_on_cluster(
        ratings, content, config, cluster, shard, progress=progress
    )
    if cluster.is_chief:  # the stars' last step, on every rating (the one process's too)
        start = time.perf_counter()
        params = refit_on_ratings(params, ratings)
        history["seconds"] += time.perf_counter() - start
    return params, model, history


def train_hybrid_worker(
    dataset: MovieLens, config: HybridConfig, artifacts_dir: Path, options: RunOptions
) -> dict:
    """A non-chief worker's part of the training on ``options.cluster``: the same
    ratings and catalogue as the chief, this worker's users, the synchronised training;
    no lock, no bundle (the chief writes it). Returns ``worker_report``'s dict."""
    cluster = worker_cluster(options)
    tables = catalogue_tables(dataset.ratings, dataset.movies, preset_config(SERVED_PRESET))
    content = build_content(dataset.movies, dataset.tags, config.min_token_df)
    _, _, history = _fit(
        tables.ratings, content, config, artifacts_dir, dataset.fingerprint, cluster, None
    )
    return worker_report(cluster, len(tables.ratings), history["seconds"], history["epochs"])


def _validation(params, ratings: pd.DataFrame, fingerprint: str) -> dict:
    """The gate's figure: RMSE in stars on a fixed slice of the ratings trained on."""
    rows = validation_rows(len(ratings))
    rmse_stars = hybrid_validation_rmse(params, ratings, rows)
    return validation_record(rmse_stars, rows, len(ratings), fingerprint, SERVED_PRESET)
