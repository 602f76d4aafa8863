"""SLI rows of quality estimated before labels arrive (CBPE, :mod:`checks.estimated_performance`).

One row per metric, ``sli = estimated_<metric>`` (``estimated_accuracy``, ...), category
``estimated_quality``, ``status = 'estimated'``, ``method = 'cbpe'``; the band is in
the detail. They are rows of a day whose labels are not in: once labels arrive the day is
re-run (a restatement, ``kind = restatement``) and the realized ``accuracy``... rows
replace them (the estimated rows stay in ``sli_history``).

The objective is the contract's ``estimated_<metric>`` SLO when it declares one (then the
estimate spends that SLO's error budget), else the objective of the realized metric's SLO
(the row then says whether the estimate would breach it, without a budget of its own).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.contract import Contract
from checks.estimated_performance import (
    BAND_DRAWS,
    BAND_STD_MULTIPLIER,
    ESTIMATED_METRICS,
    IsotonicCalibration,
    estimate_performance,
    fit_calibration,
)
from checks.quality import DECISION_THRESHOLD
from checks.sli import SliRow, empty_sli_frame, sli_frame, slo_row

__all__ = ["ESTIMATED_CATEGORY", "ESTIMATED_STATUS", "estimated_quality_rows", "positives"]

ESTIMATED_CATEGORY: Final = "estimated_quality"
ESTIMATED_STATUS: Final = "estimated"


def positives(column: pl.Series, positive_label: str) -> npt.NDArray[np.bool_]:
    """Whether each value is the contract's positive label (numeric labels compare as
    numbers, booleans as 1/true, anything else as strings); null is not positive."""
    if column.dtype == pl.Boolean:
        wanted = positive_label.strip().lower() in {"1", "true"}
        flags = column == wanted
    elif column.dtype.is_numeric():
        try:
            flags = column.cast(pl.Float64) == float(positive_label)
        except ValueError:
            flags = pl.Series([False] * column.len())
    else:
        flags = column.cast(pl.String) == positive_label
    result: npt.NDArray[np.bool_] = flags.fill_null(value=False).to_numpy().astype(np.bool_)
    return result


def _scores(frame: pl.DataFrame, column: str) -> npt.NDArray[np.float64]:
    values = frame.get_column(column).cast(pl.Float64, strict=False).fill_nan(None)
    result: npt.NDArray[np.float64] = values.to_numpy().astype(np.float64)
    return result


def _predicted(
    contract: Contract, frame: pl.DataFrame, scores: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    column = contract.predictions.predicted_label
    if column is not None and column in frame.columns:
        return positives(frame.get_column(column), contract.predictions.positive_label)
    above: npt.NDArray[np.bool_] = np.nan_to_num(scores, nan=-1.0) >= DECISION_THRESHOLD
    return above


def estimated_quality_rows(
    contract: Contract,
    reference: pl.DataFrame,
    day: pl.DataFrame,
    *,
    reference_days: str,
) -> pl.DataFrame:
    """Estimated metric rows of the day's predictions, calibrated on ``reference``
    (predictions joined with their labels: score column and target column).

    ``reference_days`` names the reference period for the detail. No score column
    declared (or present): no rows. A reference without both classes: one
    ``insufficient_data`` row per metric; with more than two (a multiclass model): one
    ``skipped`` row per metric, as CBPE is defined for a binary classifier (its estimates
    of a 3-class model were judged ``ok`` at 0.80 while its accuracy was 0.57).
    """
    score = contract.predictions.score
    target = contract.predictions.target
    if score is None or target is None or score not in day.columns:
        return empty_sli_frame()
    scores = _scores(day, score)
    predicted = _predicted(contract, day, scores)
    calibration: IsotonicCalibration | None = None
    why = f"no labelled reference rows in {reference_days}"
    status = "insufficient_data"
    classes = (
        reference.get_column(target).drop_nulls().n_unique() if target in reference.columns else 0
    )
    if classes > 2:
        # The calibration maps the score to P(positive_label): a binary model's only.
        status = "skipped"
        why = (
            f"not estimated: the labels of {reference_days} hold {classes} classes, and "
            "CBPE estimates a binary classifier's quality"
        )
    elif reference.height and score in reference.columns and target in reference.columns:
        try:
            calibration = fit_calibration(
                _scores(reference, score),
                positives(reference.get_column(target), contract.predictions.positive_label),
            )
        except ValueError as exc:
            why = f"{exc} ({reference_days})"
    if calibration is None:
        return sli_frame(
            slo_row(
                contract,
                f"estimated_{metric}",
                ESTIMATED_CATEGORY,
                None,
                0,
                method="cbpe",
                status=status,
                detail=why,
            )
            for metric in ESTIMATED_METRICS
        )
    rows: list[SliRow] = []
    for estimate in estimate_performance(calibration, scores, predicted):
        name = f"estimated_{estimate.metric}"
        declared = contract.slo(name) or contract.slo(estimate.metric)
        objective = declared.objective if declared is not None else None
        detail = (
            f"band [{estimate.lower:.4f}, {estimate.upper:.4f}] (± {BAND_STD_MULTIPLIER:g} sd of "
            f"{BAND_DRAWS} label draws from the calibrated scores); isotonic calibration on "
            f"{calibration.reference_rows} labelled rows of {reference_days}, positive rate "
            f"{calibration.reference_positive_rate:.4f}; blind to concept drift since then"
        )
        row = slo_row(
            contract, name, ESTIMATED_CATEGORY, estimate.value, estimate.rows,
            objective=objective, method="cbpe", detail=detail,
        )  # fmt: skip
        rows.append(replace(row, status=ESTIMATED_STATUS))  # judged, then marked
    return sli_frame(rows)
