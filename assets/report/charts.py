"""The report's pictures as inline SVG strings (drawn with :mod:`assets.report.svg`).

- :func:`burn_down_svg`: an SLO's remaining error budget (fraction) per day of the window;
- :func:`trend_svg`: one SLI per day, its objective dashed, breached days red, incident
  days (a breached or failed run) shaded;
- :func:`distribution_svg`: baseline vs current (PSI-bin shares and ECDFs for a numeric
  feature; category shares with new categories orange for a categorical one);
- :func:`summary_svg`: the verdict and every SLO's burn-down on one picture, for a CI job
  summary or a Dagster run page (``datasre report --png`` rasterises it).

Pure: strings in, strings out. Sizes are CSS pixels.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Final

import numpy as np

from assets.report.distributions import CategoricalDistribution, NumericDistribution
from assets.report.markup import text
from assets.report.model import BurnPoint, SliSeries, SloPanel
from assets.report.svg import Plot, nice_ticks, svg_document

__all__ = [
    "BAD_COLOUR",
    "BASELINE_COLOUR",
    "CURRENT_COLOUR",
    "NEW_COLOUR",
    "burn_down_svg",
    "distribution_svg",
    "summary_size",
    "summary_svg",
    "trend_svg",
]

BASELINE_COLOUR: Final = "#95a5a6"
CURRENT_COLOUR: Final = "#1f6fb2"
BAD_COLOUR: Final = "#c0392b"
OK_COLOUR: Final = "#1e7b34"
NEW_COLOUR: Final = "#e67e22"
INCIDENT_COLOUR: Final = "#f9dcd8"
SMALL: Final = (340.0, 170.0)


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _day_ticks(days: Sequence[dt.date], count: int = 5) -> tuple[list[float], list[str]]:
    if not days:
        return [], []
    stride = max(1, math.ceil(len(days) / count))
    chosen = list(days[::stride])
    return [float(d.toordinal()) for d in chosen], [d.strftime("%m-%d") for d in chosen]


def _burn_plot(
    points: Sequence[BurnPoint],
    days: Sequence[dt.date],
    title: str,
    *,
    left: float = 0,
    top: float = 0,
    size: tuple[float, float] = SMALL,
    title_colour: str = "#1c2833",
) -> Plot:
    shown = [p for p in points if p.remaining_fraction is not None]
    values = [p.remaining_fraction for p in shown if p.remaining_fraction is not None]
    low = min([-0.1, *values]) - 0.05
    first, last = (days[0], days[-1]) if days else (dt.date.today(), dt.date.today())
    plot = Plot(
        *size, first.toordinal() - 0.5, last.toordinal() + 0.5, low, 1.05, left=left, top=top
    )
    plot.y_axis(nice_ticks(low, 1.0, 4), percent=True)
    plot.x_axis(*_day_ticks(days))
    plot.hline(0.0, BAD_COLOUR, css="budget-zero")
    if shown:
        xs = [float(p.day.toordinal()) for p in shown]
        plot.polyline(xs, values, CURRENT_COLOUR, step=True, css="series burn")
        plot.dots(xs, values, CURRENT_COLOUR)
    else:
        plot.note("no budget (target 1, or nothing evaluated)")
    plot.title(_short(title, 46), title_colour)
    return plot


def _window_days(points: Sequence[BurnPoint]) -> list[dt.date]:
    return [p.day for p in points]


def burn_down_svg(panel: SloPanel, days: Sequence[dt.date] | None = None) -> str:
    """Remaining error budget per day (1 = untouched, 0 = spent, below 0 = overspent)."""
    calendar = list(days) if days else _window_days(panel.burn_down)
    plot = _burn_plot(panel.burn_down, calendar, f"{panel.budget.track} / {panel.budget.slo}")
    return svg_document(*SMALL, plot.render(), f"burn-down of {panel.budget.slo}")


def trend_svg(series: SliSeries, incident_days: Sequence[dt.date]) -> str:
    """One SLI over the window (see the module docstring)."""
    xs = [float(d.toordinal()) for d in series.days]
    finite = [v for v in series.values if v is not None and math.isfinite(v)]
    if series.objective is not None and math.isfinite(series.objective):
        finite.append(series.objective)
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 0.5
    plot = Plot(*SMALL, xs[0] - 0.5, xs[-1] + 0.5, low - pad, high + pad)
    for day in incident_days:
        plot.band(day.toordinal() - 0.5, day.toordinal() + 0.5, INCIDENT_COLOUR)
    plot.y_axis()
    plot.x_axis(*_day_ticks(series.days))
    if series.objective is not None:
        plot.hline(series.objective, BAD_COLOUR)
    plot.polyline(xs, list(series.values), CURRENT_COLOUR)
    plot.dots(xs, list(series.values), CURRENT_COLOUR)
    bad = [v if ok is False else None for v, ok in zip(series.values, series.ok, strict=True)]
    plot.dots(xs, bad, BAD_COLOUR, radius=3.6, css="breach")
    if not finite:
        plot.note("no finite value in the window")
    objective = (
        f" ({series.comparator} {series.objective:.4g})"
        if series.objective is not None and series.comparator
        else ""
    )
    plot.title(_short(series.label + objective, 52))
    return svg_document(*SMALL, plot.render(), f"trend of {series.label}")


def _numeric(d: NumericDistribution) -> tuple[float, float, str]:
    width, height = 700.0, 240.0
    bins = len(d.bin_labels)
    top = float(max(np.max(d.baseline_share, initial=0), np.max(d.current_share, initial=0)))
    bars = Plot(400, height, -0.5, bins - 0.5, 0.0, max(top * 1.15, 0.01), margin=(44, 10, 32, 62))
    bars.y_axis()
    for i in range(bins):
        bars.bar(i - 0.4, i, float(d.baseline_share[i]), BASELINE_COLOUR, css="bar baseline")
        bars.bar(i, i + 0.4, float(d.current_share[i]), CURRENT_COLOUR, css="bar current")
    bars.x_axis(list(range(bins)), [_short(label, 16) for label in d.bin_labels], rotate=True)
    bars.legend([("baseline", BASELINE_COLOUR), ("current", CURRENT_COLOUR)])
    bars.title(_short(f"{d.feature}: PSI-bin shares", 40))
    lo, hi = d.x_range
    inside = (d.ecdf_x >= lo) & (d.ecdf_x <= hi)
    xs = [float(x) for x in d.ecdf_x[inside]]
    ecdf = Plot(300, height, lo, hi, -0.02, 1.02, left=400, margin=(36, 10, 32, 62))
    ecdf.y_axis([0.0, 0.25, 0.5, 0.75, 1.0])
    ticks = nice_ticks(lo, hi, 4)
    ecdf.x_axis(ticks, [f"{t:.4g}" for t in ticks])
    for side, values, colour in (
        ("baseline", d.baseline_ecdf, BASELINE_COLOUR),
        ("current", d.current_ecdf, CURRENT_COLOUR),
    ):
        ys = [float(v) for v in values[inside]]
        ecdf.polyline(xs, ys, colour, step=True, css=f"series ecdf {side}")
    gap = d.max_ecdf_gap
    ecdf.title(f"ECDF (largest gap {gap:.3f})" if math.isfinite(gap) else "ECDF")
    return width, height, bars.render() + ecdf.render()


def _categorical(d: CategoricalDistribution) -> tuple[float, float, str]:
    labels = [
        _short(c, 18) + (" (new)" if new else "")
        for c, new in zip(d.categories, d.new, strict=True)
    ]
    base = [float(v) for v in d.baseline_share]
    current = [float(v) for v in d.current_share]
    new = list(d.new)
    if d.other_categories:
        labels.append(f"({d.other_categories} other)")
        base.append(d.other_baseline_share)
        current.append(d.other_current_share)
        new.append(False)
    count = len(labels)
    width, height = min(700.0, max(400.0, 140.0 + 40.0 * count)), 240.0
    top = max([*base, *current, 0.01])
    plot = Plot(width, height, -0.5, count - 0.5, 0.0, top * 1.15, margin=(44, 10, 32, 62))
    plot.y_axis()
    for i in range(count):
        plot.bar(i - 0.4, i, base[i], BASELINE_COLOUR, css="bar baseline")
        plot.bar(
            i,
            i + 0.4,
            current[i],
            NEW_COLOUR if new[i] else CURRENT_COLOUR,
            css="bar current new" if new[i] else "bar current",
        )
    plot.x_axis(
        list(range(count)),
        labels,
        rotate=True,
        bold=new,
        colours=[NEW_COLOUR if n else "#5d6d7e" for n in new],
    )
    keys = [("baseline", BASELINE_COLOUR), ("current", CURRENT_COLOUR)]
    if any(new):
        keys.append(("new category", NEW_COLOUR))
    plot.legend(keys)
    plot.title(_short(f"{d.feature}: category shares", 34))
    return width, height, plot.render()


def distribution_svg(d: NumericDistribution | CategoricalDistribution) -> str:
    """Baseline vs current distribution of one feature."""
    width, height, body = _numeric(d) if isinstance(d, NumericDistribution) else _categorical(d)
    return svg_document(width, height, body, f"distribution of {d.feature}")


#: One burn-down of the summary picture (CSS px).
SUMMARY_CELL: Final = (300.0, 150.0)


def summary_size(panels: int, columns: int = 4) -> tuple[float, float]:
    """(width, height) in CSS px of the summary picture of ``panels`` SLOs."""
    rows = max(1, math.ceil(panels / columns))
    return SUMMARY_CELL[0] * columns + 20, 40 + SUMMARY_CELL[1] * rows


def summary_svg(
    title: str,
    panels: Sequence[SloPanel],
    days: Sequence[dt.date],
    *,
    ready: bool,
    columns: int = 4,
) -> str:
    """The verdict as a title line and every SLO's burn-down, SLOs not ``ok`` first
    (their titles red): the picture for a CI job summary."""
    ordered = sorted(panels, key=lambda p: (p.budget.state == "ok", p.budget.track, p.budget.slo))
    cell_w, cell_h = SUMMARY_CELL
    width, height = summary_size(len(ordered), columns)
    parts = [
        f"<rect width='{width}' height='{height}' fill='#ffffff'/>",
        f"<text x='12' y='26' font-size='17' font-weight='bold' "
        f"fill='{OK_COLOUR if ready else BAD_COLOUR}'>{text(title)}</text>",
    ]
    for i, panel in enumerate(ordered):
        b = panel.budget
        plot = _burn_plot(
            panel.burn_down,
            list(days),
            f"{b.track}/{b.slo}: {b.state}",
            left=10 + cell_w * (i % columns),
            top=40 + cell_h * (i // columns),
            size=(cell_w, cell_h),
            title_colour="#1c2833" if b.state == "ok" else BAD_COLOUR,
        )
        parts.append(plot.render())
    if not ordered:
        parts.append("<text x='12' y='60' font-size='12'>no SLO evaluated yet</text>")
    return svg_document(width, height, "".join(parts), title)
