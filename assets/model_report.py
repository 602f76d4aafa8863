"""``model_report``: the HTML report of one (day, model) partition, and its pictures in Dagster.

Materialising a partition writes the same file as ``datasre report`` for that day
(``<state_dir>/reports/<model>/<version>/<day>.html``) plus the summary picture beside it
(``<day>.summary.svg``: the verdict and every SLO's burn-down, for a CI job summary), and
puts on the materialisation what the Dagster UI can show without opening a file:

- ``report`` (path) and ``report_url`` (``file://`` URL) of the HTML, ``summary_svg``;
- ``verdict`` (ready / blocked) and ``blocking_reasons``;
- ``slo_budgets``: every SLO's state, remaining budget and burn rates
  (``MetadataValue.table``), and ``partition_slis``: the partition's SLI rows (table,
  at most :data:`MAX_TABLE_ROWS`);
- ``breaches``: the partition's breached SLI rows as a Markdown table (names escaped).

It is not part of ``datasre_job`` (``datasre run`` and the schedules stay as fast as
before): materialise it from the UI (asset ``model_report``, pick partitions) or with
``dagster asset materialize -m pipelines.definitions --select model_report --partition
'<day>|<model>'``; it reads only what the job wrote.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import dagster as dg
import polars as pl

from assets.partitions import split_partition_key
from assets.report.markup import markdown_cell
from assets.resources import DatasreConfig, SliStoreResource

if TYPE_CHECKING:
    # The report's modules load when a report is made: every `datasre run` builds the
    # Definitions this asset is in (~0.1 s of imports it never used).
    from assets.report.model import Report

__all__ = [
    "MAX_TABLE_ROWS",
    "breach_markdown",
    "budget_table",
    "build_model_report_asset",
    "sli_table",
]

#: Rows of ``partition_slis`` shown in the UI (breached rows first); the HTML has all.
MAX_TABLE_ROWS: Final = 300
_SLI_COLUMNS: Final = (
    ("category", "string"),
    ("sli", "string"),
    ("feature", "string"),
    ("slice", "string"),
    ("method", "string"),
    ("value", "float"),
    ("objective", "float"),
    ("comparator", "string"),
    ("ok", "bool"),
    ("status", "string"),
)


def _plain(value: Any) -> Any:
    """A TableRecord value: str, int, float or bool (None is not accepted everywhere)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def budget_table(report: "Report") -> dg.TableMetadataValue:
    """Every SLO's budget as of the partition, as ``MetadataValue.table``."""
    columns = [
        dg.TableColumn("track", "string"),
        dg.TableColumn("slo", "string"),
        dg.TableColumn("state", "string"),
        dg.TableColumn("target", "float"),
        dg.TableColumn("evaluations", "int"),
        dg.TableColumn("bad", "int"),
        dg.TableColumn("remaining_fraction", "float"),
        dg.TableColumn("burn_rate_1d", "float"),
        dg.TableColumn("burn_rate_7d", "float"),
        dg.TableColumn("alert_level", "string"),
    ]
    records = [
        dg.TableRecord(
            {
                "track": b.track,
                "slo": b.slo,
                "state": b.state,
                "target": b.target,
                "evaluations": b.evaluations,
                "bad": b.bad,
                "remaining_fraction": _plain(b.remaining_fraction),
                "burn_rate_1d": _plain(b.burn_rate_short),
                "burn_rate_7d": _plain(b.burn_rate_long),
                "alert_level": b.alert_level.value,
            }
        )
        for panels in report.tracks.values()
        for b in (p.budget for p in panels)
    ]
    return dg.MetadataValue.table(records, schema=dg.TableSchema(columns=columns))


def _partition_rows(report: "Report") -> pl.DataFrame:
    frames = [
        report.findings,
        report.drift,
        report.quality,
        report.quality_slices,
        report.fairness,
        report.prediction_log,
    ]
    wanted = [name for name, _ in _SLI_COLUMNS]
    rows = (
        pl.concat(
            [f.select([c for c in wanted if c in f.columns]) for f in frames if f.height],
            how="diagonal_relaxed",
        )
        if any(f.height for f in frames)
        else pl.DataFrame()
    )
    if rows.height == 0:
        return rows
    return (
        rows.with_columns(
            (pl.col("ok") == pl.lit(value=False)).fill_null(value=False).alias("_bad")
        )
        .sort("_bad", descending=True, maintain_order=True)
        .drop("_bad")
    )


def sli_table(report: "Report") -> dg.TableMetadataValue:
    """The partition's SLI rows shown in the report (breached first), at most
    :data:`MAX_TABLE_ROWS`, as ``MetadataValue.table``."""
    rows = _partition_rows(report).head(MAX_TABLE_ROWS)
    schema = dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in _SLI_COLUMNS])
    records = [
        dg.TableRecord({name: _plain(row.get(name)) for name, _ in _SLI_COLUMNS})
        for row in rows.iter_rows(named=True)
    ]
    return dg.MetadataValue.table(records, schema=schema)


def breach_markdown(report: "Report") -> str:
    """The partition's breached SLI rows as a Markdown table (every name escaped)."""
    rows = _partition_rows(report)
    bad = rows.filter(pl.col("ok") == pl.lit(value=False)) if rows.height else rows
    if bad.height == 0:
        return f"No SLI breached on {report.partition}."
    header = ["category", "sli", "feature", "slice", "value", "objective"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in bad.iter_rows(named=True):
        objective = (
            f"{row.get('comparator') or ''} {row['objective']:.6g}"
            if row.get("objective") is not None
            else ""
        )
        value = f"{row['value']:.6g}" if row.get("value") is not None else ""
        cells = [row.get("category"), row.get("sli"), row.get("feature"), row.get("slice")]
        lines.append(
            "| "
            + " | ".join(markdown_cell(c) if c is not None else "" for c in cells)
            + f" | {value} | {markdown_cell(objective)} |"
        )
    return "\n".join(lines)


def build_model_report_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="model_report",
        partitions_def=partitions_def,
        deps=["sli_results"],
        group_name="report",
        kinds={"html"},
        description="The partition's self-contained HTML report (verdict, budgets, trends, "
        "drift with distributions, findings, quality) and its summary picture.",
    )
    def model_report(
        context: dg.AssetExecutionContext, datasre: DatasreConfig, sli_store: SliStoreResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        from assets.report.load import ReportRequest, write_report_file
        from assets.report.render import summary, write_report

        model, day = split_partition_key(context.partition_key)
        request = ReportRequest(
            contract=datasre.contract(model),
            database=Path(sli_store.database),
            state_dir=Path(datasre.state_dir),
            partition=day,
        )
        written = write_report(request)
        report = written.report
        picture = write_report_file(
            written.html_path.with_name(f"{day.isoformat()}.summary.svg"), summary(report)
        )
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.path(str(written.html_path)),
                "report_url": dg.MetadataValue.url(written.html_path.resolve().as_uri()),
                "summary_svg": dg.MetadataValue.path(str(picture)),
                "verdict": "ready" if report.verdict.ready else "blocked",
                "blocking_reasons": dg.MetadataValue.md(
                    "\n".join(
                        f"- `{markdown_cell(r.code)}`: {markdown_cell(r.message)}"
                        for r in report.verdict.blocking
                    )
                    or "none"
                ),
                "slo_budgets": budget_table(report),
                "partition_slis": sli_table(report),
                "breaches": dg.MetadataValue.md(breach_markdown(report)),
                "report_bytes": written.html_bytes,
                "report_seconds": round(written.seconds, 3),
            }
        )

    return model_report
