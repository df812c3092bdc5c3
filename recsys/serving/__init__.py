"""Numpy serving over a verified bundle: each kind's scorer, the item catalogue, a new
user's checked request, the Recommender."""

from recsys.serving.bundle import DecodedBundle, decode_bundle
from recsys.serving.catalogue import Catalogue
from recsys.serving.load import load_recommender
from recsys.serving.new_user import NewUser
from recsys.serving.recommender import Recommender, UserResult

__all__ = [
    "Catalogue",
    "DecodedBundle",
    "NewUser",
    "Recommender",
    "UserResult",
    "decode_bundle",
    "load_recommender",
]
