"""SLIs of the prediction log: what serving looked like, before any label arrives.

One polars ``select`` over the day's prediction log gives:

- ``confidence_p50`` (model track, category ``prediction``): median confidence. For
  classification the score is the positive-class probability and the confidence of a row
  is ``max(score, 1 - score)``, the probability of the class it predicts (0.5 = a coin
  toss, 1 = certain). Emitted for classification only: a regression output or a ranking
  score is not a confidence.
- ``latency_p50_ms``, ``latency_p99_ms`` (infra, ``latency``): quantiles of the latency
  column, every logged request (failed ones too: a slow error is still slow).
- ``availability`` (infra, ``availability``): share of rows whose status column equals
  ``contract.predictions.success_value``, compared as strings; a null status is not a
  success.
- ``throughput_rows`` (infra, ``throughput``): rows in the log (requests served, failed
  or not; availability judges the failures).
- ``cost_per_prediction_p50``, ``cost_per_prediction_p99`` (infra, ``cost``): quantiles
  of the cost column, in the contract's currency. A cost spike is a failure even when
  every request succeeds.

Quantiles use linear interpolation between order statistics: polars
``quantile(q, "linear")``, numpy's default ``numpy.quantile(x, q)``. Nulls and NaN are
dropped first; with no values left the SLI is NULL with status ``insufficient_data``. An
SLI whose column the contract does not name is not emitted; a named column missing from
the frame gives an ``error`` row.

At scale: the log may be a lazy scan. Each column is then read on its own (one collect
per column: latency, cost, score, status), never the whole log. A column of at most
:data:`SORT_MAX_ROWS` values is sorted in memory for its quantiles (16 bytes a row); a
longer one's quantiles come from :func:`checks.bounded_quantile.bounded_quantiles`
(streaming passes narrowing to the wanted ranks, then at most that many values sorted):
the same values, bit for bit, as polars' ``"linear"`` quantile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from checks.bounded_quantile import bounded_quantiles
from checks.contract import Contract, ModelType
from checks.sli import SliRow, sli_frame, slo_row

__all__ = ["SORT_MAX_ROWS", "prediction_log_sli_rows"]

#: Values of a column above which its quantiles are found without sorting it whole
#: (10M values: 160 MB sorted; a 100M-row log would need 1.6 GB).
SORT_MAX_ROWS: Final = 10_000_000


@dataclass(frozen=True)
class _Quantile:
    sli: str
    category: str
    column: str | None
    q: float


def _clean(schema: pl.Schema, column: str) -> pl.Expr:
    expr = pl.col(column)
    if schema[column].is_float():
        expr = expr.fill_nan(None)
    return expr.drop_nulls()


def _measure(log: pl.LazyFrame, by_column: dict[str, list[pl.Expr]]) -> dict[str, Any]:
    """The named values of ``by_column``'s expressions, one collect per column."""
    measured: dict[str, Any] = {}
    for exprs in by_column.values():
        measured.update(log.select(exprs).collect(engine="streaming").row(0, named=True))
    return measured


def prediction_log_sli_rows(
    contract: Contract, predictions: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """Confidence, latency, availability, throughput and cost SLI rows of one day's log
    (collected, or a lazy scan read one column at a time)."""
    pc = contract.predictions
    rows: list[SliRow] = []
    log = predictions.lazy()
    schema = log.collect_schema()

    quantiles: list[_Quantile] = [
        _Quantile("latency_p50_ms", "latency", pc.latency_ms, 0.5),
        _Quantile("latency_p99_ms", "latency", pc.latency_ms, 0.99),
        _Quantile("cost_per_prediction_p50", "cost", pc.cost, 0.5),
        _Quantile("cost_per_prediction_p99", "cost", pc.cost, 0.99),
    ]
    if contract.type == ModelType.CLASSIFICATION:
        quantiles.insert(0, _Quantile("confidence_p50", "prediction", pc.score, 0.5))

    long_log = log.select(pl.len()).collect().item() > SORT_MAX_ROWS
    by_column: dict[str, list[pl.Expr]] = {"": [pl.len().alias("n")]}
    unsorted: dict[int, pl.Expr] = {}
    for index, spec in enumerate(quantiles):
        if spec.column is None or spec.column not in schema:
            continue
        values = _clean(schema, spec.column).cast(pl.Float64)
        if spec.sli == "confidence_p50":
            values = pl.max_horizontal(values, 1.0 - values)
        if long_log:
            unsorted[index] = values
            continue
        by_column.setdefault(spec.column, []).extend(
            [
                values.quantile(spec.q, interpolation="linear").alias(f"q{index}"),
                values.len().alias(f"n{index}"),
            ]
        )
    if pc.status is not None and pc.status in schema:
        success = pl.col(pc.status).cast(pl.String) == pc.success_value
        by_column[""].append(success.fill_null(False).sum().alias("successes"))
    measured = _measure(log, by_column)
    for index, values in unsorted.items():
        used, (value,) = bounded_quantiles(log, values, [quantiles[index].q], SORT_MAX_ROWS)
        measured.update({f"q{index}": value, f"n{index}": used})
    n = int(measured["n"])

    for index, spec in enumerate(quantiles):
        if spec.column is None:
            continue
        if spec.column not in schema:
            detail = f"column {spec.column!r} missing from predictions"
            rows.append(
                slo_row(contract, spec.sli, spec.category, None, 0, status="error", detail=detail)
            )
            continue
        used = int(measured[f"n{index}"])
        value = measured[f"q{index}"]
        if used == 0 or value is None:
            rows.append(
                slo_row(
                    contract,
                    spec.sli,
                    spec.category,
                    None,
                    0,
                    status="insufficient_data",
                    detail=f"no non-null {spec.column!r} values",
                )
            )
            continue
        rows.append(slo_row(contract, spec.sli, spec.category, float(value), used))

    if pc.status is not None:
        if pc.status not in schema:
            detail = f"column {pc.status!r} missing from predictions"
            rows.append(
                slo_row(
                    contract, "availability", "availability", None, 0, status="error", detail=detail
                )
            )
        elif n == 0:
            rows.append(
                slo_row(
                    contract,
                    "availability",
                    "availability",
                    None,
                    0,
                    status="insufficient_data",
                    detail="no predictions logged",
                )
            )
        else:
            rows.append(
                slo_row(contract, "availability", "availability", int(measured["successes"]) / n, n)
            )
    rows.append(slo_row(contract, "throughput_rows", "throughput", float(n), n))
    return sli_frame(rows)
