"""Numpy serving over a verified bundle: the towers, the item catalogue, the Recommender."""

from recsys.serving.load import load_recommender
from recsys.serving.recommender import Recommender, UserResult

__all__ = ["Recommender", "UserResult", "load_recommender"]
