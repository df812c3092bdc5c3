"""Joining the training cluster with TensorFlow's ``MultiWorkerMirroredStrategy``, for
both model kinds' distributed steps (TensorFlow).

The collectives go over a ring with a timeout, so a peer that falls silent mid-step
becomes a ClusterError in one line rather than an hour's wait.
"""

from __future__ import annotations

from contextlib import contextmanager

from recsys.errors import one_line
from recsys.model._tf import tf
from recsys.model.distributed.cluster import Cluster, ClusterError

COLLECTIVE_TIMEOUT_S = 300  # a peer silent this long during a step is given up


@contextmanager
def joined_cluster(cluster: Cluster):
    """The strategy of the cluster in ``TF_CONFIG``, made before any other TensorFlow op
    (as the strategy requires); TensorFlow's errors inside become ClusterError, in one
    line. A worker that never comes is the supervisor's to end
    (``cluster.supervise_worker``): TensorFlow would wait an hour for it, holding
    Python's lock."""
    strategy = _strategy(cluster)
    try:
        yield strategy
    except tf.errors.OpError as err:
        raise ClusterError(f"worker {cluster.index} lost the cluster: {_reason(err)}") from None


def _strategy(cluster: Cluster) -> tf.distribute.MultiWorkerMirroredStrategy:
    """The strategy, which starts this worker's gRPC server; ClusterError in one line if
    the server cannot listen on its port (another process took it) or TF_CONFIG is bad."""
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,
        timeout_seconds=COLLECTIVE_TIMEOUT_S,
    )
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except tf.errors.OpError as err:
        if "gRPC server" not in (err.message or ""):
            raise ClusterError(f"could not join the cluster in TF_CONFIG: {_reason(err)}") from None
        address = cluster.addresses[cluster.index]
        port = address.rpartition(":")[2]
        raise ClusterError(
            f"worker {cluster.index} could not listen on port {port} ({address} in TF_CONFIG): "
            "another process holds it, or it is not this user's to open; no bundle was written"
        ) from None
    except (RuntimeError, ValueError) as err:
        raise ClusterError(f"could not join the cluster in TF_CONFIG: {one_line(err)}") from None


def _reason(err: tf.errors.OpError) -> str:
    """TensorFlow's message, first line only, at most 200 characters."""
    first = (err.message or type(err).__name__).strip().splitlines()[0]
    return one_line(first if len(first) <= 200 else first[:199] + "…")
