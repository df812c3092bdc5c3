"""Trained bundles on disk, by role: ``store`` writes them atomically, keeps the last
few, moves the served pointers and rolls back; ``verify`` reads one safely (sizes,
hashes, no Lambda layer, freshness); ``manifest`` is what ``manifest.json`` says, typed;
``gate`` judges a new bundle against the served one.

What callers need of the store and its checks is re-exported here: the store's public
names (its ``__all__``, which includes the checks it re-exports) and ``Manifest``.
"""

from recsys.model.bundle import store
from recsys.model.bundle.manifest import Manifest
from recsys.model.bundle.store import *  # noqa: F403  (exactly store.__all__)

__all__ = ["Manifest"]
__all__ += store.__all__
