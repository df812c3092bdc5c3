"""A verified bundle, decoded into the arrays and tables that serving reads.

``decode_bundle`` checks every file against the manifest's sha256 (through
``recsys.model.bundle.read_verified``) and then decodes each serving file: no pickle, no
Keras. What it returns is frozen and its arrays are read-only, so one decoded bundle is
shared safely by every app session and thread.
"""

from __future__ import annotations

import io
import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.columns import MOVIE_ID, RATING, USER_ID, YEAR
from recsys.errors import BundleError
from recsys.model.bundle import (
    BUNDLE_FILES,
    BUNDLE_PREFIX,
    MANIFEST,
    Manifest,
    current_bundle,
    read_verified,
)
from recsys.model.kinds import KINDS
from recsys.model.scaling import Scalers
from recsys.serving.catalogue import default_index

# Serving reads every bundle file but the Keras model (which is only checked).
SERVING_FILES = tuple(name for name in BUNDLE_FILES if name != "model.keras")
# Errors that decoding (or building on) a verified file raises when it is malformed.
DECODE_ERRORS = (KeyError, ValueError, OSError)


def model_kind(manifest: Mapping) -> str:
    """``"hybrid"`` or ``"lab"`` (``Manifest.from_json`` names the kind of bundles from
    before the hybrid model)."""
    return Manifest.from_json(manifest).model


def unreadable(path: Path | None, err: Exception) -> BundleError:
    """The one-line error for a bundle whose files verify but cannot be decoded."""
    return BundleError(path or "bundle", f"cannot be read ({err}); retrain")


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class DecodedBundle:
    """Every serving file of one bundle, decoded.

    path: the bundle folder (None for a bundle built in memory, as the bench does).
    manifest / manifest_hash: the typed manifest.json (a JSON dict given in memory is read
        by ``Manifest.from_json``) and its sha256 (the bundle's id).
    weights: {``weight_key(tower, layer, part)``: float32 array}, read-only.
    items: one row per movie (lab item-vector columns, title, genres, num ratings),
        index 0..n-1. users: one row per user (lab user-vector columns), index 0..m-1.
    ratings: userId, movieId, rating (stars), the ratings the model was trained from.
    history: the training history (per-epoch losses).
    item_embeddings: [n_items, d] float32, C-contiguous, read-only; row i is ``items``
        row i. The lab's network: d = its last layer's width, unit length; the hybrid:
        d = its ``dim``, not normalised.
    """

    path: Path | None
    manifest: Manifest
    manifest_hash: str
    weights: Mapping[str, np.ndarray]
    scalers: Scalers | None  # None in a kind's bundle that has none (the hybrid's)
    items: pd.DataFrame
    users: pd.DataFrame
    ratings: pd.DataFrame
    history: dict
    item_embeddings: np.ndarray

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__, once, before anyone reads them.
        embeddings = np.ascontiguousarray(self.item_embeddings, dtype=np.float32)
        if embeddings.shape[0] != len(self.items):
            raise BundleError(self.path or "bundle", "item embeddings and items.csv disagree")
        weights = {key: _read_only(np.asarray(value)) for key, value in self.weights.items()}
        object.__setattr__(self, "manifest", Manifest.from_json(self.manifest))
        object.__setattr__(self, "item_embeddings", _read_only(embeddings))
        object.__setattr__(self, "weights", types.MappingProxyType(weights))
        object.__setattr__(self, "items", default_index(self.items))
        object.__setattr__(self, "users", default_index(self.users))


def bundle_folder(path: str | Path) -> Path:
    """``path`` itself when it is a bundle (it holds a manifest, or is named
    ``bundle-*``), else the default served bundle of that artifacts folder
    (MissingBundleError when none was trained yet)."""
    path = Path(path)
    if (path / MANIFEST).exists() or path.name.startswith(BUNDLE_PREFIX):
        return path
    return current_bundle(path)


def decode_bundle(path: str | Path) -> DecodedBundle:
    """Verify and decode a bundle folder, or the current bundle of an artifacts folder.

    Every file is checked against the manifest's sha256 first; a file that verifies but
    does not decode raises BundleError (one line, ending in "retrain"). Whether the
    arrays fit the model is its scorer's to check (``recsys.serving.scoring``), when
    ``Recommender.load`` builds it.
    """
    bundle = bundle_folder(path)
    manifest, digest, files = read_verified(bundle, SERVING_FILES)
    kind = KINDS.get(manifest.model)
    if kind is None:
        raise BundleError(bundle, "holds a model kind this program does not know; retrain")
    lacking = sorted(set(kind.bundle_files) - set(manifest.files))
    if lacking:
        raise BundleError(bundle, f"lacks {', '.join(lacking)}; retrain")
    try:
        with np.load(io.BytesIO(files["weights.npz"]), allow_pickle=False) as npz:
            weights = {k: npz[k] for k in npz.files}
        with np.load(io.BytesIO(files["ratings.npz"]), allow_pickle=False) as npz:
            ratings = pd.DataFrame(
                {USER_ID: npz[USER_ID], MOVIE_ID: npz[MOVIE_ID], RATING: npz[RATING]}
            )
        embeddings = np.load(io.BytesIO(files["item_embeddings.npy"]), allow_pickle=False)
        items = pd.read_csv(
            io.BytesIO(files["items.csv"]), keep_default_na=False, na_values={YEAR: [""]}
        )
        users = pd.read_csv(io.BytesIO(files["users.csv"]))
        scalers = None  # a kind without the lab network's inputs has none
        if "scalers.json" in files:
            scalers = Scalers.from_json(files["scalers.json"].decode())
        history = json.loads(files["history.json"])
        return DecodedBundle(
            path=bundle,
            manifest=manifest,
            manifest_hash=digest,
            weights=weights,
            scalers=scalers,
            items=items,
            users=users,
            ratings=ratings,
            history=history,
            item_embeddings=embeddings,
        )
    except (*DECODE_ERRORS, TypeError) as err:  # TypeError: JSON of the wrong shape
        raise unreadable(bundle, err) from None
    except RecursionError:  # history.json nested thousands deep
        raise unreadable(bundle, ValueError("JSON nested too deeply")) from None
