"""The project's one ``import tensorflow`` (and Keras), made quietly.

Only the Keras graphs (``lab.network``, ``hybrid.network``) and the distributed steps
(``distributed.strategy``, ``lab_step``, ``hybrid_step``) import this module, and only
training imports them: serving, the evaluation and the dashboard run in numpy.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly():
    """Import TensorFlow with C++ start-up chatter (absl/oneDNN notes) kept off stderr.

    Our CLI promises one line on stderr for an error; TensorFlow's native logging
    ignores TF_CPP_MIN_LOG_LEVEL for a few start-up lines, so fd 2 is muted meanwhile.
    """
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        stderr_fd = None
    saved = os.dup(stderr_fd) if stderr_fd is not None else None
    try:
        if saved is not None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stderr_fd)
            os.close(devnull)
        import keras
        import tensorflow as tf

        # The first op logs the CPU feature notes: mute it too. Not in a distributed
        # worker (TF_CONFIG set): MultiWorkerMirroredStrategy must come before any op.
        if not os.environ.get("TF_CONFIG"):
            tf.constant(0.0) + 1.0
    finally:
        if saved is not None:
            os.dup2(saved, stderr_fd)
            os.close(saved)
    return keras, tf


keras, tf = _import_tensorflow_quietly()
tf.get_logger().setLevel("ERROR")  # retracing notes are not for users


def set_seed(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TensorFlow's ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
