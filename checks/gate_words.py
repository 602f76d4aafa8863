"""How the gate words its reasons: numbers, percentages, day lists, evidence rows.

Pure formatting of values already decided (:mod:`checks.gate_checks`); the JSON report
and the printers show these strings verbatim, so the gate goldens pin them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any, Final

import polars as pl

__all__ = [
    "EVIDENCE_COLUMNS",
    "days_list_text",
    "evidence_rows",
    "format_value",
    "hours_text",
    "json_value",
    "pct",
    "runbook_text",
    "without_runbook_text",
]

EVIDENCE_COLUMNS: Final = (
    "partition",
    "track",
    "sli",
    "feature",
    "slice",
    "value",
    "objective",
    "comparator",
    "ok",
    "status",
)


def json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def evidence_rows(rows: pl.DataFrame, limit: int) -> tuple[tuple[dict[str, Any], ...], bool]:
    columns = [c for c in EVIDENCE_COLUMNS if c in rows.columns]
    ordered = rows.sort(["partition", "sli", "feature", "slice"], nulls_last=False)
    picked = ordered.head(limit).select(columns)
    out = tuple({k: json_value(v) for k, v in row.items()} for row in picked.iter_rows(named=True))
    return out, rows.height > limit


def runbook_text(runbook: str | None) -> str:
    return f"runbook: {runbook}" if runbook else "runbook: none declared in the contract"


def without_runbook_text(message: str, runbook: str | None) -> str:
    """``message`` without the ``; runbook: ...`` it was given (:func:`runbook_text`), for
    a page that links the runbook itself next to the message: at its end, or before the
    note a waiver adds (``; waived until ...``, `` (waiver expired ...)``), which printed
    the runbook twice."""
    head, marker, tail = message.rpartition(f"; {runbook_text(runbook)}")
    if marker and (not tail or tail.startswith(("; ", " ("))):
        return head + tail
    return message


def days_list_text(days: Sequence[str]) -> str:
    if not days:
        return "no day"
    if len(days) <= 6:
        return ", ".join(days)
    return f"{', '.join(days[:3])}, ... {', '.join(days[-2:])} ({len(days)} days)"


def format_value(value: float | None, digits: int = 6) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    return f"{value:.{digits}g}"


def pct(fraction: float | None) -> str:
    # round() then + 0.0: float noise like -2e-16 must print as 0%, not -0%.
    return "n/a" if fraction is None else f"{round(fraction, 4) + 0.0:.0%}"


def hours_text(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600.0
    return f"{hours:.1f} h" + (f" ({hours / 24:.1f} days)" if hours >= 48 else "")
