"""Fairness across the groups of a sensitive attribute (fractions, lower is fairer).

- ``demographic_parity_difference``: max - min over groups of the selection rate (share of
  the group's rows predicted positive). fairlearn's ``demographic_parity_difference(...,
  method="between_groups")``.
- ``equal_opportunity_difference``: max - min over groups of the true positive rate
  (share of the group's actual positives predicted positive). fairlearn's
  ``equal_opportunity_difference`` (between groups).

Where we deviate from fairlearn, on purpose, for an SLI that pages people:

- a group with no actual positives has no true positive rate and is left out of the
  equal-opportunity difference; fairlearn (through scikit-learn's ``confusion_matrix``
  normalisation, NaN -> 0) would count it as TPR 0 and report a disparity that is only an
  absence of data;
- groups with fewer than ``min_group_rows`` rows (the contract's ``min_slice_rows`` in
  :func:`fairness_sli_rows`) are left out: a rate over 5 rows is noise. With the default
  ``min_group_rows=1`` the functions equal fairlearn's;
- with fewer than two groups left there is nothing to compare: NaN with status
  ``insufficient_data`` (fairlearn returns 0.0).

Group rates come from one polars ``group_by``. A null group value is its own group,
labelled ``<null>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.contract import Contract
from checks.sli import SliRow, slo_row

__all__ = [
    "FairnessResult",
    "demographic_parity_difference",
    "equal_opportunity_difference",
    "fairness_sli_rows",
    "group_rates",
]

_NULL_GROUP = "<null>"
_MAX_GROUPS_IN_DETAIL = 20


@dataclass(frozen=True)
class FairnessResult:
    """A disparity (max - min rate across groups), the rows behind it and the group rates.

    ``rates`` maps each group compared to its rate; ``left_out`` maps each group that was
    not compared to the reason.
    """

    value: float
    n_rows: int
    status: str = "ok"
    detail: str | None = None
    rates: Mapping[str, float] = field(default_factory=dict)
    left_out: Mapping[str, str] = field(default_factory=dict)


def group_rates(
    frame: pl.DataFrame, group: str, y_true: str, y_pred: str, *, weight: str | None = None
) -> pl.DataFrame:
    """Per group: rows ``n``, ``selection_rate``, ``positives`` and ``tpr`` (null if none).

    ``y_true`` and ``y_pred`` are Boolean columns (actual / predicted positive); rows where
    either is null are not counted. ``weight`` names a count column when each row stands
    for that many rows (a count table, :mod:`checks.quality_tables`). Sorted by group label.
    """
    usable = frame.filter(pl.col(y_true).is_not_null() & pl.col(y_pred).is_not_null())
    truth, pred = pl.col(y_true).cast(pl.Boolean), pl.col(y_pred).cast(pl.Boolean)
    if weight is None:
        counts = [
            pl.len().alias("n"),
            pred.sum().alias("predicted_positives"),
            truth.sum().alias("positives"),
            (truth & pred).sum().alias("true_positives"),
        ]
    else:
        count = pl.col(weight).cast(pl.Int64)
        counts = [
            count.sum().alias("n"),
            count.filter(pred).sum().alias("predicted_positives"),
            count.filter(truth).sum().alias("positives"),
            count.filter(truth & pred).sum().alias("true_positives"),
        ]
    return (
        usable.group_by(pl.col(group).cast(pl.String).fill_null(_NULL_GROUP).alias("group"))
        .agg(*counts)
        .with_columns(
            (pl.col("predicted_positives") / pl.col("n")).alias("selection_rate"),
            pl.when(pl.col("positives") > 0)
            .then(pl.col("true_positives") / pl.col("positives"))
            .alias("tpr"),
        )
        .sort("group")
    )


def _difference(
    rates: pl.DataFrame, rate: str, min_group_rows: int, *, need_positives: bool
) -> FairnessResult:
    left_out: dict[str, str] = {}
    compared: dict[str, float] = {}
    n_rows = 0
    for group, n, positives, value in rates.select("group", "n", "positives", rate).iter_rows():
        if n < min_group_rows:
            left_out[group] = f"{n} rows < {min_group_rows}"
        elif need_positives and positives == 0:
            left_out[group] = "no actual positives"
        else:
            compared[group] = float(value)
            n_rows += int(n)
    if len(compared) < 2:
        detail = f"{len(compared)} group(s) to compare; need 2"
        if left_out:
            detail += "; left out: " + _describe(left_out)
        return FairnessResult(math.nan, n_rows, "insufficient_data", detail, compared, left_out)
    values = list(compared.values())
    detail = f"{rate}: " + _describe({g: f"{v:.4g}" for g, v in compared.items()})
    if left_out:
        detail += "; left out: " + _describe(left_out)
    return FairnessResult(max(values) - min(values), n_rows, "ok", detail, compared, left_out)


def _describe(items: Mapping[str, str]) -> str:
    shown = [f"{k}={v}" for k, v in list(items.items())[:_MAX_GROUPS_IN_DETAIL]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f", +{more} more" if more > 0 else "")


def _frame(
    y_true: npt.ArrayLike | None,
    y_pred: npt.ArrayLike,
    groups: npt.ArrayLike,
    positive_label: object,
) -> pl.DataFrame:
    pred = np.asarray(y_pred).reshape(-1) == positive_label
    truth = pred if y_true is None else np.asarray(y_true).reshape(-1) == positive_label
    group_values = np.asarray(groups).reshape(-1)
    return pl.DataFrame(
        {
            "y": pl.Series(np.asarray(truth, dtype=np.bool_)),
            "p": pl.Series(np.asarray(pred, dtype=np.bool_)),
            "g": pl.Series(group_values.tolist(), strict=False, dtype=pl.String)
            if group_values.dtype == object
            else pl.Series(group_values).cast(pl.String),
        }
    )


def demographic_parity_difference(
    y_pred: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    positive_label: object = 1,
    min_group_rows: int = 1,
) -> FairnessResult:
    """Max - min selection rate (fraction) across ``groups``; needs no labels."""
    frame = _frame(None, y_pred, groups, positive_label)
    rates = group_rates(frame, "g", "y", "p")
    return _difference(rates, "selection_rate", min_group_rows, need_positives=False)


def equal_opportunity_difference(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    positive_label: object = 1,
    min_group_rows: int = 1,
) -> FairnessResult:
    """Max - min true positive rate (fraction) across the groups that have positives."""
    frame = _frame(y_true, y_pred, groups, positive_label)
    rates = group_rates(frame, "g", "y", "p")
    return _difference(rates, "tpr", min_group_rows, need_positives=True)


def fairness_sli_rows(
    contract: Contract,
    frame: pl.DataFrame,
    attribute: str,
    *,
    y_true: str,
    y_pred: str,
    missing: str | None = None,
    weight: str | None = None,
) -> list[SliRow]:
    """Both fairness SLIs for one sensitive attribute (category ``fairness``, the attribute
    in ``feature``); groups below ``contract.min_slice_rows`` are left out.

    ``y_true``/``y_pred`` name Boolean columns of ``frame`` (actual / predicted positive).
    ``missing`` (why the attribute column is unavailable) gives ``error`` rows instead.
    ``weight``: a count column, as in :func:`group_rates`.
    """
    slis = ("demographic_parity_difference", "equal_opportunity_difference")
    if missing is not None or attribute not in frame.schema:
        reason = missing or f"column {attribute!r} not found"
        return [
            slo_row(
                contract, sli, "fairness", None, 0, feature=attribute, status="error", detail=reason
            )
            for sli in slis
        ]
    rates = group_rates(frame, attribute, y_true, y_pred, weight=weight)
    guard = contract.min_slice_rows
    results = (
        _difference(rates, "selection_rate", guard, need_positives=False),
        _difference(rates, "tpr", guard, need_positives=True),
    )
    return [
        slo_row(
            contract,
            sli,
            "fairness",
            None if math.isnan(result.value) else result.value,
            result.n_rows,
            feature=attribute,
            status=result.status,
            detail=result.detail,
        )
        for sli, result in zip(slis, results, strict=True)
    ]
