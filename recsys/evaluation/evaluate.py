"""Compatibility: the names that ``recsys.evaluation.evaluate`` held before it was split.

New code imports from ``recsys.evaluation`` (or its modules); this module goes once no
caller imports it.
"""

from recsys.evaluation import (
    EVALUATION_FILE,
    METRIC_LABELS,
    METRICS,
    MODEL_NAMES,
    RELEVANT_STARS,
    SCHEMA_VERSION,
    TEST_FRACTION,
    TOP_K,
    EvaluationTables,
    Split,
    evaluation_path,
    evaluation_table,
    evaluation_tables,
    evaluation_text,
    load_evaluation,
    metric_mean,
    metric_std,
    metrics_frame,
    run_evaluation,
    save_evaluation,
    split_ratings,
)
from recsys.evaluation.protocols import EvaluationData, prepare_holdout, prepare_lab
from recsys.evaluation.ranking import (
    RankingTask,
    ranking_metrics,
    ranking_task,
    score_model,
    top_k,
)
from recsys.evaluation.scorers import TwoTowerScorer, fit_two_tower

__all__ = [
    "EVALUATION_FILE",
    "METRICS",
    "METRIC_LABELS",
    "MODEL_NAMES",
    "RELEVANT_STARS",
    "SCHEMA_VERSION",
    "TEST_FRACTION",
    "TOP_K",
    "EvaluationData",
    "EvaluationTables",
    "RankingTask",
    "Split",
    "TwoTowerScorer",
    "evaluation_path",
    "evaluation_table",
    "evaluation_tables",
    "evaluation_text",
    "fit_two_tower",
    "load_evaluation",
    "metric_mean",
    "metric_std",
    "metrics_frame",
    "prepare_holdout",
    "prepare_lab",
    "ranking_metrics",
    "ranking_task",
    "run_evaluation",
    "save_evaluation",
    "score_model",
    "split_ratings",
    "top_k",
]
