"""A movie's content as token ids: genres, a five-year bucket, title words and tags.

The hybrid model's item tower pools a learned vector per token, so a movie that no one
rated in training still gets an embedding from what it is. Built once per catalogue,
vectorised except for one pass that pads the token lists.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys.columns import GENRES, MOVIE_ID, TITLE, USER_ID, YEAR
from recsys.dataset.movielens import genre_flags
from recsys.dataset.tags import TAG

GROUPS = ("genre", "year", "title", "tag")
TOKENS_PER_GROUP = 8  # a movie keeps its 8 most repeated tokens of each group
YEAR_CENTER, YEAR_SPAN = 1990.0, 20.0  # the year feature is (year − 1990) / 20


@dataclass(frozen=True)
class ContentTokens:
    """Every movie's tokens, one row per movie in ``movie_ids`` order.

    movie_ids: [n] int64, sorted. flags: [n, 14] float32, the lab's genre flags.
    year: [n, 1] float32, (year − 1990) / 20, 0 where unknown.
    tokens: group → [n, ≤8] int32 token ids, 0 = padding. vocab: group → tokens
    (id = position + 1).
    """

    movie_ids: np.ndarray
    flags: np.ndarray
    year: np.ndarray
    tokens: dict[str, np.ndarray]
    vocab: dict[str, list[str]]

    @property
    def index(self) -> pd.Index:
        return pd.Index(self.movie_ids)

    def vocab_sizes(self) -> dict[str, int]:
        return {group: len(words) for group, words in self.vocab.items()}


def _padded(lists: list[list[int]]) -> np.ndarray:
    width = max(1, max((len(ids) for ids in lists), default=1))
    out = np.zeros((len(lists), width), dtype="int32")
    for row, ids in enumerate(lists):
        out[row, : len(ids)] = ids
    return out


def _encode(docs: list[list[str]], min_df: int) -> tuple[np.ndarray, list[str]]:
    """Token ids per doc (its most repeated known tokens) and the vocabulary.

    A token must occur in ``min_df`` movies or more: a word of one title alone teaches
    the model nothing that the movie's id does not.
    """
    counts = pd.Series([token for doc in docs for token in set(doc)], dtype=object)
    df = counts.value_counts()
    vocab = sorted(df[df >= min_df].index.tolist())
    ids = {token: i + 1 for i, token in enumerate(vocab)}
    kept = [
        [ids[t] for t, _ in Counter(doc).most_common() if t in ids][:TOKENS_PER_GROUP]
        for doc in docs
    ]
    return _padded(kept), vocab


def _tag_docs(movie_ids: np.ndarray, tags: pd.DataFrame | None, exclude) -> list[list[str]]:
    docs: list[list[str]] = [[] for _ in range(len(movie_ids))]
    if tags is None or not len(tags):
        return docs
    if exclude is not None and len(exclude):
        # A user's tag on a held-out movie would reveal that they watched it.
        key = pd.MultiIndex.from_frame(tags[[USER_ID, MOVIE_ID]].astype("int64"))
        held = pd.MultiIndex.from_frame(exclude[[USER_ID, MOVIE_ID]].astype("int64"))
        tags = tags[~key.isin(held)]
    rows = pd.Index(movie_ids).get_indexer(tags[MOVIE_ID].astype("int64"))
    words = tags[TAG].astype(str).str.lower().str.strip()
    for row, word in zip(rows, words):
        if row >= 0 and word:
            docs[row].append(word)
    return docs


def build_content(
    movies: pd.DataFrame,
    tags: pd.DataFrame | None = None,
    min_df: int = 2,
    exclude: pd.DataFrame | None = None,
) -> ContentTokens:
    """Tokens of every movie in ``movies`` (movieId, title, genres, year).

    exclude: (userId, movieId) pairs whose tags are dropped (the held-out ratings).
    """
    movies = movies.sort_values(MOVIE_ID).reset_index(drop=True)
    movie_ids = movies[MOVIE_ID].to_numpy("int64")
    years = movies[YEAR].to_numpy("float64")
    known = np.isfinite(years)
    bucket = np.clip((np.nan_to_num(years) // 5) * 5, 1915, 2015)
    year_docs = [[f"y{int(b)}" if k else "y?"] for b, k in zip(bucket, known)]
    stripped = movies[TITLE].astype(str).str.replace(r"\(\d{4}[^)]*\)\s*$", "", regex=True)
    groups = {
        "genre": ([g.split("|") for g in movies[GENRES].astype(str)], 1),
        "year": (year_docs, 1),
        "title": ([re.findall(r"[a-z0-9]+", t.lower()) for t in stripped], min_df),
        "tag": (_tag_docs(movie_ids, tags, exclude), min_df),
    }
    tokens, vocab = {}, {}
    for group in GROUPS:
        docs, group_min_df = groups[group]
        tokens[group], vocab[group] = _encode(docs, group_min_df)
    year = np.where(known, (np.nan_to_num(years) - YEAR_CENTER) / YEAR_SPAN, 0.0)
    return ContentTokens(
        movie_ids=movie_ids,
        flags=genre_flags(movies[GENRES]).astype("float32"),
        year=year[:, None].astype("float32"),
        tokens=tokens,
        vocab=vocab,
    )
