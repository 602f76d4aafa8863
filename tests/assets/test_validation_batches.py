"""The validation pass reads a day in batches of bounded size whatever its row groups: the
same bad day written as one row group or as many gives the rows of the checks run alone on
the whole frame (counts, examples, repeated ids), through either reader of
:func:`assets.row_groups.snapshot_batches` and either path of the id count."""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from pytest import MonkeyPatch

from assets import row_groups
from assets.row_groups import snapshot_batches
from assets.validation import validation_slis
from checks.completeness import completeness_sli_rows
from checks.contract import load_contract
from checks.feature_pass import feature_pass
from checks.freshness import evaluation_time, freshness_sli_rows
from checks.hash_repeats import HashRepeats
from checks.schema_validation import schema_sli_rows, validate_snapshot
from tests.fixtures import FIRST_DAY, make_features, write_model

NOW = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=3), dt.time(), tzinfo=dt.UTC)
N = 6_000


def _bad_day() -> pl.DataFrame:
    """Nulls, NaN, out-of-range values, unseen categories and repeated ids at random rows,
    spread over the whole day (so over many batches)."""
    rng = np.random.default_rng(7)
    frame = make_features(N, FIRST_DAY, seed=7)

    def spoil(column: str, share: float, value: object) -> pl.Expr:
        hit = pl.Series(rng.uniform(0, 1, N) < share)
        dtype = frame.schema[column]
        return pl.when(hit).then(pl.lit(value, dtype=dtype)).otherwise(pl.col(column)).alias(column)

    frame = frame.with_columns(spoil("x", 0.01, None), spoil("k", 0.02, 9), spoil("c", 0.01, "zz"))
    frame = frame.with_columns(spoil("x", 0.005, float("nan")))
    frame = frame.with_columns(spoil("x", 0.01, -4.5))
    repeats = pl.Series(rng.integers(0, N, N)).cast(pl.String)
    return frame.with_columns(
        pl.when(pl.Series(rng.uniform(0, 1, N) < 0.004))
        .then(pl.lit(f"{FIRST_DAY.isoformat()}-") + repeats)
        .otherwise(pl.col("id"))
        .alias("id")
    )


@pytest.mark.parametrize("row_group_rows", [N, 700])
@pytest.mark.parametrize("reader", ["polars slices", "pyarrow"])
@pytest.mark.parametrize("id_count", ["kept", "bitmap"])
def test_one_row_group_or_many_give_the_rows_of_the_checks_run_alone(
    row_group_rows: int, reader: str, id_count: str, tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    contract = load_contract(write_model(tmp_path, days=1, rows=100))
    bad = _bad_day()
    path = tmp_path / "day.parquet"
    bad.write_parquet(path, row_group_size=row_group_rows)
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-N // row_group_rows)
    if reader == "pyarrow":
        monkeypatch.setattr(row_groups, "SLICE_MAX_COMPRESSED_BYTES", 0)
    if id_count == "bitmap":
        bitmap = functools.partial(HashRepeats, keep_max_rows=0)
        monkeypatch.setattr("checks.feature_pass.HashRepeats", bitmap)
    reads: list[list[str]] = []

    def batches(columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        reads.append(list(columns))
        return snapshot_batches([str(path)], columns, batch_rows=512)

    as_of = evaluation_time(contract, FIRST_DAY, NOW)
    trained = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    got = feature_pass(
        contract, pl.scan_parquet(path), as_of=as_of, trained_until=trained, batches=batches
    )
    alone = [
        *schema_sli_rows(contract, validate_snapshot(contract, bad)),
        *completeness_sli_rows(contract, bad),
        *freshness_sli_rows(contract, bad, as_of=as_of, trained_until=trained),
    ]
    assert got.n_rows == N
    assert got.rows == alone
    validity = next(row for row in got.rows if row.sli == "schema_validity")
    assert validity.detail is not None and "e.g." in validity.detail  # examples found
    duplicates = next(row for row in got.rows if row.sli == "duplicate_id_rate")
    assert duplicates.value == (N - bad.get_column("id").n_unique()) / N > 0
    # One pass over every column the checks read; the bitmap adds one over the ids alone.
    assert reads[0] == ["id", "event_ts", "x", "k", "c"]
    assert reads[1:] == ([["id"]] if id_count == "bitmap" else [])


def test_batches_of_a_row_group_are_the_file_in_order(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    frame = make_features(3_000, FIRST_DAY, seed=3)
    path = tmp_path / "day.parquet"
    frame.write_parquet(path, row_group_size=1_100)
    for limit in (row_groups.SLICE_MAX_COMPRESSED_BYTES, 0):
        monkeypatch.setattr(row_groups, "SLICE_MAX_COMPRESSED_BYTES", limit)
        batches = list(snapshot_batches([str(path), str(path)], ["c", "x", "id"], batch_rows=500))
        # 3 row groups of 1,100, 1,100 and 800 rows: 3 + 3 + 2 batches per file.
        assert [b.height for b in batches] == [500, 500, 100, 500, 500, 100, 500, 300] * 2
        assert pl.concat(batches).equals(pl.concat([frame, frame]).select("c", "x", "id"))


_MEASURE = """
import datetime as dt, sys
from assets.validation import validation_slis
from checks.contract import load_contract

def status_mib(field):  # this process's own (ru_maxrss keeps the parent's across exec)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024

contract = load_contract(sys.argv[1])
before = status_mib("VmRSS:")
now = dt.datetime.fromisoformat(sys.argv[3])
rows = validation_slis(contract, dt.date.fromisoformat(sys.argv[2]), now)
assert rows.filter(rows["sli"] == "ingest_ok")["value"].to_list() == [1.0, 1.0], rows
print(before, status_mib("VmHWM:") - before)
"""


@pytest.mark.slow
def test_a_day_in_one_large_row_group_is_validated_in_bounded_memory(tmp_path: Path) -> None:
    """5M rows in one row group (~300 MiB decoded). Measured (jemalloc returning freed
    pages at once, so that RSS is what is in use): polars' streaming engine over the whole
    scan, the pass before batches, held the group: +430 MiB; in batches: +130 MiB."""
    contract = write_model(tmp_path, days=1, rows=100)
    n = 5_000_000
    rng = np.random.default_rng(0)
    start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=dt.UTC)
    day = pl.DataFrame(
        {
            "id": pl.int_range(n, eager=True).cast(pl.String),
            "event_ts": pl.Series(np.sort(rng.integers(0, 86_400_000_000, n))).cast(
                pl.Duration("us")
            )
            + start,
            "x": rng.normal(10.0, 2.0, n),
            "k": rng.integers(0, 5, n),
            "c": rng.choice(["a", "b", "c"], n),
        }
    )
    path = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    day.write_parquet(path, row_group_size=n)
    del day
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    env = {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(contract), FIRST_DAY.isoformat(), NOW.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    grew_mib = float(out.stdout.split()[-1])
    assert grew_mib < 200, out.stdout


def test_a_day_without_any_declared_column_still_counts_its_rows(tmp_path: Path) -> None:
    contract = load_contract(write_model(tmp_path, days=1, rows=50))
    day = tmp_path / "toy" / "features" / f"{FIRST_DAY}.parquet"
    pl.DataFrame({"other": range(1_000)}).write_parquet(day)
    rows = validation_slis(contract, FIRST_DAY, NOW).filter(pl.col("feature").is_null())
    assert rows.select("sli", "value", "n_rows").rows()[:2] == [
        ("schema_valid", 0.0, 1_000),
        ("schema_validity", 1.0, 1_000),
    ]
