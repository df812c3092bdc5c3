"""A two-tower movie recommender on MovieLens: ``recsys.Recommender.load("artifacts")``.

``Recommender`` is imported on first use, so ``import recsys`` stays light (no pandas,
no TensorFlow) for the modules and commands that need only a part of the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recsys.serving.recommender import Recommender

__all__ = ["Recommender"]


def __getattr__(name: str) -> Any:
    if name == "Recommender":
        from recsys.serving.recommender import Recommender

        return Recommender
    raise AttributeError(f"module 'recsys' has no attribute {name!r}")
