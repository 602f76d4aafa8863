"""The streaming schema pass equals pandera's verdict, and reads a day batch by batch.

pandera (polars backend) is the reference: on a collected bad frame, its failure cases
give the rows per (column, check), the first examples and the invalid-row count, and the
streaming pass (:class:`checks.schema_validation.SchemaPass`) must give the same, whether it
gets the frame or a lazy scan of a parquet file in many row groups.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandera.errors as pa_errors
import polars as pl
import pytest

from checks.contract import Contract
from checks.scalars import collect_scalars
from checks.schema_validation import SchemaPass, schema_sli_rows, validate_snapshot
from checks.schemas import EXAMPLES_PER_CHECK, build_schema
from tests.fixtures import FIRST_DAY, contract_dict, make_features

N = 5_000


def _contract() -> Contract:
    features = {
        **contract_dict()["features"],
        "k": {"dtype": "Int64", "nullable": False, "min": 0, "max": 4},
        "y": {"dtype": "Float64", "nullable": True, "min": -1, "max": 1},
    }
    return Contract.model_validate(contract_dict(features=features))


def _bad_day(seed: int) -> pl.DataFrame:
    """Every kind of failure at random rows, overlapping: NaN, null, out of range, inf,
    unseen categories, null and repeated ids (some on rows failing other checks too)."""
    rng = np.random.default_rng(seed)
    frame = make_features(N, FIRST_DAY, seed=seed).with_columns(
        pl.Series("y", rng.uniform(-1.0, 1.0, N))
    )

    def spoil(column: str, share: float, value: object) -> pl.Expr:
        hit = pl.Series(rng.uniform(0, 1, N) < share)
        dtype = frame.schema[column]
        return pl.when(hit).then(pl.lit(value, dtype=dtype)).otherwise(pl.col(column)).alias(column)

    frame = frame.with_columns(spoil("x", 0.01, float("nan")))
    frame = frame.with_columns(spoil("x", 0.01, None))
    frame = frame.with_columns(spoil("x", 0.02, -3.5))
    frame = frame.with_columns(spoil("x", 0.005, float("inf")))
    frame = frame.with_columns(spoil("k", 0.01, 9))
    frame = frame.with_columns(spoil("k", 0.01, None))
    frame = frame.with_columns(spoil("y", 0.02, float("nan")))
    frame = frame.with_columns(spoil("y", 0.01, 7.25))
    frame = frame.with_columns(spoil("c", 0.01, "zebra"))
    frame = frame.with_columns(spoil("c", 0.01, None))
    frame = frame.with_columns(spoil("id", 0.003, None))
    repeats = pl.Series(rng.integers(0, N, N)).cast(pl.String)
    return frame.with_columns(
        pl.when(pl.Series(rng.uniform(0, 1, N) < 0.01))
        .then(pl.lit("2026-11-01-") + repeats)
        .otherwise(pl.col("id"))
        .alias("id")
    )


def _pandera_summary(
    contract: Contract, frame: pl.DataFrame
) -> tuple[dict[tuple[str, str], tuple[int, tuple[str, ...]]], int]:
    """(rows and first examples per (column, check), invalid rows) as pandera sees them."""
    try:
        build_schema(contract).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null()).sort("index")
        summary = cases.group_by("column", "check", maintain_order=True).agg(
            pl.col("index").n_unique().alias("n"),
            pl.col("failure_case").head(EXAMPLES_PER_CHECK).alias("examples"),
        )
        per_check = {
            (r["column"], r["check"]): (r["n"], tuple(map(str, r["examples"])))
            for r in summary.iter_rows(named=True)
        }
        return per_check, cases.select(pl.col("index").n_unique()).item()
    return {}, 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_streaming_pass_counts_and_examples_equal_pandera_on_a_bad_day(
    seed: int, tmp_path: Path
) -> None:
    contract = _contract()
    frame = _bad_day(seed)
    expected, expected_invalid = _pandera_summary(contract, frame)
    assert len(expected) == 8 and expected_invalid > 300  # the day is really bad
    path = tmp_path / "day.parquet"
    frame.write_parquet(path, row_group_size=700)  # many batches
    for source in (frame, pl.scan_parquet(path)):
        report = validate_snapshot(contract, source)
        got = {(f.column, f.check): (f.n_rows, f.examples) for f in report.failures}
        assert got == expected
        assert report.n_invalid_rows == expected_invalid
        assert report.n_duplicate_ids == N - frame.get_column("id").n_unique()
        assert not report.errors


def test_a_clean_day_scanned_lazily_in_row_groups_is_valid(tmp_path: Path) -> None:
    contract = _contract()
    frame = make_features(N, FIRST_DAY).with_columns(pl.lit(0.5).alias("y"))
    path = tmp_path / "day.parquet"
    frame.write_parquet(path, row_group_size=1000)
    report = validate_snapshot(contract, pl.scan_parquet(path))
    assert (report.n_rows, report.n_invalid_rows, report.failures) == (N, 0, ())
    rows = schema_sli_rows(contract, report)
    assert [(r.sli, r.value) for r in rows] == [
        ("schema_valid", 1.0),
        ("schema_validity", 1.0),
        ("duplicate_id_rate", 0.0),
    ]


def test_a_hash_collision_among_unique_ids_is_settled_by_the_exact_count() -> None:
    contract = _contract()
    frame = make_features(N, FIRST_DAY).with_columns(pl.lit(0.5).alias("y"))
    plan = SchemaPass.plan(contract, frame.schema)
    measured = collect_scalars(frame, plan.exprs(), apart=plan.apart_exprs(), derived=plan.masks())
    assert measured["__schema_distinct_id_hashes"] == N
    measured["__schema_distinct_id_hashes"] = N - 1  # as if two ids shared a hash
    report = plan.report(frame.lazy(), measured)
    assert (report.n_duplicate_ids, report.n_invalid_rows, report.failures) == (0, 0, ())
