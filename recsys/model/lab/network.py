"""The lab's two-tower network (Keras, through ``recsys.model._tf``) and its training.

Two towers, each ``Dense(256, relu) → Dense(128, relu) → Dense(32)``; each output is
L2-normalised by the registered :class:`L2Normalize` layer (no Lambda, so the saved
``.keras`` loads with ``safe_mode=True``); the prediction is their dot product, a
rating in the scaled [-1, 1] units.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from recsys.config import TrainConfig
from recsys.model._tf import keras, set_seed, tf
from recsys.model.lab.towers import ITEM_TOWER, USER_TOWER, weight_key
from recsys.progress import Progress

# Our tf.data pipeline shuffles itself; Keras warns that its own shuffle is unused.
warnings.filterwarnings("ignore", message=".*shuffle=True.*tf.data.Dataset", category=UserWarning)

EMBEDDING_DIM = 32
HIDDEN = (256, 128)


@keras.saving.register_keras_serializable(package="recsys")
class L2Normalize(keras.layers.Layer):
    """x / max(‖x‖₂, 1e-6) along the last axis, as ``tf.linalg.l2_normalize`` does."""

    def call(self, inputs):
        squared = keras.ops.sum(keras.ops.square(inputs), axis=-1, keepdims=True)
        return inputs * keras.ops.rsqrt(keras.ops.maximum(squared, 1e-12))

    def compute_output_shape(self, input_shape):
        return input_shape


def _tower(name: str) -> keras.Sequential:
    return keras.Sequential(
        [
            keras.layers.Dense(HIDDEN[0], activation="relu", name=f"{name}_dense_1"),
            keras.layers.Dense(HIDDEN[1], activation="relu", name=f"{name}_dense_2"),
            keras.layers.Dense(EMBEDDING_DIM, name=f"{name}_out"),
        ],
        name=name,
    )


def build_model(num_user_features: int = 14, num_item_features: int = 16) -> keras.Model:
    """The lab's network: 82,240 parameters for 14 user and 16 item inputs."""
    input_user = keras.Input(shape=(num_user_features,), name="user")
    input_item = keras.Input(shape=(num_item_features,), name="item")
    user_vec = L2Normalize(name="user_l2")(_tower(USER_TOWER)(input_user))
    item_vec = L2Normalize(name="item_l2")(_tower(ITEM_TOWER)(input_item))
    output = keras.layers.Dot(axes=1, name="dot")([user_vec, item_vec])
    return keras.Model([input_user, input_item], output, name="two_tower")


@dataclass
class FitResult:
    """A trained model and its loss history (scaled units)."""

    model: keras.Model
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    seconds: float = 0.0


class _EpochProgress(keras.callbacks.Callback):
    """Reports ``progress(epoch from 1, epochs planned, "epoch 3/12, loss 0.1234")``.

    The loss is the training MSE in scaled [-1, 1] units.
    """

    def __init__(self, progress: Progress, planned: int):
        super().__init__()
        self._progress = progress
        self._planned = planned

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        text = f"epoch {done}/{self._planned}"
        loss = (logs or {}).get("loss")
        if loss is not None:
            text += f", loss {float(loss):.4f}"
        self._progress(done, self._planned, text)


def fit(
    user_x: np.ndarray,
    item_x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
) -> FitResult:
    """Train on scaled inputs ``[n, 14]``, ``[n, 16]`` and scaled targets ``[n]``.

    ``progress`` hears ``(epoch, epochs planned, "epoch 3/12, loss 0.1234")`` after each
    epoch (the loss in scaled units).
    """
    set_seed(config.seed)
    model = build_model(user_x.shape[1], item_x.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.lr),
        loss=keras.losses.MeanSquaredError(),
        steps_per_execution=config.steps_per_execution,
    )
    callbacks: list[keras.callbacks.Callback] = []
    if progress is not None:
        callbacks.append(_EpochProgress(progress, config.epochs))
    if config.lr_decay:
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: config.lr * config.lr_decay**epoch
            )
        )
    y = np.asarray(y, dtype="float32").reshape(-1, 1)
    train = _dataset(user_x, item_x, y, config.batch_size, shuffle_seed=config.seed)
    start = time.perf_counter()
    history = model.fit(train, epochs=config.epochs, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    losses = {k: [float(v) for v in vals] for k, vals in history.history.items() if k == "loss"}
    return FitResult(
        model=model, history=losses, epochs_run=len(losses.get("loss", [])), seconds=seconds
    )


def _dataset(user_x, item_x, y, batch_size: int, shuffle_seed: int) -> tf.data.Dataset:
    data = tf.data.Dataset.from_tensor_slices(
        ((np.asarray(user_x, "float32"), np.asarray(item_x, "float32")), y)
    )
    data = data.shuffle(len(y), seed=shuffle_seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def evaluate_mse(model: keras.Model, user_x, item_x, y) -> float:
    """Mean squared error in scaled units."""
    predicted = predict(model, user_x, item_x)
    return float(np.mean((predicted - np.asarray(y, "float64").ravel()) ** 2))


def predict(model: keras.Model, user_x, item_x) -> np.ndarray:
    """[n] scaled predictions."""
    out = model.predict(
        [np.asarray(user_x, "float32"), np.asarray(item_x, "float32")], batch_size=8192, verbose=0
    )
    return np.asarray(out, dtype="float64").ravel()


def tower_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """The towers' kernels and biases as float32 arrays, keyed for numpy serving."""
    weights = {}
    for tower_name in (USER_TOWER, ITEM_TOWER):
        tower = model.get_layer(tower_name)
        for i, layer in enumerate(tower.layers, start=1):
            kernel, bias = layer.get_weights()
            weights[weight_key(tower_name, i, "kernel")] = kernel.astype("float32")
            weights[weight_key(tower_name, i, "bias")] = bias.astype("float32")
    return weights


def architecture(model: keras.Model) -> list[dict]:
    """Layer by layer: name, kind, output width and parameter count."""
    rows = []
    for layer in model.layers:
        sublayers = getattr(layer, "layers", None)
        for sub in sublayers or [layer]:
            shape = getattr(sub, "output", None)
            width = shape.shape[-1] if shape is not None and hasattr(shape, "shape") else None
            rows.append(
                {
                    "tower": layer.name if sublayers else "",
                    "layer": sub.name,
                    "kind": type(sub).__name__,
                    "activation": getattr(getattr(sub, "activation", None), "__name__", ""),
                    "units": width,
                    "params": int(sub.count_params()),
                }
            )
    return rows


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a ``.keras`` file with ``safe_mode=True``; anything else is refused."""
    if not str(path).endswith(".keras"):
        raise ValueError(f"{path}: only .keras files are loaded (not .h5 or SavedModel)")
    return keras.models.load_model(
        path, custom_objects={"L2Normalize": L2Normalize}, safe_mode=True, compile=False
    )


def item_embedding_model(model: keras.Model) -> keras.Model:
    """The item tower with its L2 normalisation: scaled [n, 16] → [n, 32]."""
    width = model.get_layer(ITEM_TOWER).layers[0].kernel.shape[0]
    item_input = keras.Input(shape=(width,))
    outputs = model.get_layer("item_l2")(model.get_layer(ITEM_TOWER)(item_input))
    return keras.Model(item_input, outputs, name="item_embedding")
