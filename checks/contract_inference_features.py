"""The ``features:`` entry ``datasre init`` drafts for one training column.

Its dtype, nullability (any null in training), range (training min/max widened by
:data:`RANGE_MARGIN` of the span on each side; a column never negative in training keeps 0
as its floor, a float column inside [0, 1] is a fraction and keeps [0, 1]), the allowed
values of a string with at most :data:`MAX_ALLOWED_VALUES` distinct values, and a
``max_null_rate`` of twice the training's null share when that exceeds the default
objective. A string with 2 .. :data:`MAX_SLICE_VALUES` values is a slice candidate.
"""

from __future__ import annotations

import math
from typing import Final

import polars as pl

from checks.contract import NUMERIC_DTYPES
from checks.contract_inference_columns import contract_dtype
from checks.contract_inference_slos import DEFAULT_NULL_RATE
from checks.contract_inference_yaml import YamlLine, round_out, yaml_number, yaml_scalar

__all__ = ["MAX_ALLOWED_VALUES", "MAX_SLICE_VALUES", "RANGE_MARGIN", "feature_line"]

#: Share of the training span added below the minimum and above the maximum of a numeric
#: feature: a value this far outside what training saw is a data error, not a new customer.
RANGE_MARGIN: Final = 0.5
#: A string feature with at most this many distinct training values gets ``allowed_values``.
MAX_ALLOWED_VALUES: Final = 50
#: A string feature with 2 .. this many values is a slice of the quality SLOs.
MAX_SLICE_VALUES: Final = 12


def feature_line(name: str, series: pl.Series, where: str, width: int) -> tuple[YamlLine, bool]:
    """The ``features:`` entry of one column and whether it is a low-cardinality string."""
    dtype = contract_dtype(name, series.dtype, where)
    nans = int(series.is_nan().sum()) if series.dtype.is_float() else 0
    nulls = series.null_count() + nans
    null_share = float(nulls) / max(series.len(), 1)
    parts = [f"dtype: {dtype}", f"nullable: {'true' if nulls else 'false'}"]
    comment: str
    categorical = False
    if dtype in NUMERIC_DTYPES:
        values = series.drop_nulls()
        if values.dtype.is_float():
            values = values.filter(values.is_not_nan())
        low, high = float(values.min()), float(values.max())  # type: ignore[arg-type]
        span = high - low
        if series.dtype.is_float() and low >= 0 and high <= 1:
            bound_low, bound_high = 0.0, 1.0
            comment = f"training {yaml_number(low)} .. {yaml_number(high)}: a fraction"
        else:
            bound_low = 0.0 if low >= 0 else round_out(low - RANGE_MARGIN * span, up=False)
            bound_high = round_out(high + RANGE_MARGIN * span, up=True)
            if dtype not in ("Float64", "Float32"):
                bound_low, bound_high = math.floor(bound_low), math.ceil(bound_high)
            comment = f"training {yaml_number(low)} .. {yaml_number(high)}"
        parts += [f"min: {yaml_number(bound_low)}", f"max: {yaml_number(bound_high)}"]
    elif dtype in ("String", "Categorical"):
        counts = series.drop_nulls().cast(pl.String).value_counts(sort=True, name="n")
        counts = counts.sort(["n", series.name], descending=[True, False])
        n_values = counts.height
        if n_values <= MAX_ALLOWED_VALUES:
            names = counts.get_column(series.name).to_list()
            parts.append(f"allowed_values: [{', '.join(yaml_scalar(v) for v in names)}]")
            comment = f"{n_values} values in training, commonest first"
            categorical = 2 <= n_values <= MAX_SLICE_VALUES
        else:
            comment = f"{n_values} values in training: too many to list"
    else:
        comment = "no range for this dtype"
    if null_share > 0:
        comment += f", {null_share:.1%} null"
    if null_share * 2 > DEFAULT_NULL_RATE:
        parts.append(f"max_null_rate: {yaml_number(round_out(min(1.0, 2 * null_share), up=True))}")
        comment += " (max_null_rate: twice that)"
    key = f"{yaml_scalar(name)}:"
    return YamlLine(f"  {key:<{width + 2}}{{{', '.join(parts)}}}", comment), categorical
