"""Splits, protocols, metrics, baselines and peers, runs, and stored results."""

from recsys.evaluation.evaluate import (
    evaluation_tables,
    evaluation_text,
    load_evaluation,
    run_evaluation,
    save_evaluation,
)

__all__ = [
    "evaluation_tables",
    "evaluation_text",
    "load_evaluation",
    "run_evaluation",
    "save_evaluation",
]
