"""A small SVG plotting layer for the report: linear axes, lines, steps, dots, bars, text.

Why not a plotting library (docs/report.md): the report inlines 30-60 small charts; drawn
here each is 2-8 KB of SVG and takes well under a millisecond, where matplotlib took
0.05-0.2 s per chart (constrained layout and tick layout) and 20 KB of SVG, which put a
19-feature report over its 5 s budget on a loaded 2-core machine. Text stays ``<text>``
(searchable, escaped by :func:`assets.report.markup.text`), coordinates are rounded to
0.1 px, and nothing refers to an id, so any number of charts can share one page.

Coordinates: a :class:`Plot` maps data ``x`` in ``[x_lo, x_hi]`` and ``y`` in
``[y_lo, y_hi]`` to its inner rectangle (pixels; SVG's y grows downwards). Values that are
not finite are skipped by every drawing call (a gap in a line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from assets.report.markup import text

__all__ = ["FONT", "Plot", "nice_ticks", "svg_document"]

FONT: Final = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
AXIS_COLOUR: Final = "#5d6d7e"
GRID_COLOUR: Final = "#e5e8eb"
#: A series' x values, in data units.
Xs: TypeAlias = Sequence[float]
#: A series' y values, in data units; None where nothing was measured (a gap).
Ys: TypeAlias = Sequence[float | None]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering
    ``[lo, hi]``; one tick when the range is empty."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick value with as many decimals as the step needs (``1e+06`` style when huge)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.2g}"
    decimals = 0  # the fewest that write the step exactly (0.25 needs 2, 0.5 one)
    while decimals < 6 and abs(round(step, decimals) - step) > 1e-9 * max(1.0, abs(step)):
        decimals += 1
    return f"{value:.{decimals}f}"


def _f(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


@dataclass
class Plot:
    """One set of axes at (``left``, ``top``) of size ``width`` x ``height`` pixels,
    margins included (``margin`` = left, right, top, bottom)."""

    width: float
    height: float
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    margin: tuple[float, float, float, float] = (44, 10, 20, 22)
    left: float = 0
    top: float = 0
    parts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.x_hi <= self.x_lo:
            self.x_lo, self.x_hi = self.x_lo - 0.5, self.x_lo + 0.5
        if self.y_hi <= self.y_lo:
            pad = abs(self.y_lo) * 0.1 or 1.0
            self.y_lo, self.y_hi = self.y_lo - pad, self.y_hi + pad

    # --- geometry --------------------------------------------------------------------
    @property
    def inner(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the plotting rectangle in pixels."""
        ml, mr, mt, mb = self.margin
        return (
            self.left + ml,
            self.top + mt,
            self.left + self.width - mr,
            self.top + self.height - mb,
        )

    def px(self, x: float) -> float:
        x0, _, x1, _ = self.inner
        return x0 + (x - self.x_lo) / (self.x_hi - self.x_lo) * (x1 - x0)

    def py(self, y: float) -> float:
        _, y0, _, y1 = self.inner
        clipped = min(max(y, self.y_lo), self.y_hi)
        return y1 - (clipped - self.y_lo) / (self.y_hi - self.y_lo) * (y1 - y0)

    # --- marks -----------------------------------------------------------------------
    def polyline(
        self,
        xs: Xs,
        ys: Ys,
        colour: str,
        *,
        width: float = 1.4,
        step: bool = False,
        dash: str | None = None,
        css: str = "series",
    ) -> None:
        """A line through the points (a step line holding each value until the next x
        when ``step``); a missing or non-finite y breaks it."""
        runs: list[list[tuple[float, float]]] = [[]]
        for x, y in zip(xs, ys, strict=True):
            if y is None or not _finite(x, y):
                if runs[-1]:
                    runs.append([])
                continue
            point = (self.px(x), self.py(y))
            if step and runs[-1]:
                runs[-1].append((point[0], runs[-1][-1][1]))
            runs[-1].append(point)
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        for run in runs:
            if len(run) < 2:
                continue
            d = "M" + "L".join(f"{_f(x)} {_f(y)}" for x, y in run)
            self.parts.append(
                f"<path class='{css}' d='{d}' fill='none' stroke='{colour}' "
                f"stroke-width='{width}'{dashes}/>"
            )

    def dots(self, xs: Xs, ys: Ys, colour: str, *, radius: float = 2.2, css: str = "dot") -> None:
        for x, y in zip(xs, ys, strict=True):
            if y is not None and _finite(x, y):
                self.parts.append(
                    f"<circle class='{css}' cx='{_f(self.px(x))}' cy='{_f(self.py(y))}' "
                    f"r='{radius}' fill='{colour}'/>"
                )

    def hline(self, y: float, colour: str, *, dash: str = "4 3", css: str = "objective") -> None:
        if not _finite(y) or not self.y_lo <= y <= self.y_hi:
            return
        x0, _, x1, _ = self.inner
        py = _f(self.py(y))
        self.parts.append(
            f"<path class='{css}' d='M{_f(x0)} {py}H{_f(x1)}' stroke='{colour}' "
            f"stroke-width='1' stroke-dasharray='{dash}'/>"
        )

    def band(self, x_from: float, x_to: float, colour: str, css: str = "incident") -> None:
        """A full-height shaded band between two x values."""
        _, y0, _, y1 = self.inner
        a, b = self.px(max(x_from, self.x_lo)), self.px(min(x_to, self.x_hi))
        if b > a:
            self.parts.append(
                f"<rect class='{css}' x='{_f(a)}' y='{_f(y0)}' width='{_f(b - a)}' "
                f"height='{_f(y1 - y0)}' fill='{colour}'/>"
            )

    def bar(
        self, x_from: float, x_to: float, value: float, colour: str, *, css: str = "bar"
    ) -> None:
        if not _finite(value):
            return
        base, top = self.py(max(self.y_lo, 0.0)), self.py(value)
        a, b = self.px(x_from), self.px(x_to)
        self.parts.append(
            f"<rect class='{css}' x='{_f(a)}' y='{_f(min(base, top))}' width='{_f(b - a)}' "
            f"height='{_f(max(abs(base - top), 0.5))}' fill='{colour}'/>"
        )

    # --- axes and text ---------------------------------------------------------------
    def y_axis(self, ticks: Sequence[float] | None = None, percent: bool = False) -> None:
        """Grid lines and labels at ``ticks`` (default :func:`nice_ticks` of the range)."""
        values = list(ticks) if ticks is not None else nice_ticks(self.y_lo, self.y_hi, 4)
        step = (values[1] - values[0]) if len(values) > 1 else 1.0
        x0, _, x1, _ = self.inner
        for value in values:
            if not self.y_lo <= value <= self.y_hi:
                continue
            y = _f(self.py(value))
            label = f"{value:.0%}" if percent else tick_label(value, step)
            self.parts.append(
                f"<path d='M{_f(x0)} {y}H{_f(x1)}' stroke='{GRID_COLOUR}' stroke-width='0.7'/>"
                f"<text x='{_f(x0 - 4)}' y='{y}' dy='3' text-anchor='end' font-size='9' "
                f"fill='{AXIS_COLOUR}'>{text(label)}</text>"
            )

    def x_axis(
        self,
        positions: Sequence[float],
        labels: Sequence[str],
        *,
        rotate: bool = False,
        bold: Sequence[bool] = (),
        colours: Sequence[str] = (),
    ) -> None:
        """Tick labels under the plot (rotated 35 degrees for long category names)."""
        x0, _, x1, y1 = self.inner
        self.parts.append(
            f"<path d='M{_f(x0)} {_f(y1)}H{_f(x1)}' stroke='{AXIS_COLOUR}' stroke-width='0.8'/>"
        )
        for i, (position, label) in enumerate(zip(positions, labels, strict=True)):
            x = _f(self.px(position))
            weight = " font-weight='bold'" if i < len(bold) and bold[i] else ""
            fill = colours[i] if i < len(colours) else AXIS_COLOUR
            if rotate:
                self.parts.append(
                    f"<text transform='translate({x} {_f(y1 + 9)}) rotate(-35)' "
                    f"text-anchor='end' font-size='9' fill='{fill}'{weight}>{text(label)}</text>"
                )
            else:
                self.parts.append(
                    f"<text x='{x}' y='{_f(y1 + 12)}' text-anchor='middle' font-size='9' "
                    f"fill='{fill}'{weight}>{text(label)}</text>"
                )

    def title(self, label: str, colour: str = "#1c2833") -> None:
        x0, _, _, _ = self.inner
        self.parts.append(
            f"<text x='{_f(x0)}' y='{_f(self.top + 13)}' font-size='11' font-weight='bold' "
            f"fill='{colour}'>{text(label)}</text>"
        )

    def legend(self, entries: Sequence[tuple[str, str]]) -> None:
        """Colour keys in one row under the title, right-aligned above the plotting
        rectangle (so they never hide a mark or the title; give the plot a top margin of
        32 px)."""
        _, _, x1, _ = self.inner
        x = x1 - 78 * len(entries)
        for i, (label, colour) in enumerate(entries):
            left = x + 78 * i
            self.parts.append(
                f"<rect x='{_f(left)}' y='{_f(self.top + 20)}' width='9' height='9' "
                f"fill='{colour}'/><text x='{_f(left + 12)}' y='{_f(self.top + 28)}' "
                f"font-size='9' fill='{AXIS_COLOUR}'>{text(label)}</text>"
            )

    def note(self, label: str) -> None:
        x0, y0, x1, y1 = self.inner
        self.parts.append(
            f"<text x='{_f((x0 + x1) / 2)}' y='{_f((y0 + y1) / 2)}' text-anchor='middle' "
            f"font-size='10' fill='{AXIS_COLOUR}'>{text(label)}</text>"
        )

    def render(self) -> str:
        return "".join(self.parts)


def svg_document(width: float, height: float, body: str, label: str) -> str:
    """An inline ``<svg>`` element of ``width`` x ``height`` px holding ``body``."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_f(width)}' height='{_f(height)}' "
        f"viewBox='0 0 {_f(width)} {_f(height)}' role='img' aria-label='{text(label)}' "
        f"font-family='{FONT}'>{body}</svg>"
    )
