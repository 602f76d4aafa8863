"""One ingest_ok row per source: a failed read wins over a successful one."""

from __future__ import annotations

import polars as pl

from checks.ingest_rows import one_ingest_row_per_source


def _rows(*rows: tuple[str, str | None, float]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["sli", "feature", "value"], orient="row")


def test_a_failed_ingest_row_replaces_the_read_one_of_its_source_only() -> None:
    slis = _rows(
        ("ingest_ok", "features", 1.0),
        ("ks", "x", 0.1),
        ("ingest_ok", "labels", 1.0),
        ("ingest_ok", "predictions", 1.0),
        ("accuracy", None, 0.9),
        ("ingest_ok", "labels", 0.0),
    )
    kept = one_ingest_row_per_source(slis)
    assert kept.rows() == [
        ("ingest_ok", "features", 1.0),
        ("ks", "x", 0.1),
        ("ingest_ok", "predictions", 1.0),
        ("accuracy", None, 0.9),
        ("ingest_ok", "labels", 0.0),
    ]


def test_rows_without_a_repeated_source_are_unchanged() -> None:
    slis = _rows(("ingest_ok", "features", 0.0), ("psi", "x", 0.3), ("psi", "x", 0.3))
    assert one_ingest_row_per_source(slis).equals(slis)
