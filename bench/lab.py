"""The lab notebook's own serving paths, rewritten for comparison (never used to serve).

- New user: tile the user vector over every movie, scale both, ``model.predict`` on
  all pairs, inverse-scale, argsort.
- Nearest movie: a double Python loop of ``sum((a - b)**2)`` over every pair of item
  embeddings, then a masked argmin per row.
"""

from __future__ import annotations

import numpy as np
import numpy.ma as ma

from recsys.model.scaling import Scalers


def new_user_top(
    model, scalers: Scalers, item_vecs: np.ndarray, user_vec: np.ndarray, top: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """(rows of ``item_vecs``, predicted stars) of the ``top`` movies, the lab's way.

    ``item_vecs``: [n_items, 17] unscaled; ``user_vec``: [17] unscaled.
    """
    user_vecs = np.tile(user_vec, (len(item_vecs), 1))
    # The lab's scale-then-slice ([:, u_s:] and [:, i_s:]), done by the one home for it.
    suser_vecs = scalers.user_inputs(user_vecs)
    sitem_vecs = scalers.item_inputs(item_vecs)
    y_p = model.predict([suser_vecs, sitem_vecs], verbose=0)
    y_pu = scalers.unscale_target(y_p)
    sorted_index = np.argsort(-y_pu, axis=0).reshape(-1)
    return sorted_index[:top], y_pu[sorted_index[:top]].ravel()


def sq_dist(a: np.ndarray, b: np.ndarray) -> float:
    return np.sum(np.square(a - b))


def nearest(vms: np.ndarray) -> np.ndarray:
    """[n] row of each movie's nearest other movie; ``vms`` is [n, 32]. O(n²) in Python."""
    dim = len(vms)
    dist = np.zeros((dim, dim))
    for i in range(dim):
        for j in range(dim):
            dist[i, j] = sq_dist(vms[i, :], vms[j, :])
    m_dist = ma.masked_array(dist, mask=np.identity(dist.shape[0]))
    return np.array([np.argmin(m_dist[i]) for i in range(dim)])
