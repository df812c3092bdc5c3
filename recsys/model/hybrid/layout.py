"""The hybrid's vectors by name: which columns of each hold what.

Training (the Keras towers and their step) and serving (``HybridParams``) read the same
vectors; each slice is named here once, so that no module counts columns itself.

- ``DENSE``: the user tower's dense inputs, [n, 31] a row per user.
- ``TowerLayout(d)``: the towers' outputs for a taste width d:
  the item tower's ``[v (d) | p | b | q (k)]``; the user MLP's raw
  ``[u (d) | b_u | raw π | raw strength | r_u (k)]``; the user tower's (after its head)
  ``[u (d) | b_u | π | g (14) | r_u (k) | genre stars (14)]``; and a served user vector,
  the tower's without b_u, ``[u (d) | π | g (14) | r_u (k) | genre stars (14)]``, which
  meets the item side ``[v (d) | log(1 + n) | f (14) | 0 (k + 14)]`` in the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

from recsys.columns import GENRE_LIST

N_GENRES = len(GENRE_LIST)


class DenseLayout:
    """The user tower's dense inputs: (genre stars − 3.5)·rated and rated, per genre (0
    stars = not rated); the user's mean stars − 3.5; log(1 + ratings); the shrunk offset
    against the item baseline. One-column blocks are slices too, so that they keep a
    column's shape; ``*_column`` are their indices."""

    __slots__ = ()

    centred = slice(0, N_GENRES)
    rated = slice(N_GENRES, 2 * N_GENRES)
    mean = slice(2 * N_GENRES, 2 * N_GENRES + 1)
    log_count = slice(2 * N_GENRES + 1, 2 * N_GENRES + 2)
    offset = slice(2 * N_GENRES + 2, 2 * N_GENRES + 3)
    # What a user of the sliders shows no value for: the count and the offset.
    history = slice(2 * N_GENRES + 1, 2 * N_GENRES + 3)
    width = 2 * N_GENRES + 3

    @property
    def mean_column(self) -> int:
        return self.mean.start

    @property
    def offset_column(self) -> int:
        return self.offset.start


DENSE = DenseLayout()

# The user MLP's outputs after u: b_u, raw π_u, raw genre strength.
N_HEAD = 3


@dataclass(frozen=True)
class TowerLayout:
    """The towers' outputs for taste vectors of width ``dim`` (d). The rating head's
    learned width k is whatever follows; slices that end with it are open."""

    dim: int

    # -- the item tower's output [v | p | b | q]
    @property
    def item_taste(self) -> slice:
        return slice(0, self.dim)

    @property
    def item_rank_bias(self) -> int:
        return self.dim

    @property
    def item_star_bias(self) -> int:
        return self.dim + 1

    @property
    def item_rating(self) -> slice:
        return slice(self.dim + 2, None)

    # -- the user MLP's raw output [u | b_u | raw π | raw strength | r_u]
    @property
    def taste(self) -> slice:
        """u, in the raw output, the tower's and a served user vector alike."""
        return slice(0, self.dim)

    @property
    def user_bias(self) -> int:
        """b_u, in the raw output and the tower's."""
        return self.dim

    @property
    def raw_pop(self) -> slice:
        return slice(self.dim + 1, self.dim + 2)

    @property
    def raw_strength(self) -> slice:
        return slice(self.dim + 2, self.dim + 3)

    @property
    def raw_rating(self) -> slice:
        return slice(self.dim + N_HEAD, None)

    # -- the user tower's output [u | b_u | π | g | r_u | genre stars]
    @property
    def head_pop(self) -> int:
        return self.dim + 1

    @property
    def head_genre(self) -> slice:
        return slice(self.dim + 2, self.dim + 2 + N_GENRES)

    @property
    def head_stars(self) -> slice:
        """[r_u | genre stars]: what meets the movie's [q_i | f_i] in the stars."""
        return slice(self.dim + 2 + N_GENRES, None)


@dataclass(frozen=True)
class ServedLayout:
    """A served user vector, ``[u (d) | π | g (14) | r_u and genre stars (k)]`` (width
    d + 15 + k, the item side's), and, after it, the fold-in's block of the stars
    ``[a'·u (d) | a'·r_u and genre stars (k) | a'·z_u (d)]`` that meets the movies'
    ``[s_i | q_i and f_i | v_i]`` (``HybridParams._star_columns``). k: ``star_dim``."""

    dim: int
    star_dim: int

    @property
    def width(self) -> int:
        """The tower's user vector width, without the fold-in's block."""
        return self.dim + 1 + N_GENRES + self.star_dim

    @property
    def taste(self) -> slice:
        return slice(0, self.dim)

    @property
    def pop(self) -> int:
        return self.dim

    @property
    def stars(self) -> slice:
        """r_u and the genre stars: what meets the movies' [q_i | f_i]."""
        return slice(self.width - self.star_dim, self.width)

    @property
    def fold_in(self) -> slice:
        """The fold-in's whole block, when the vector carries one."""
        return slice(self.width, None)

    @property
    def fold_in_taste(self) -> slice:
        """a'·u (with z_u's share, what meets s_i), in the fold-in's block."""
        return slice(self.width, self.width + self.dim)
