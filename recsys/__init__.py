"""A content-based two-tower movie recommender on MovieLens."""
