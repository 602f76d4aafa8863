"""What one partition's run recorded, in a few numbers and names: its run summary.

Computed once, by the writer, from the very rows it commits (:mod:`assets.writer`); the
Dagster run page shows it and ``datasre run`` prints it, so the two never disagree and
the CLI asks nothing twice. Counts are rows of ``sli_results``; the worst breach follows
:func:`checks.breach_rank.rank_breaches` (blocking first, then the largest miss of a row
against its own objective, drift test rows last); the worst slices are, per SLI, the
slice with the worst value (:func:`checks.slices.worst_slices`) where that slice breached.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

import polars as pl

from checks.breach_rank import rank_breaches
from checks.slices import worst_slices

__all__ = [
    "WORST_SLICE_COLUMNS",
    "RunSummary",
    "breach_label",
    "breached_worst_slices",
    "summarise_run",
]

#: Columns of a breached worst slice, as ``datasre run`` prints them.
WORST_SLICE_COLUMNS: Final = ("sli", "feature", "slice", "value", "comparator", "objective")
_PARTITION_KEYS: Final = ("model", "model_version", "partition")


@dataclass(frozen=True)
class RunSummary:
    """One partition's run: ``run_status`` (``succeeded``/``breached``/``failed``), the
    unreadable inputs (``error``), SLI rows written, breached rows, blocking breached rows,
    the worst breach's label (``sli[feature]{slice}``) and the breached worst slices."""

    run_status: str
    error: str | None
    slis: int
    breaches: int
    blocking: int
    worst_breach: str | None
    worst_slices: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (the writer's metadata, the CLI's ``--format json``)."""
        out = asdict(self)
        out["worst_slices"] = [dict(row) for row in self.worst_slices]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        return cls(**{**data, "worst_slices": tuple(data.get("worst_slices") or ())})


def breach_label() -> pl.Expr:
    """``sli``, then ``[feature]`` and ``{slice}`` when set: how a breached row is named."""
    return (
        pl.col("sli")
        + pl.when(pl.col("feature").is_not_null())
        .then(pl.lit("[") + pl.col("feature") + pl.lit("]"))
        .otherwise(pl.lit(""))
        + pl.when(pl.col("slice").is_not_null())
        .then(pl.lit("{") + pl.col("slice") + pl.lit("}"))
        .otherwise(pl.lit(""))
    )


def breached_worst_slices(rows: pl.DataFrame) -> pl.DataFrame:
    """Per partition (when ``rows`` has model/version/partition columns) and SLI, the
    worst slice where that slice breached its objective: averages hide failures in one
    segment, and this is the line that says "country=BR"."""
    keys = [k for k in _PARTITION_KEYS if k in rows.columns]
    sliced = rows.filter(pl.col("slice").is_not_null())
    groups = sliced.partition_by(keys) if keys else [sliced]
    worst = [worst_slices(group) for group in groups if group.height]
    shown = [k for k in keys if k != "model_version"]
    if not worst:
        return sliced.clear().select(*shown, *WORST_SLICE_COLUMNS)
    return (
        pl.concat(worst)
        .filter(pl.col("ok") == pl.lit(value=False))
        .sort(*shown, "sli", "feature", nulls_last=True)
        .select(*shown, *WORST_SLICE_COLUMNS)
    )


def summarise_run(slis: pl.DataFrame, status: str, error: str | None) -> RunSummary:
    """The summary of one partition's SLI rows (the ``sli_results`` columns)."""
    ordered = slis.sort("sli", "feature", "slice", nulls_last=False)
    ranked = rank_breaches(ordered)
    breached = slis.filter(pl.col("ok") == pl.lit(value=False))
    worst = ranked.select(breach_label().alias("label")).head(1)
    return RunSummary(
        run_status=status,
        error=error,
        slis=slis.height,
        breaches=breached.height,
        blocking=breached.filter(pl.col("blocking")).height,
        worst_breach=str(worst.item()) if worst.height else None,
        worst_slices=tuple(breached_worst_slices(slis).to_dicts()),
    )
