"""One report end to end: read, build, draw, write (what the CLI and the asset call)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assets.report.charts import summary_size, summary_svg
from assets.report.html import render_html
from assets.report.load import ReportRequest, default_report_path, load_inputs, write_report_file
from assets.report.model import Report, build_report
from assets.report.png import svg_to_png

__all__ = ["WrittenReport", "summary", "summary_title", "write_report"]


@dataclass(frozen=True)
class WrittenReport:
    """Where the report went, its size in bytes, how long reading, building and writing
    the HTML took and how long the PNG took (seconds; 0 without one)."""

    report: Report
    html_path: Path
    html_bytes: int
    png_path: Path | None
    seconds: float
    png_seconds: float = 0.0


def summary_title(report: Report) -> str:
    word = "READY" if report.verdict.ready else "BLOCKED"
    blocking = len(report.verdict.blocking)
    return f"datasre {report.model} {report.version}: {word} on {report.partition}" + (
        f" ({blocking} blocking)" if blocking else ""
    )


def summary(report: Report) -> str:
    """The CI picture of ``report`` as SVG: verdict and every SLO's burn-down."""
    panels = [p for panels in report.tracks.values() for p in panels]
    return summary_svg(summary_title(report), panels, report.days, ready=report.verdict.ready)


def write_report(
    request: ReportRequest, output: Path | None = None, png: Path | None = None
) -> WrittenReport:
    """Write the HTML report of ``request`` to ``output`` (default
    :func:`assets.report.load.default_report_path`) and, when ``png`` is given, the
    summary picture for CI (verdict and each SLO's burn-down) there."""
    started = time.perf_counter()
    report = build_report(load_inputs(request))
    page = render_html(report)
    target = output or default_report_path(
        request.state_dir, report.model, report.version, report.partition
    )
    write_report_file(target, page)
    seconds = time.perf_counter() - started
    if png is not None:
        panels = sum(len(p) for p in report.tracks.values())
        svg_to_png(summary(report), *summary_size(panels), png)
    return WrittenReport(
        report,
        target,
        len(page.encode("utf-8")),
        png,
        seconds,
        time.perf_counter() - started - seconds if png is not None else 0.0,
    )
