"""Per-partition asset checks on ``sli_results``: one per SLI category, so the Dagster UI
shows, per model and day, which kind of check passed and why one did not.

They are declared as ``check_specs`` of the writer asset and evaluated in the same step,
right after the rows are committed: no extra process per check, and they judge exactly
the rows that were written. Each spec carries the asset's partitions definition, so every
evaluation is stored with its (day, model) partition key: without it Dagster records
``partition = None`` and the UI cannot say which checks failed for which day.

A check fails when any SLI row of its category breached its objective. Severity is ERROR
when a breached SLO is marked ``blocking`` in the contract, or when an input could not be
read (``ingest_ok`` with status ``error``: no evidence at all), else WARN. Checks are
declared blocking, so an ERROR failure skips downstream assets (``validated_snapshot``)
and fails the Dagster run; a WARN failure is shown but lets the run go on. The writer
ends such a step with :func:`blocking_reason` as its one-line failure message.

"""

import warnings
from typing import Final

import dagster as dg
import polars as pl

__all__ = [
    "CHECKED_CATEGORIES",
    "MAX_TABLE_ROWS",
    "blocking_reason",
    "breach_table",
    "category_check_results",
    "category_check_specs",
    "evaluate_categories",
]

#: Check name -> the SLI categories it covers.
CHECKED_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "schema_valid": ("ingest", "schema"),
    "complete": ("completeness",),
    "fresh": ("freshness",),
    "no_drift": ("drift", "prediction_drift"),  # drift: univariate and multivariate
    "quality_met": ("quality", "fairness", "prediction", "estimated_quality"),
    "serving_healthy": ("latency", "availability", "cost", "throughput"),
}
#: Breached rows shown in a check's markdown table.
MAX_TABLE_ROWS: Final = 25
#: Breached SLIs named in the one-line failure reason before "and N more".
MAX_REASON_ITEMS: Final = 3


#: Rows saying an input could not be read: no evidence, so never a mere warning.
UNREADABLE: Final = (pl.col("sli") == "ingest_ok") & (pl.col("status") == "error")


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")


def breach_table(breaches: pl.DataFrame) -> str:
    """Markdown table of breached rows: what failed, the value and the objective."""
    columns = ["sli", "feature", "slice", "value", "comparator", "objective", "blocking", "detail"]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines.extend(
        "| " + " | ".join(_fmt(v)[:200] for v in row) + " |"
        for row in breaches.head(MAX_TABLE_ROWS).select(columns).iter_rows()
    )
    if breaches.height > MAX_TABLE_ROWS:
        lines.append(f"\n... and {breaches.height - MAX_TABLE_ROWS} more breached rows")
    return "\n".join(lines)


def evaluate_categories(slis: pl.DataFrame, categories: tuple[str, ...]) -> dg.AssetCheckResult:
    """The check result of one partition's SLI rows for these categories."""
    rows = slis.filter(pl.col("category").is_in(list(categories)))
    judged = rows.filter(pl.col("ok").is_not_null())
    breaches = judged.filter(~pl.col("ok"))
    blocking = breaches.filter(pl.col("blocking") | UNREADABLE)
    metadata: dict[str, dg.RawMetadataValue] = {
        "judged_rows": judged.height,
        "breaches": breaches.height,
        "blocking_breaches": blocking.height,
    }
    if breaches.height:
        ordered = breaches.sort("blocking", descending=True)
        metadata["breached"] = dg.MetadataValue.md(breach_table(ordered))
        failing = ordered.select(pl.col("feature").drop_nulls().unique(maintain_order=True))
        metadata["failing_features"] = ", ".join(failing.to_series().to_list()) or "model-wide"
    return dg.AssetCheckResult(
        passed=breaches.height == 0,
        severity=dg.AssetCheckSeverity.ERROR if blocking.height else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=f"SLI categories: {', '.join(categories)}",
    )


def category_check_specs(
    partitions_def: dg.PartitionsDefinition, asset: str = "sli_results"
) -> list[dg.AssetCheckSpec]:
    """One blocking check per entry of :data:`CHECKED_CATEGORIES` on ``asset``, partitioned
    like the asset so each evaluation is keyed to its (day, model) partition."""
    with warnings.catch_warnings():
        # dagster 1.13 marks partitioned check specs as a preview; they are what makes the
        # UI answer "which checks failed for this day", so use them and keep logs quiet.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                name,
                asset=asset,
                blocking=True,
                partitions_def=partitions_def,
                description=f"No breached SLO among the partition's {', '.join(categories)} "
                "SLIs; ERROR when a breached SLO is blocking in the contract or an input "
                "could not be read, else WARN.",
            )
            for name, categories in CHECKED_CATEGORIES.items()
        ]


def _label(row: dict[str, object]) -> str:
    """``sli[feature]{slice}`` for a reason line."""
    text = str(row["sli"])
    if row.get("feature") is not None:
        text += f"[{row['feature']}]"
    if row.get("slice") is not None:
        text += f"{{{row['slice']}}}"
    return text


def blocking_reason(slis: pl.DataFrame) -> str | None:
    """One line saying why the partition's blocking checks failed, or None when they pass.

    An unreadable input wins (there is no evidence to judge); otherwise the blocking
    breaches are named with their value and objective. This is what the Dagster run page
    shows for the failed step, in place of a framework stack trace.
    """
    unreadable = slis.filter(UNREADABLE)
    if unreadable.height:
        details = [d for d in unreadable["detail"].to_list() if d] or ["unreadable"]
        line = f"input unreadable: {'; '.join(details)}"
    else:
        blocking = slis.filter((pl.col("ok") == pl.lit(value=False)) & pl.col("blocking"))
        if blocking.height == 0:
            return None
        named = [
            f"{_label(row)} = {_fmt(row['value']) or 'n/a'} "
            f"(objective {row['comparator']} {_fmt(row['objective'])})"
            for row in blocking.head(MAX_REASON_ITEMS).iter_rows(named=True)
        ]
        more = blocking.height - len(named)
        plural = "s" if blocking.height > 1 else ""
        line = f"{blocking.height} blocking SLO{plural} breached: {', '.join(named)}"
        if more:
            line += f" and {more} more"
    return " ".join(line.split())


def category_check_results(
    slis: pl.DataFrame, asset: str = "sli_results"
) -> list[dg.AssetCheckResult]:
    """The result of every category check for one partition's SLI rows."""
    results = []
    for name, categories in CHECKED_CATEGORIES.items():
        result = evaluate_categories(slis, categories)
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                asset_key=dg.AssetKey(asset),
                passed=result.passed,
                severity=result.severity,
                metadata=result.metadata,
                description=result.description,
            )
        )
    return results
