"""The report as one self-contained HTML page: inline CSS and SVG, no script, no fetch.

Pure (a :class:`assets.report.model.Report` in, a string out). Every name and value that
came from a contract or the data (features, slices, categories, owners, messages,
details) goes through :func:`text` (``html.escape`` with quotes, after control
characters are shown as escapes, as the other output formats do), and a runbook becomes a
link only when it is a plain ``http(s)`` URL. The page opens from disk with no network:
there is nothing to load but itself.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any, Final

import polars as pl

from assets.report.charts import burn_down_svg, distribution_svg, trend_svg
from assets.report.distributions import NumericDistribution
from assets.report.markup import runbook_href, text
from assets.report.model import CATEGORY_ORDER, Report, SliSeries, SloPanel
from assets.weighted_drift import DayDriftRanking
from checks.gate_verdict import Severity
from checks.gate_words import without_runbook_text

__all__ = ["CONTENT_SECURITY_POLICY", "render_html"]

#: Nothing may load: no script, no fetch, no image or font from anywhere (styles inline).
CONTENT_SECURITY_POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'"

_CSS: Final = """
:root { --ok: #1e7b34; --bad: #c0392b; --warn: #b9770e; --muted: #5d6d7e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 0;
       color: #1c2833; background: #fbfcfc; }
main { max-width: 1180px; margin: 0 auto; padding: 0 20px 40px; }
header.banner { padding: 16px 20px; color: #fff; }
header.ready { background: var(--ok); } header.blocked { background: var(--bad); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 2px 0; }
header a { color: #fff; }
ul.reasons { margin: 8px 0 0; padding-left: 20px; }
ul.reasons li { margin: 2px 0; }
.sev { display: inline-block; min-width: 56px; font-weight: bold; text-transform: uppercase; }
nav { margin: 12px 0; font-size: 13px; }
nav a { margin-right: 14px; }
h2 { border-bottom: 2px solid #d5dbdb; padding-bottom: 4px; margin-top: 32px; }
h3 { margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #d5dbdb; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eaeded; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fdedec; }
.state-ok { color: var(--ok); font-weight: bold; }
.state-bad { color: var(--bad); font-weight: bold; }
.state-warn { color: var(--warn); font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e5e8e8; padding: 4px;
               width: min-content; }
figure.chart svg { display: block; max-width: none; }
figure.chart figcaption { font-size: 11.5px; color: var(--muted); }
div.table { max-width: 100%; overflow-x: auto; }
td.detail { font-size: 11px; color: var(--muted); max-width: 420px; }
.note { color: var(--muted); }
details summary { cursor: pointer; color: #1f6fb2; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
"""


def _num(value: Any, spec: str = ".4g") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        shown = format(value, spec)
        if "e+" in shown and abs(value) < 1e15:
            # 129600 s read "1.296e+05"; a large number reads in full (found by a new user).
            return f"{value:,.0f}"
        return shown
    return text(value)


def _moment(value: dt.datetime) -> str:
    """A time to the second, UTC marked ``Z`` (``isoformat`` printed microseconds)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat(timespec="seconds")


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{round(value, 4) + 0.0:.0%}"


def _ok_cell(ok: bool | None, status: str | None = None) -> str:
    if ok is True:
        return "<td class='state-ok'>ok</td>"
    if ok is False:
        return "<td class='state-bad'>breached</td>"
    return f"<td class='note'>{text(status or 'not judged')}</td>"


_NUMERIC_COLUMNS: Final = {"value", "p_value", "q_value", "statistic", "objective", "n_rows"}
#: Columns never shown as their own column: the verdict column says them.
_VERDICT_COLUMNS: Final = ("ok", "status")


def _shown_columns(frame: pl.DataFrame, hide: Sequence[str] = ()) -> list[str]:
    """Columns worth a column: not hidden, not all empty, ``category`` only when it
    varies."""
    shown = []
    for column in frame.columns:
        if column in _VERDICT_COLUMNS or column in hide:
            continue
        values = frame.get_column(column)
        if values.null_count() == frame.height:
            continue
        if column == "category" and values.n_unique() == 1:
            continue
        if column == "sli" and "method" in frame.columns and values.equals(frame["method"]):
            continue  # a drift row's sli is its method
        shown.append(column)
    return shown


def _frame_table(
    frame: pl.DataFrame, *, empty: str, hide: Sequence[str] = (), detail_as_tooltip: bool = False
) -> str:
    """A table of SLI rows; a breached row is tinted and its verdict says so. Empty and
    ``hide`` columns are left out; ``detail`` (the stored examples) is set small, or shown
    on hovering the verdict when ``detail_as_tooltip``."""
    if frame.height == 0:
        return f"<p class='note'>{text(empty)}</p>"
    columns = _shown_columns(frame, (*hide, "detail") if detail_as_tooltip else hide)
    head = "".join(f"<th>{text(c)}</th>" for c in columns) + "<th>verdict</th>"
    body = []
    for row in frame.iter_rows(named=True):
        cells = []
        for c in columns:
            value = row[c]
            if c in _NUMERIC_COLUMNS:
                cells.append(f"<td class='num'>{_num(value)}</td>")
            elif c == "detail":
                cells.append(f"<td class='detail'>{'' if value is None else text(value)}</td>")
            else:
                cells.append(f"<td>{'' if value is None else _num(value)}</td>")
        ok = row.get("ok")
        klass = " class='bad'" if ok is False else ""
        verdict = _ok_cell(ok, row.get("status"))
        if detail_as_tooltip and row.get("detail"):
            verdict = verdict.replace("<td", f"<td title='{text(row['detail'])}'", 1)
        body.append(f"<tr{klass}>{''.join(cells)}{verdict}</tr>")
    return (
        f"<div class='table'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _banner(report: Report) -> str:
    verdict = report.verdict
    word = "READY" if verdict.ready else "BLOCKED"
    klass = "ready" if verdict.ready else "blocked"
    severities = [r.severity for r in verdict.reasons]
    counts = (
        f"{severities.count(Severity.BLOCK)} blocking, {severities.count(Severity.WARN)} "
        f"warning(s), {severities.count(Severity.WAIVED)} waived"
    )
    reasons = "".join(
        f"<li><span class='sev'>{text(r.severity.value)}</span> <code>{text(r.code)}</code>: "
        f"{text(without_runbook_text(r.message, r.runbook))} "
        f"({runbook_href(r.runbook or report.runbook)})</li>"
        for r in verdict.reasons
    )
    return (
        f"<header class='banner {klass}'><h1>{text(report.model)} {text(report.version)}: "
        f"{word}</h1>"
        f"<p>Partition {report.partition} · window {report.window_start} .. {report.partition} "
        f"({report.window_days} days) · gate as of {text(_moment(report.as_of))} · "
        f"{counts}</p><p>Owner {text(report.owner or '–')} · {runbook_href(report.runbook)}</p>"
        + (f"<ul class='reasons'>{reasons}</ul>" if reasons else "")
        + "</header>"
    )


def _figure(svg: str, kind: str, caption: str) -> str:
    return (
        f"<figure class='chart' data-chart='{kind}' role='img' aria-label='{text(caption)}'>"
        f"{svg}<figcaption>{text(caption)}</figcaption></figure>"
    )


def _state_class(state: str) -> str:
    return {"ok": "state-ok", "no_evidence": "state-warn"}.get(state, "state-bad")


def _slo_table(panels: Sequence[SloPanel]) -> str:
    head = (
        "<tr><th>slo</th><th>state</th><th>objective</th><th>target</th><th>evaluations</th>"
        "<th>bad days</th><th>budget (days)</th><th>remaining</th><th>burn 1d</th>"
        "<th>burn 7d</th><th>alert</th><th>blocking</th><th>runbook</th></tr>"
    )
    rows = []
    for panel in panels:
        b = panel.budget
        rows.append(
            f"<tr><td>{text(b.slo)}</td><td class='{_state_class(b.state)}'>{text(b.state)}</td>"
            f"<td class='num'>{text(b.comparator)} {_num(b.objective)}</td>"
            f"<td class='num'>{_num(b.target)}</td><td class='num'>{b.evaluations}</td>"
            f"<td class='num'>{b.bad}</td><td class='num'>{_num(b.budget, '.2f')}</td>"
            f"<td class='num'>{_pct(b.remaining_fraction)}</td>"
            f"<td class='num'>{_num(b.burn_rate_short, '.3g')}</td>"
            f"<td class='num'>{_num(b.burn_rate_long, '.3g')}</td>"
            f"<td>{text(b.alert_level.value)}</td><td>{'yes' if b.blocking else 'no'}</td>"
            f"<td>{runbook_href(panel.runbook)}</td></tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _slos(report: Report) -> str:
    parts = ["<section id='slos'><h2>SLOs and error budgets</h2>"]
    if not report.tracks:
        parts.append("<p class='note'>No SLO evaluation in the window.</p>")
    for track in sorted(report.tracks):
        panels = report.tracks[track]
        parts.append(f"<h3>Track {text(track)}</h3>")
        parts.append(_slo_table(panels))
        charts = "".join(
            _figure(
                burn_down_svg(p, report.days),
                "burn-down",
                f"{p.budget.slo}: budget remaining per day ({_pct(p.budget.remaining_fraction)} "
                f"on {p.budget.reference_day})",
            )
            for p in panels
        )
        parts.append(f"<div class='charts'>{charts}</div>")
    parts.append("</section>")
    return "".join(parts)


def _trends(report: Report) -> str:
    parts = [
        "<section id='trends'><h2>SLI trends</h2>",
        f"<p class='note'>{len(report.charted)} SLIs breached in the window and are drawn "
        "(red dots: breached days; dashed line: objective; shaded: days whose run breached a "
        "blocking SLO or failed"
        + (
            f": {', '.join(d.strftime('%m-%d') for d in report.incident_days)}"
            if report.incident_days
            else ""
        )
        + "); the others are in the table below.</p>",
    ]
    if report.not_charted:
        parts.append(
            f"<p class='note'>{report.not_charted} more breached SLIs are in the table "
            "(chart limit reached).</p>"
        )
    by_category: dict[str, list[SliSeries]] = {}
    for s in report.charted:
        by_category.setdefault(s.category, []).append(s)
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    for category in sorted(by_category, key=lambda c: (order.get(c, len(order)), c)):
        charts = "".join(
            _figure(
                trend_svg(s, report.incident_days),
                "trend",
                f"{s.label}: breached on {', '.join(d.isoformat() for d in s.breached_days)}",
            )
            for s in by_category[category]
        )
        parts.append(f"<h3>{text(category)}</h3><div class='charts'>{charts}</div>")
    table = report.trend_table
    if table.height:
        head = "".join(f"<th>{text(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td class='num'>{_num(v)}</td>"
                if isinstance(v, float | int) and not isinstance(v, bool)
                else f"<td>{'' if v is None else text(v)}</td>"
                for v in row
            )
            + "</tr>"
            for row in table.iter_rows()
        )
        parts.append(
            f"<details><summary>{table.height} SLIs without a breach in the window "
            f"(or past the chart limit)</summary><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _drift(report: Report) -> str:
    parts = [f"<section id='drift'><h2>Drift on {report.partition}</h2>"]
    if report.drifted_features:
        names = ", ".join(f"<code>{text(f)}</code>" for f in report.drifted_features)
        parts.append(f"<p>Drifted: {names}.</p>")
    else:
        parts.append("<p>No feature drifted.</p>")
    share = report.drift.filter(pl.col("sli") == "drifted_feature_share")
    for row in share.iter_rows(named=True):
        klass = "state-bad" if row["ok"] is False else "state-ok"
        parts.append(
            f"<p>Drifted feature share: <span class='{klass}'>{_num(row['value'])}</span> "
            f"(objective {text(row['comparator'] or '')} {_num(row['objective'])}; "
            f"{text(row['detail'] or '')}).</p>"
        )
    per_feature = report.drift.filter(pl.col("sli") != "drifted_feature_share")
    parts.append(
        _frame_table(
            per_feature,
            empty="No drift rows for this partition.",
            hide=("sli", "slice", "blocking"),
            detail_as_tooltip=True,
        )
    )
    parts.append(
        "<p class='note'>value: what the method measured (hover a verdict for the "
        "method's rule); breached rows first.</p>"
    )
    if report.distributions:
        parts.append(
            "<h3>Baseline vs current</h3><p class='note'>Drifted features, then the features "
            "that moved most (largest ECDF gap for numeric, total variation distance for "
            "categorical). Numeric: shares in the baseline profile's PSI bins and the ECDFs; "
            "categorical: category shares, new categories in orange.</p>"
        )
        figures = []
        for d in report.distributions:
            tag = "drifted" if d.feature in report.drifted_features else "top"
            kind = "numeric" if isinstance(d, NumericDistribution) else "categorical"
            new = ""
            if not isinstance(d, NumericDistribution) and any(d.new):
                new = "; new: " + ", ".join(
                    c for c, n in zip(d.categories, d.new, strict=True) if n
                )
            figures.append(
                _figure(
                    distribution_svg(d),
                    f"distribution-{kind}",
                    f"{d.feature} ({tag}): baseline {d.n_baseline} values "
                    f"({d.missing_baseline} missing), current {d.n_current} "
                    f"({d.missing_current} missing){new}",
                )
            )
        parts.append(f"<div class='charts'>{''.join(figures)}</div>")
    parts.append("</section>")
    return "".join(parts)


def _section(anchor: str, title: str, body: str) -> str:
    return f"<section id='{anchor}'><h2>{text(title)}</h2>{body}</section>"


def _run_line(report: Report) -> str:
    run = report.run
    notes = "".join(f"<p class='note'>{text(n)}</p>" for n in report.notes)
    if run is None:
        return f"<p class='note'>No run recorded for {report.partition}.</p>{notes}"
    error = f": {text(run['error'])}" if run.get("error") else ""
    status = str(run.get("status"))
    klass = "state-ok" if status == "succeeded" else "state-bad"
    finished = run.get("finished_at")
    when = _moment(finished) if isinstance(finished, dt.datetime) else "–"
    return (
        f"<p>Run of {report.partition}: <span class='{klass}'>{text(status)}</span>{error} "
        f"(finished {text(when)}, {_num(run.get('n_labels'))} labelled rows).</p>{notes}"
    )


_SECTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("slos", "SLOs"),
    ("trends", "Trends"),
    ("drift", "Drift"),
    ("drivers", "What drives it"),
    ("findings", "Findings"),
    ("quality", "Quality"),
    ("fairness", "Fairness"),
    ("prediction-log", "Prediction log"),
)


#: Features shown in the "what drives it" ranking.
MAX_DRIVERS: Final = 10


def _drivers(ranking: DayDriftRanking | None) -> str:
    """``datasre explain``'s drift ranking: features by importance-weighted effect."""
    if ranking is None:
        return "<p class='note'>Not ranked: the partition's features could not be read.</p>"
    rows = "".join(
        f"<tr><td>{text(f.feature)}</td><td>{text(f.method)}</td>"
        f"<td class='num'>{_num(f.effect, '.3f')}</td>"
        f"<td class='num'>{_num(f.importance, '.3f')}</td>"
        f"<td class='num'>{_num(f.weighted_effect, '.4f')}</td></tr>"
        for f in ranking.features[:MAX_DRIVERS]
    )
    return (
        f"<p>importance_weighted_drift {_num(ranking.value, '.4f')} (effect in [0, 1]: "
        "KS D or JS distance against training).</p>"
        "<table><thead><tr><th>feature</th><th>method</th><th>effect</th><th>importance</th>"
        f"<th>weighted effect</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p class='note'>Weights: {text(ranking.method)}.</p>"
    )


def render_html(report: Report) -> str:
    """The whole page."""
    sections: list[Callable[[], str]] = [
        lambda: _slos(report),
        lambda: _trends(report),
        lambda: _drift(report),
        lambda: _section(
            "drivers",
            f"What drives the drift on {report.partition}",
            _drivers(report.drift_ranking),
        ),
        lambda: _section(
            "findings",
            f"Schema, null, range and freshness findings on {report.partition}",
            _frame_table(
                report.findings,
                empty="No schema, completeness, freshness or "
                "ingest SLI breached on this partition.",
            ),
        ),
        lambda: _section(
            "quality",
            f"Quality on {report.partition}",
            "<h3>Overall</h3>"
            + _frame_table(
                report.quality,
                empty="No quality SLI for this partition (labels "
                "not arrived yet, or the model declares none).",
            )
            + "<h3>By slice</h3>"
            + _frame_table(report.quality_slices, empty="No slice quality SLI."),
        ),
        lambda: _section(
            "fairness",
            f"Fairness on {report.partition}",
            _frame_table(
                report.fairness,
                empty="No fairness SLI (no sensitive attributes declared, or labels not arrived).",
            ),
        ),
        lambda: _section(
            "prediction-log",
            f"Prediction log on {report.partition}",
            _frame_table(report.prediction_log, empty="No prediction-log SLI."),
        ),
    ]
    nav = "".join(f"<a href='#{anchor}'>{label}</a>" for anchor, label in _SECTIONS)
    title = f"datasre report: {report.model} {report.version} {report.partition}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">"
        f"<title>{text(title)}</title><style>{_CSS}</style></head><body>"
        + _banner(report)
        + f"<main><nav>{nav}</nav>{_run_line(report)}"
        + "".join(section() for section in sections)
        + f"<footer class='note'><p>datasre report, generated for partition {report.partition} "
        "from the SLI store and the stored baseline profile; self-contained (no script, "
        "no network).</p></footer></main></body></html>\n"
    )
