"""Splits, protocols, metrics, baselines and peers, runs, and stored results.

- ``splits``: which ratings are held out (``holdout``, ``temporal``).
- ``protocols``: a protocol's prepared data (features, scalers, network inputs).
- ``scorers``: the two-tower model, trained here and run in numpy.
- ``baselines``: the simple models every run compares against.
- ``peers``: well-known libraries' models (Surprise, implicit, EASE) on the same split.
- ``ranking`` and ``metrics``: the ranking task, the top k and every metric.
- ``run``: one evaluation over seeds, as the evaluation JSON.
- ``store``: that JSON beside the bundle; ``tables``: it as tables and text.
"""

from recsys.evaluation.ranking import METRICS, RELEVANT_STARS, TOP_K
from recsys.evaluation.run import MODEL_NAMES, SCHEMA_VERSION, run_evaluation
from recsys.evaluation.splits import TEST_FRACTION, Split, split_ratings
from recsys.evaluation.store import (
    EVALUATION_FILE,
    evaluation_path,
    load_evaluation,
    save_evaluation,
)
from recsys.evaluation.tables import (
    METRIC_LABELS,
    EvaluationTables,
    evaluation_table,
    evaluation_tables,
    evaluation_text,
    metric_mean,
    metric_std,
    metrics_frame,
)

__all__ = [
    "EVALUATION_FILE",
    "METRICS",
    "METRIC_LABELS",
    "MODEL_NAMES",
    "RELEVANT_STARS",
    "SCHEMA_VERSION",
    "TEST_FRACTION",
    "TOP_K",
    "EvaluationTables",
    "Split",
    "evaluation_path",
    "evaluation_table",
    "evaluation_tables",
    "evaluation_text",
    "load_evaluation",
    "metric_mean",
    "metric_std",
    "metrics_frame",
    "run_evaluation",
    "save_evaluation",
    "split_ratings",
]
