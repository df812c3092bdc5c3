"""How big each part of the bench is: the full run, and ``--quick`` (a test runs it)."""

from __future__ import annotations

from dataclasses import dataclass

# ml-25m's shape.
ML25M_RATINGS = 25_000_095
ML25M_USERS = 162_541
ML25M_MOVIES = 62_423
# ml-32m's shape.
ML32M_RATINGS = 32_000_204
ML32M_USERS = 200_948
ML32M_MOVIES = 87_585


@dataclass(frozen=True)
class Plan:
    quick: bool
    warm_up: bool  # one untimed fit first, so neither recipe pays TensorFlow's first use
    train_rows: int | None  # None = every training row of the split
    lab_epochs: int  # the lab recipe's epochs (30 in full)
    fast_epochs: int | None  # None = the fast recipe's own
    bundle_epochs: int | None  # the served bundle's fast-recipe epochs; None = its own
    hybrid_epochs: int | None  # the hybrid model's epochs; None = its config's
    new_user_calls: int  # ours
    lab_new_user_calls: int  # the lab's path (about 90 ms each)
    lab_nearest_items: int | None  # None = every item; else the lab loop runs on a subset
    nearest_repeats: int
    app_repeats: int  # slider changes (and twice as many page switches) timed per method
    first_page_loads: int  # cold first pages (fresh server, fresh browser) of each app
    load_sessions: int
    load_iterations: int
    load_warmup_iterations: int | None  # a session before the RSS baseline; None: none
    scale_users: int
    scale_movies: int
    scale_ratings: int
    scale_queries: int
    scale_train_rows: int  # rows drawn from the scale data for the throughput runs
    scale_train_batch: int  # rows a worker takes a step (the fast recipe's batch)
    scale_hybrid_rows: int  # about this many ratings (a sample of users) for the hybrid; 0: none
    scale_hybrid_batch: int  # the hybrid's targets a worker a step (its recipe's batch)
    ml32m_users: int
    ml32m_movies: int
    ml32m_ratings: int
    bruteforce_items: int  # synthetic 32-d item embeddings ranked per query
    bruteforce_queries: int


FULL = Plan(
    quick=False,
    warm_up=True,
    train_rows=None,
    lab_epochs=30,
    fast_epochs=None,
    bundle_epochs=None,
    hybrid_epochs=None,
    new_user_calls=1000,
    lab_new_user_calls=50,
    lab_nearest_items=None,
    nearest_repeats=20,
    app_repeats=10,
    first_page_loads=5,
    load_sessions=10,
    load_iterations=20,
    load_warmup_iterations=1,
    scale_users=ML25M_USERS,
    scale_movies=ML25M_MOVIES,
    scale_ratings=ML25M_RATINGS,
    scale_queries=500,
    scale_train_rows=524_288,
    scale_train_batch=256,
    scale_hybrid_rows=500_000,
    scale_hybrid_batch=1024,
    ml32m_users=ML32M_USERS,
    ml32m_movies=ML32M_MOVIES,
    ml32m_ratings=ML32M_RATINGS,
    bruteforce_items=1_000_000,
    bruteforce_queries=200,
)

QUICK = Plan(
    quick=True,
    warm_up=False,
    train_rows=4_000,
    lab_epochs=1,
    fast_epochs=1,
    bundle_epochs=1,
    hybrid_epochs=1,
    new_user_calls=200,
    lab_new_user_calls=4,
    lab_nearest_items=120,
    nearest_repeats=5,
    app_repeats=2,
    first_page_loads=2,
    load_sessions=2,
    load_iterations=3,
    load_warmup_iterations=None,
    scale_users=1_000,
    scale_movies=2_000,
    scale_ratings=50_000,
    scale_queries=200,
    scale_train_rows=8_192,
    scale_train_batch=256,
    scale_hybrid_rows=0,  # the hybrid's throughput runs in the full bench only
    scale_hybrid_batch=1024,
    ml32m_users=1_200,
    ml32m_movies=2_500,
    ml32m_ratings=64_000,
    bruteforce_items=20_000,
    bruteforce_queries=20,
)
