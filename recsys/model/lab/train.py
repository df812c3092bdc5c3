"""Train a two-tower model on a dataset and write a bundle.

The lab protocol: scalers fit on all rows, then one 80/20 shuffle split with
``random_state=1`` (the same rows the lab's three ``train_test_split`` calls pick).
The served model is the one trained on the 80%, so its test metrics are its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.model_selection import train_test_split

from recsys.columns import (
    AVE_RATING,
    GENRE_LIST,
    GENRES,
    MOVIE_ID,
    NUM_RATINGS,
    RATING,
    TITLE,
    USER_ID,
    USER_VECTOR_COLUMNS,
    YEAR,
)
from recsys.config import TrainConfig, preset_config
from recsys.dataset.movielens import MovieLens
from recsys.model.bundle import training_lock, write_bundle
from recsys.model.bundle.gate import judge_against_served, validation_record, validation_rows
from recsys.model.bundle.manifest import training_manifest
from recsys.model.distributed import check_global_batch, fit_on_cluster, training_record
from recsys.model.distributed.shards import shard_key, shard_path
from recsys.model.features import CatalogueTables, TrainingSet, build_features
from recsys.model.report import TrainReport, worker_report
from recsys.model.run import RunOptions, worker_cluster
from recsys.model.scaling import Scalers

LAB = "lab"
TEST_SIZE = 0.2
SPLIT_SEED = 1  # the lab's random_state

# The report's figures of the lab's split (the manifest's metrics add the fit's timing).
SPLIT_METRICS = ("train_mse", "test_mse", "test_rmse_stars")

ITEMS_CSV_COLUMNS = [MOVIE_ID, TITLE, YEAR, AVE_RATING, *GENRE_LIST, GENRES, NUM_RATINGS]


class SplitRows(NamedTuple):
    """Row indices into the training set: ``train`` [~0.8 n] and ``test`` [~0.2 n]."""

    train: np.ndarray
    test: np.ndarray


def lab_split_rows(n_rows: int) -> SplitRows:
    """The lab's train/test rows of a training set of ``n_rows``: one shuffle split,
    80/20, ``random_state=SPLIT_SEED``. The same rows every time for the same ``n_rows``."""
    train_rows, test_rows = train_test_split(
        np.arange(n_rows), train_size=1 - TEST_SIZE, shuffle=True, random_state=SPLIT_SEED
    )
    return SplitRows(train=train_rows, test=test_rows)


@dataclass(frozen=True)
class LabSplit:
    """Scaled network inputs, split the lab's way. Targets in scaled [-1, 1] units.

    user_*: [n, 14], item_*: [n, 16], y_*: [n]; ``rows`` are the indices into the
    training set that each side took.
    """

    user_train: np.ndarray
    item_train: np.ndarray
    y_train: np.ndarray
    user_test: np.ndarray
    item_test: np.ndarray
    y_test: np.ndarray
    scalers: Scalers
    rows: SplitRows


def lab_split(training: TrainingSet) -> LabSplit:
    """Scalers fit on every row (as the lab does), then the 80/20 split."""
    scalers = Scalers.fit(training.user_train, training.item_train, training.y)
    users = scalers.user_inputs(training.user_train)
    items = scalers.item_inputs(training.item_train)
    target = scalers.scale_target(training.y)
    rows = lab_split_rows(len(target))
    return LabSplit(
        user_train=users[rows.train],
        item_train=items[rows.train],
        y_train=target[rows.train],
        user_test=users[rows.test],
        item_test=items[rows.test],
        y_test=target[rows.test],
        scalers=scalers,
        rows=rows,
    )


def train_bundle(
    dataset: MovieLens,
    config: TrainConfig,
    artifacts_dir: Path,
    options: RunOptions | None = None,
) -> TrainReport:
    """Build features, train, and atomically write a new bundle; serve it unless the
    quality gate finds it clearly worse than the served lab bundle (``options.force``
    serves it anyway; see ``recsys.model.bundle.gate``).

    ``options.progress`` hears each stage as ``(0, 0, "building features")`` and each epoch as
    ``(epoch, epochs planned, "epoch 3/12, loss 0.1234")`` (loss in scaled units).
    ``options.wait``: block for another training's lock (True, or that many seconds) instead of
    failing at once. Holds the artifacts' training lock throughout; any failure leaves
    the previous bundle exactly as it was.
    ``options.cluster``: train on TensorFlow's MultiWorkerMirroredStrategy as the chief of that
    cluster (``recsys.model.distributed.shards``); ``config.batch_size`` is then the global batch.
    Other workers call :func:`train_worker`.
    """
    options = options or RunOptions()
    progress, cluster = options.progress, options.cluster
    say = progress or (lambda _done, _total, _text="": None)
    start = time.perf_counter()
    if cluster is not None:
        check_global_batch(config, cluster.workers)
    with training_lock(artifacts_dir, wait=options.wait):
        from recsys.model.lab import network as two_tower  # TensorFlow is imported only to train

        say(0, 0, "building features")
        feature_config, training, split = _features(dataset, config)
        say(0, 0, "training")
        if cluster is None:
            fitted = two_tower.fit(
                split.user_train, split.item_train, split.y_train, config, progress=progress
            )
        else:
            key = shard_key(dataset.fingerprint, config.preset)
            shard = shard_path(artifacts_dir, key, cluster)
            fitted = _fit_on_cluster(split, config, cluster, shard, progress)
        say(0, 0, "writing the bundle")
        metrics = _metrics(two_tower, fitted, split)
        validation = _validation(two_tower, fitted, split, dataset.fingerprint, config.preset)
        verdict = judge_against_served(artifacts_dir, LAB, validation, options.force)
        counts = {
            **training.counts(),
            "train_rows": int(len(split.y_train)),
            "test_rows": int(len(split.y_test)),
        }
        embeddings = _item_embeddings(two_tower, fitted.model, split.scalers, training)
        writers = _bundle_writers(training, split.scalers, fitted, embeddings, two_tower)
        manifest = training_manifest(
            LAB,
            dataset,
            config={**config.to_dict(), "features": feature_config.to_dict()},
            training=training_record(config, cluster),
            metrics=metrics,
            counts=counts,
            architecture=two_tower.architecture(fitted.model),
            protocol="lab",
            validation=validation,
            gate=verdict.to_json(),
        )
        bundle = write_bundle(artifacts_dir, writers, manifest, make_current=verdict.serve)
    return TrainReport(
        model=LAB,
        counts=training.counts(),
        train_rows=counts["train_rows"],
        test_rows=counts["test_rows"],
        seconds=time.perf_counter() - start,
        fit_seconds=fitted.seconds,
        epochs_run=fitted.epochs_run,
        bundle=bundle,
        gate=verdict.to_json(),
        metrics={name: metrics[name] for name in SPLIT_METRICS},
    )


def _fit_on_cluster(split: LabSplit, config, cluster, shard, progress):
    """This worker's shard of the train rows, trained in step with the cluster."""
    return fit_on_cluster(
        split.user_train,
        split.item_train,
        split.y_train,
        config,
        cluster,
        shard,
        progress=progress,
    )


def _features(dataset: MovieLens, config: TrainConfig):
    """(the preset's FeatureConfig, the TrainingSet, the lab split)."""
    feature_config = preset_config(config.preset)
    training = build_features(dataset, feature_config)
    return feature_config, training, lab_split(training)


def train_worker(
    dataset: MovieLens, config: TrainConfig, artifacts_dir: Path, options: RunOptions
) -> dict:
    """A non-chief worker's part of the training on ``options.cluster``: the same
    features and split as the chief, this worker's shard, the synchronised training; no
    lock, no bundle (the chief writes it). Returns ``worker_report``'s dict."""
    cluster = worker_cluster(options)
    check_global_batch(config, cluster.workers)
    _, _, split = _features(dataset, config)
    shard = shard_path(artifacts_dir, shard_key(dataset.fingerprint, config.preset), cluster)
    fitted = _fit_on_cluster(split, config, cluster, shard, None)
    return worker_report(cluster, len(split.y_train), fitted.seconds, fitted.epochs_run)


def _validation(two_tower, fitted, split: LabSplit, fingerprint: str, preset: str) -> dict:
    """The gate's figure: RMSE in stars on a fixed slice of the train rows (never the
    test rows); see ``recsys.model.bundle.gate``."""
    rows = validation_rows(len(split.y_train))
    mse = two_tower.evaluate_mse(
        fitted.model, split.user_train[rows], split.item_train[rows], split.y_train[rows]
    )
    rmse_stars = float(np.sqrt(mse) * split.scalers.star_span / 2)
    return validation_record(rmse_stars, rows, len(split.y_train), fingerprint, preset)


def _metrics(two_tower, fitted, split: LabSplit) -> dict:
    """MSE on both sides (scaled units), the test RMSE in stars, and the fit's timing."""
    train_mse = two_tower.evaluate_mse(
        fitted.model, split.user_train, split.item_train, split.y_train
    )
    test_mse = two_tower.evaluate_mse(fitted.model, split.user_test, split.item_test, split.y_test)
    return {
        "train_mse": train_mse,
        "test_mse": test_mse,
        "test_rmse_stars": float(np.sqrt(test_mse) * split.scalers.star_span / 2),
        "fit_seconds": fitted.seconds,
        "epochs_run": fitted.epochs_run,
    }


def _item_embeddings(two_tower, model, scalers: Scalers, training: TrainingSet) -> np.ndarray:
    """[n_items, 32] float32 L2-normalised item vectors of every movie in the set."""
    scaled_items = scalers.item_inputs(training.item_vecs)
    item_model = two_tower.item_embedding_model(model)
    return np.asarray(
        item_model.predict(scaled_items.astype("float32"), batch_size=8192, verbose=0),
        dtype="float32",
    )


def _bundle_writers(training, scalers, fitted, embeddings, two_tower) -> dict:
    weights = two_tower.tower_weights(fitted.model)
    return {
        "model.keras": lambda path: fitted.model.save(path),
        "weights.npz": lambda path: save_npz(path, weights),
        "scalers.json": lambda path: path.write_text(scalers.to_json()),
        **table_writers(training.tables, embeddings),
        "history.json": lambda path: path.write_text(
            json.dumps({**fitted.history, "epochs_run": fitted.epochs_run})
        ),
    }


def table_writers(tables: CatalogueTables, embeddings: np.ndarray) -> dict:
    """The bundle files both models share: the movies, their embeddings [n, d], the
    users' vectors and the ratings (stars) that serving shows."""
    items = tables.items[ITEMS_CSV_COLUMNS].copy()
    items[MOVIE_ID] = items[MOVIE_ID].astype("int64")
    users = tables.users[list(USER_VECTOR_COLUMNS)].copy()
    users[USER_ID] = users[USER_ID].astype("int64")
    ratings = tables.ratings
    return {
        "items.csv": lambda path: items.to_csv(path, index=False),
        "item_embeddings.npy": lambda path: _save_npy(path, embeddings),
        "users.csv": lambda path: users.to_csv(path, index=False),
        "ratings.npz": lambda path: save_npz(
            path,
            {
                USER_ID: ratings[USER_ID].to_numpy("int32"),
                MOVIE_ID: ratings[MOVIE_ID].to_numpy("int32"),
                RATING: ratings[RATING].to_numpy("float32"),
            },
        ),
    }


def save_npz(path: Path, arrays: dict) -> None:
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as stream:
        np.save(stream, array, allow_pickle=False)
