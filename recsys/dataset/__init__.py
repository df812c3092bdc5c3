"""MovieLens loading and validation, download, synthetic data and summaries."""

from recsys.dataset.movielens import MovieLens, dataset_present, genre_flags, load_movielens

__all__ = ["MovieLens", "dataset_present", "genre_flags", "load_movielens"]
