"""Numpy serving over a verified bundle: the towers, the item catalogue, the Recommender."""

from recsys.serving.bundle import DecodedBundle, decode_bundle
from recsys.serving.catalogue import Catalogue
from recsys.serving.load import load_recommender
from recsys.serving.recommender import Recommender, UserResult

__all__ = [
    "Catalogue",
    "DecodedBundle",
    "Recommender",
    "UserResult",
    "decode_bundle",
    "load_recommender",
]
