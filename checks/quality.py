"""Model quality once labels arrive: a day's predictions and labels as quality SLI rows.

Drift says the inputs moved; quality says the model got worse. The metric kernels (and
their exact definitions, equal to scikit-learn 1.9) are in :mod:`checks.quality_metrics`;
this module joins predictions with labels, derives labels from scores where needed and
turns each applicable metric (per model type, per slice) into SLI rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks import fairness
from checks.contract import Contract, ModelType
from checks.quality_join import (
    DECISION_THRESHOLD,
    GROUP,
    P_LABEL,
    P_NUM,
    P_POS,
    SCORE,
    Y_LABEL,
    Y_NUM,
    Y_POS,
    Snapshot,
    join_day,
    working_columns,
)
from checks.quality_metrics import (
    CALIBRATION_BINS,
    STATUS_ERROR,
    MetricResult,
    accuracy,
    calibration_error,
    f1,
    log_loss,
    mae,
    mape,
    ndcg,
    precision,
    recall,
    rmse,
    roc_auc,
)
from checks.sli import SliRow, sli_frame, slo_row
from checks.slices import SliceMetric, measure, measurement_row, slice_metric, slice_sli_rows
from checks.slo_templates import default_objective

__all__ = ["DECISION_THRESHOLD", "METRICS_BY_MODEL_TYPE", "quality_sli_rows"]

#: SLIs emitted per model type (the names are those of ``SLO_CATALOG``).
METRICS_BY_MODEL_TYPE: Final[Mapping[ModelType, tuple[str, ...]]] = {
    ModelType.CLASSIFICATION: (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "calibration_error",
    ),
    ModelType.REGRESSION: ("rmse", "mae", "mape"),
    ModelType.RANKING: ("ndcg",),
}

AnyArray = npt.NDArray[np.generic]
#: A metric over column arrays (``positive_label`` keyword for the binary ones).
SliceMetricFn = Callable[..., MetricResult]
BinaryFn = Callable[..., MetricResult]

# --- SLI rows ---------------------------------------------------------------------------


def _default_objective(contract: Contract, sli: str) -> float | None:
    """The template objective, only when the contract declares no SLO of that name."""
    if contract.slo(sli) is not None:
        return None
    return default_objective(contract.type, sli)


def _unmeasurable_rows(contract: Contract, frame: pl.DataFrame, measured: set[str]) -> list[SliRow]:
    """``error`` rows (a breach) for applicable metrics that could not be computed because
    a prediction column the contract names is absent: silence would read as "not
    evaluated", and an SLO on it would never burn."""
    pc = contract.predictions
    named = [c for c in (pc.score, pc.predicted_label) if c is not None]
    absent = [c for c in named if c not in frame.schema]
    if not absent:
        return []
    detail = f"prediction column(s) {', '.join(absent)} named by the contract are missing"
    unmeasured = [s for s in METRICS_BY_MODEL_TYPE[contract.type] if s not in measured]
    return _error_rows(contract, unmeasured, detail)


def _error_rows(contract: Contract, slis: Sequence[str], detail: str) -> list[SliRow]:
    """One judged ``error`` row (a breach) per SLI that could not be computed, and why."""
    return [
        slo_row(
            contract,
            sli,
            "quality",
            None,
            0,
            objective=_default_objective(contract, sli),
            status=STATUS_ERROR,
            detail=detail,
        )
        for sli in slis
    ]


def _metric_specs(contract: Contract, frame: pl.DataFrame) -> list[SliceMetric]:
    """The applicable metrics, with their objective (contract SLO, else default template)."""
    pc = contract.predictions
    k = pc.ndcg_k
    thresholded = pc.predicted_label is None or pc.predicted_label not in frame.schema
    label_rule = f"score>={DECISION_THRESHOLD:g}" if thresholded else None
    positive = f"positive={pc.positive_label}"
    methods: dict[str, str | None] = {
        "accuracy": label_rule,
        "precision": "; ".join(filter(None, (positive, label_rule))),
        "recall": "; ".join(filter(None, (positive, label_rule))),
        "f1": "; ".join(filter(None, (positive, label_rule))),
        "roc_auc": positive,
        "log_loss": positive,
        "calibration_error": f"{positive}; {CALIBRATION_BINS} equal-width bins",
        "ndcg": f"ndcg@{k}",
    }

    def spec(sli: str, columns: tuple[str, ...], compute: SliceMetricFn) -> SliceMetric:
        objective = _default_objective(contract, sli)
        return SliceMetric(
            sli,
            columns,
            compute,
            category="quality",
            objective=objective,
            detail="default objective (no SLO in the contract)" if objective is not None else None,
            method=methods.get(sli),
        )

    def ndcg_at_k(rel: AnyArray, score: AnyArray, groups: AnyArray) -> MetricResult:
        return ndcg(rel, score, groups, k=k)

    def binary(fn: BinaryFn) -> SliceMetricFn:
        def compute(y: AnyArray, p: AnyArray) -> MetricResult:
            return fn(y, p, positive_label=True)

        return compute

    candidates: dict[str, tuple[tuple[str, ...], SliceMetricFn]] = {
        "accuracy": ((Y_LABEL, P_LABEL), accuracy),
        "precision": ((Y_POS, P_POS), binary(precision)),
        "recall": ((Y_POS, P_POS), binary(recall)),
        "f1": ((Y_POS, P_POS), binary(f1)),
        "roc_auc": ((Y_POS, SCORE), binary(roc_auc)),
        "log_loss": ((Y_POS, SCORE), binary(log_loss)),
        "calibration_error": ((Y_POS, SCORE), binary(calibration_error)),
        "rmse": ((Y_NUM, P_NUM), rmse),
        "mae": ((Y_NUM, P_NUM), mae),
        "mape": ((Y_NUM, P_NUM), mape),
        "ndcg": ((Y_NUM, SCORE, GROUP), ndcg_at_k),
    }
    specs: list[SliceMetric] = []
    for sli in METRICS_BY_MODEL_TYPE[contract.type]:
        columns, compute = candidates[sli]
        if all(c in frame.schema for c in columns):
            specs.append(spec(sli, columns, compute))
    return specs


def quality_sli_rows(
    contract: Contract,
    predictions: Snapshot,
    labels: Snapshot,
    *,
    features: Snapshot | None = None,
) -> pl.DataFrame:
    """Quality (and fairness) SLI rows of one prediction day whose labels have arrived.

    Labels join predictions on ``contract.sources.id_column`` (inner join: only labelled
    predictions are scored; a repeated label id keeps its last row, the newest
    restatement). Slice and sensitive-attribute columns come from ``features`` (joined by
    id), or from ``predictions`` when it carries them. Each input may be a lazy scan: the
    join then reads only the columns it uses, in one streaming collect. Emits, for the
    contract's model type:

    - every applicable metric of :data:`METRICS_BY_MODEL_TYPE` model-wide (``slice``
      NULL) and per value of each ``contract.slices`` column (``"<column>=<value>"``),
      category ``quality``; a metric whose input column the contract does not name is not
      emitted (no ``score`` column: no ROC AUC, log loss or calibration error; no
      ``predicted_label``: labels are ``score >= DECISION_THRESHOLD``);
    - for classification, ``demographic_parity_difference`` and
      ``equal_opportunity_difference`` per ``contract.sensitive_attributes`` column
      (category ``fairness``, the attribute in ``feature``), groups smaller than
      ``contract.min_slice_rows`` left out.

    For ranking, a slice keeps the slice's rows and scores each query on those rows (for a
    query-level attribute such as the user's country that is the query's own NDCG).
    ``method`` says how a value was defined (``positive=1``, ``score>=0.5`` when labels come
    from the score, ``ndcg@10``, the calibration bins).

    ``n_rows`` is the number of labelled rows the value is based on. Objectives come from
    the contract's SLO of the same name, else the template's
    (:data:`checks.slo_templates.DEFAULT_OBJECTIVES`). A column the contract names but the
    frames lack gives ``error`` rows (judged: a breach), not an exception.
    """
    joined = join_day(contract, predictions, labels, features)
    applicable = METRICS_BY_MODEL_TYPE[contract.type]
    rows: list[SliRow]
    fatal = ("__target", contract.sources.id_column)
    reasons = [why for column, why in joined.missing.items() if column in fatal]
    if reasons:
        rows = _error_rows(contract, applicable, "; ".join(dict.fromkeys(reasons)))
        return sli_frame(rows)

    frame = working_columns(contract, joined.frame)
    metrics = _metric_specs(contract, frame)
    rows = [measurement_row(contract, metric, measure(frame, metric)) for metric in metrics]
    rows += _unmeasurable_rows(contract, joined.frame, {m.sli for m in metrics})
    for column in contract.slices:
        if column in joined.missing:
            rows += [
                slo_row(
                    contract,
                    sliced.sli,
                    "quality",
                    None,
                    0,
                    slice=f"{column}=?",
                    objective=sliced.objective,
                    method=sliced.method,
                    status=STATUS_ERROR,
                    detail=joined.missing[column],
                )
                for sliced in (slice_metric(contract, metric) for metric in metrics)
            ]
            continue
        rows += slice_sli_rows(
            contract, frame, column, metrics, all_values=joined.universes.get(column)
        )
    if contract.type == ModelType.CLASSIFICATION and P_POS in frame.schema:
        for attribute in contract.sensitive_attributes:
            rows += fairness.fairness_sli_rows(
                contract,
                frame,
                attribute,
                y_true=Y_POS,
                y_pred=P_POS,
                missing=joined.missing.get(attribute),
            )
    return sli_frame(rows)
