"""Any metric, cut by the values of one column: averages hide failures in one segment.

A *slice* is the set of labelled rows whose slice column (a feature named in the contract's
``slices``) has one value; its label in the ``slice`` column of an SLI row is
``"<column>=<value>"`` with the value cast to a polars string (``country=DE``,
``is_new=true``, ``bucket=3``), and ``"<column>=<null>"`` for the rows where the column is
null: missing values are a segment too.

Rules (why in brackets):

- Per-slice values come from one polars ``group_by`` per (metric, slice column); the metric
  itself runs on each group's numpy arrays (a few groups, never a loop over rows).
- Minimum-rows guard: a slice with fewer than ``contract.min_slice_rows`` usable rows is
  recorded with status ``skipped``, value NULL and ``ok`` NULL [a metric on 12 rows is
  noise, and judging it would page someone for nothing]. A slice value that exists in the
  data but has no usable (labelled) rows at all is recorded the same way with ``n_rows`` 0
  [an empty slice is visible instead of silently missing].
- Benjamini-Hochberg: when slice rows carry p-values, :func:`add_slice_q_values` fills
  ``q_value`` with BH q-values over the slices of one SLI (family = sli, feature, method).
  The q-values come from :func:`checks.stats.multitest.bh_qvalues` (equal to
  ``scipy.stats.false_discovery_control(p, method="bh")``; NaN p-values stay NaN).
- Slice rows belong to the metric's *slice SLO* (``slice_accuracy`` for ``accuracy``, see
  :func:`slice_metric`), never to the model-wide SLO [one 76-row slice must not make the
  whole day a bad ``accuracy`` day when the model-wide accuracy passed].
- :func:`worst_slices` picks, per SLI, the judged slice row furthest on the bad side of the
  comparator (lowest for ``>=``/``>``, highest for ``<=``/``<``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.contract import SLO_CATALOG, Contract, slice_slo_name
from checks.sli import SliRow, slo_row
from checks.stats.multitest import bh_qvalues

__all__ = [
    "NULL_SLICE_VALUE",
    "Measurement",
    "SliceMetric",
    "add_slice_q_values",
    "measure",
    "measurement_row",
    "never_given",
    "slice_label",
    "slice_metric",
    "slice_sli_rows",
    "usable",
    "usable_rows",
    "worst_slices",
]

#: How a null slice value is spelled in the ``slice`` label.
NULL_SLICE_VALUE = "<null>"

_LOWER_IS_WORSE = frozenset({">=", ">"})


class Measurement(Protocol):
    """What a metric returns: a value in the SLI's unit, the rows used, a status, why."""

    @property
    def value(self) -> float: ...

    @property
    def n_rows(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def detail(self) -> str | None: ...


@dataclass(frozen=True)
class SliceMetric:
    """One SLI computed from some columns of a frame.

    ``compute`` receives one numpy array per name in ``columns`` (in that order), already
    free of nulls and NaN, and returns a :class:`Measurement`. ``objective`` is the
    threshold to pass to :func:`checks.sli.slo_row` (None: the contract's SLO, if any);
    ``detail`` is appended to every row's detail (e.g. "default objective"); ``method``
    goes to the rows' ``method`` column (how the value was defined, e.g. ``ndcg@10``).
    """

    sli: str
    columns: tuple[str, ...]
    compute: Callable[..., Measurement]
    category: str = "quality"
    objective: float | None = None
    detail: str | None = None
    method: str | None = None


def slice_metric(contract: Contract, metric: SliceMetric) -> SliceMetric:
    """``metric`` as its slice SLO (``slice_<sli>``), whose rows judge one slice each.

    The objective is the contract's ``slice_<sli>`` SLO when declared (then it also has
    a budget and may block); otherwise each slice is held to the model-wide objective and
    its breaches are shown (Dagster check, run summary) but spend no budget.
    """
    name = slice_slo_name(metric.sli)
    if contract.slo(name) is not None:
        return replace(metric, sli=name, objective=None, detail=None)
    declared = contract.slo(metric.sli)
    objective = declared.objective if declared is not None else metric.objective
    note = f"model-wide objective (no {name} SLO declared)" if objective is not None else None
    return replace(metric, sli=name, objective=objective, detail=note)


def slice_label(column: str, value: str | None) -> str:
    """``"<column>=<value>"``; a null value is spelled :data:`NULL_SLICE_VALUE`."""
    return f"{column}={NULL_SLICE_VALUE if value is None else value}"


def usable_rows(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The rows where every one of ``columns`` is non-null and, for float columns, not NaN.

    Why: a prediction without a label (or a score) cannot be scored; docs/design.md drops nulls
    and NaN before any statistic and counts them elsewhere (completeness SLIs).
    """
    if not columns:
        return frame
    return frame.filter(pl.all_horizontal(usable(c, frame.schema[c]) for c in columns))


def usable(column: str, dtype: pl.DataType) -> pl.Expr:
    """True where ``column`` (of type ``dtype``) holds a value: not null, and for a float
    not NaN."""
    kept = pl.col(column).is_not_null()
    return kept & pl.col(column).is_not_nan() if dtype.is_float() else kept


def never_given(frame: pl.LazyFrame, schema: pl.Schema, columns: Sequence[str]) -> list[str]:
    """Those of ``columns`` that hold no value (:func:`usable`) on any row of ``frame``
    (``schema`` its schema); none when ``frame`` has no rows.

    Each column is probed for its first usable value by a streaming filtered ``head``,
    which stops reading there: a column given on its first rows (every healthy day)
    costs its first row groups, not a pass over the day (the quality step's three checks
    on a 100M-row day: 5.6 -> 0.3 s). One collect per column, on purpose:
    collected together, the probes share the scan, which the engine would cache whole."""
    names = list(dict.fromkeys(columns))
    if not names or not frame.select(pl.len()).collect().item():
        return []
    return [
        column
        for column in names
        if frame.select(column)
        .filter(usable(column, schema[column]))
        .head(1)
        .collect(engine="streaming")
        .is_empty()
    ]


def _arrays(frame: pl.DataFrame, columns: Sequence[str]) -> list[npt.NDArray[np.generic]]:
    return [frame.get_column(name).to_numpy() for name in columns]


def _weighted(columns: Sequence[str], weight: str | None) -> tuple[str, ...]:
    """The arrays ``compute`` receives: the metric's columns, then the weight column."""
    return (*columns, weight) if weight is not None else tuple(columns)


def _row_count(rows: pl.DataFrame, weight: str | None) -> int:
    """Rows a frame stands for: its height, or the sum of its weight (count) column."""
    return rows.height if weight is None else int(rows.get_column(weight).sum())


def measure(frame: pl.DataFrame, metric: SliceMetric, *, weight: str | None = None) -> Measurement:
    """``metric`` over the whole frame (its usable rows).

    ``weight`` names a count column when each row of ``frame`` stands for that many rows
    (a count table, :mod:`checks.quality_tables`): ``compute`` then receives it last."""
    rows = usable_rows(frame, metric.columns)
    return metric.compute(*_arrays(rows, _weighted(metric.columns, weight)))


def _join_detail(*parts: str | None) -> str | None:
    kept = [part for part in parts if part]
    return "; ".join(kept) if kept else None


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def measurement_row(
    contract: Contract,
    metric: SliceMetric,
    result: Measurement,
    *,
    slice: str | None = None,
    feature: str | None = None,
) -> SliRow:
    """One SLI row from a measurement; NaN values are stored as NULL (DuckDB sorts NaN
    above every number, which would make ``max(value)`` lie)."""
    return slo_row(
        contract,
        metric.sli,
        metric.category,
        _none_if_nan(result.value),
        result.n_rows,
        feature=feature,
        slice=slice,
        objective=metric.objective,
        method=metric.method,
        status=result.status,
        detail=_join_detail(result.detail, metric.detail),
    )


def _skipped_row(
    contract: Contract, metric: SliceMetric, label: str, n_rows: int, min_rows: int
) -> SliRow:
    return slo_row(
        contract,
        metric.sli,
        metric.category,
        None,
        n_rows,
        slice=label,
        objective=metric.objective,
        method=metric.method,
        status="skipped",
        detail=_join_detail(f"{n_rows} usable rows < min_slice_rows {min_rows}", metric.detail),
    )


def _slice_values(column: pl.Series) -> list[str | None]:
    values = column.cast(pl.String).unique().to_list()
    return sorted(values, key=lambda v: (v is None, v or ""))


def slice_sli_rows(
    contract: Contract,
    frame: pl.DataFrame,
    column: str,
    metrics: Iterable[SliceMetric],
    *,
    min_rows: int | None = None,
    all_values: pl.Series | None = None,
    weight: str | None = None,
) -> list[SliRow]:
    """Rows of every metric's slice SLO (:func:`slice_metric`) for every value of
    ``column`` in ``frame``.

    Parameters
    ----------
    frame
        Labelled rows with ``column`` and the metrics' columns.
    min_rows
        The minimum-rows guard; default ``contract.min_slice_rows``.
    all_values
        Every value the slice column takes in the day's data (e.g. the features frame's
        column). Values with no usable row in ``frame`` get a ``skipped`` row with
        ``n_rows`` 0.
    weight
        A count column when each row of ``frame`` stands for that many rows (see
        :func:`measure`); the minimum-rows guard then counts its sum.

    Rows are ordered by metric, then slice value (nulls last).
    """
    guard = contract.min_slice_rows if min_rows is None else min_rows
    metrics = [slice_metric(contract, metric) for metric in metrics]
    keyed = frame.with_columns(pl.col(column).cast(pl.String).alias("_slice"))
    universe: set[str | None] = set(_slice_values(keyed.get_column("_slice")))
    if all_values is not None:
        universe.update(_slice_values(all_values))
    ordered = sorted(universe, key=lambda v: (v is None, v or ""))
    rows: list[SliRow] = []
    # One polars group-by split per set of input columns (metrics reading the same columns
    # share it); each group's columns then go to numpy whole.
    splits: dict[tuple[str, ...], dict[str | None, pl.DataFrame]] = {}
    for metric in metrics:
        if metric.columns not in splits:
            selected = keyed.select("_slice", *_weighted(metric.columns, weight))
            usable = usable_rows(selected, metric.columns)
            parts = usable.partition_by("_slice", as_dict=True, maintain_order=False)
            splits[metric.columns] = {key[0]: part for key, part in parts.items()}
        groups = splits[metric.columns]
        for value in ordered:
            label = slice_label(column, value)
            part = groups.get(value)
            n = _row_count(part, weight) if part is not None else 0
            if part is None or n < guard:
                rows.append(_skipped_row(contract, metric, label, n, guard))
                continue
            arrays = _arrays(part, _weighted(metric.columns, weight))
            result = metric.compute(*arrays)
            rows.append(measurement_row(contract, metric, result, slice=label))
    return rows


def add_slice_q_values(
    rows: pl.DataFrame, *, family: Sequence[str] = ("sli", "feature", "method")
) -> pl.DataFrame:
    """Fill ``q_value`` of the slice rows that have a ``p_value``, BH within each family.

    A family is one SLI across its slices (same ``sli``, ``feature``, ``method``). Rows
    without a slice or without a p-value are returned unchanged; row order is kept.
    """
    indexed = rows.with_row_index("_row")
    tested = indexed.filter(pl.col("slice").is_not_null() & pl.col("p_value").is_not_null())
    if tested.is_empty():
        return rows
    parts: list[pl.DataFrame] = []
    for _, part in tested.group_by(list(family), maintain_order=True):
        q = bh_qvalues(part.get_column("p_value").to_numpy())
        parts.append(part.select("_row").with_columns(pl.Series("_q", q)))
    qs = pl.concat(parts)
    return (
        indexed.join(qs, on="_row", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_q", "q_value").alias("q_value"))
        .sort("_row")
        .drop("_row", "_q")
    )


def worst_slices(rows: pl.DataFrame) -> pl.DataFrame:
    """Per (sli, feature), the judged slice row with the worst value (same columns as input).

    Worst follows the catalog's comparator: the lowest value for SLIs where higher is better
    (``>=``/``>``, e.g. accuracy), the highest where lower is better (``<=``/``<``, e.g.
    rmse). A row's own ``comparator`` wins over the catalog's when set. Only rows with a
    slice, status ``ok`` and a non-null value take part; ties go to the first slice label
    in sort order.
    """
    catalog = pl.DataFrame(
        {
            "sli": list(SLO_CATALOG),
            "_catalog_comparator": [entry.comparator for entry in SLO_CATALOG.values()],
        }
    )
    judged = rows.filter(
        pl.col("slice").is_not_null()
        & (pl.col("status") == "ok")
        & pl.col("value").is_not_null()
        & pl.col("value").is_not_nan()
    )
    if judged.is_empty():
        return rows.clear()
    direction = pl.coalesce("comparator", "_catalog_comparator").is_in(list(_LOWER_IS_WORSE))
    return (
        judged.join(catalog, on="sli", how="left")
        .with_columns(
            pl.when(direction).then(-pl.col("value")).otherwise(pl.col("value")).alias("_bad")
        )
        .sort(["sli", "feature", "_bad", "slice"], descending=[False, False, True, False])
        .unique(subset=["sli", "feature"], keep="first", maintain_order=True)
        .select(rows.columns)
    )
