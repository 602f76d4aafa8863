"""The report's SVG drawing layer: ticks, coordinates, gaps and escaping by hand."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from assets.report.svg import Plot, nice_ticks, svg_document, tick_label


def test_nice_ticks_are_round_steps_covering_the_range() -> None:
    # Step: the first of 1, 2, 5 x 10^k at least (hi - lo) / (count - 1).
    assert nice_ticks(0.0, 1.0, 5) == [0.0, 0.5, 1.0]  # 0.25 -> 0.5
    assert nice_ticks(0.0, 1.0, 11) == [round(0.1 * k, 12) for k in range(11)]
    assert nice_ticks(-0.35, 1.0, 4) == [0.0, 0.5, 1.0]  # 0.45 -> 0.5, from ceil(-0.7) = 0
    assert nice_ticks(0.0, 129600.0, 4) == [0.0, 50000.0, 100000.0]
    assert nice_ticks(3.0, 3.0) == [3.0]
    assert nice_ticks(0.0, math.inf) == []
    assert tick_label(0.25, 0.25) == "0.25"
    assert tick_label(100000.0, 50000.0) == "100000"
    assert tick_label(2e6, 1e6) == "2e+06"


def test_plot_maps_data_to_the_inner_rectangle() -> None:
    plot = Plot(200, 100, 0.0, 10.0, 0.0, 1.0, margin=(20, 10, 10, 10))
    assert plot.inner == (20, 10, 190, 90)
    assert (plot.px(0.0), plot.px(10.0), plot.px(5.0)) == (20.0, 190.0, 105.0)
    assert (plot.py(0.0), plot.py(1.0), plot.py(0.5)) == (90.0, 10.0, 50.0)
    assert plot.py(7.0) == 10.0  # clipped to the top


def test_a_missing_or_infinite_value_breaks_the_line() -> None:
    plot = Plot(200, 100, 0.0, 4.0, 0.0, 1.0)
    plot.polyline([0, 1, 2, 3, 4], [0.1, 0.2, None, math.inf, 0.5], "#000")
    plot.polyline([0, 1, 2], [0.1, None, 0.3], "#000")
    paths = [p for p in plot.parts if "class='series'" in p]
    assert len(paths) == 1  # only 0-1 has two points in a row
    assert paths[0].count("L") == 1


def test_labels_are_text_and_the_document_is_well_formed_xml() -> None:
    plot = Plot(200, 100, 0.0, 1.0, 0.0, 1.0)
    hostile = "<script>alert('x')</script> & \x1b[31m"
    plot.title(hostile)
    plot.x_axis([0.5], [hostile], rotate=True)
    plot.legend([(hostile, "#000")])
    document = svg_document(200, 100, plot.render(), hostile)
    root = ET.fromstring(document)  # parses: nothing unescaped
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("<script>alert('x')</script> & \\x1b[31m") == 3
    assert root.attrib["aria-label"] == "<script>alert('x')</script> & \\x1b[31m"
    assert not list(root.iter("script"))
