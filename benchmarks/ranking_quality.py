"""Ranking quality at scale: the quality step of a generated N-row ranking day.

A ranking day cannot be reduced bucket by bucket of the id (a query's documents have
different ids): its joined rows are regrouped by query on disk and each query bucket is
reduced to NDCG sums (``checks/quality_ranking.py``, ``assets/query_buckets.py``). This
builds a day of ``--rows`` rows under ``benchmarks/out/ranking/`` (git-ignored): queries of
10 documents, zero-padded text ids, a uniform score, relevance 0-3, a 4-value ``country``
slice in the features, written 1M rows at a time so a 100M-row day is built within
memory. Then, in one run, it times the quality step in a process of its own
(``benchmarks/process_meter.py``: wall, peak RSS) bucketed as the job runs it and, with
``--whole`` (days that fit in memory), joined whole in one bucket, and checks that both
give the same rows (to 1e-12).

Usage: ``python benchmarks/ranking_quality.py [--rows 5000000] [--repeat 3] [--whole]
[--bucket-rows N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import yaml
from polars.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.process_meter import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "ranking"
DAY = dt.date(2026, 11, 3)
#: Rows generated (and written as one row group) at a time.
CHUNK_ROWS = 1_000_000
DOCUMENTS_PER_QUERY = 10
COUNTRIES = ("DE", "FR", "US", "IT")

#: The quality step of the contract's day, its rows written to the given parquet file;
#: ``sys.argv[3]`` the id-bucket size (the job's default when empty).
STEP_CODE = """
import sys, datetime as dt
from checks.contract_loader import load_contract
from assets.quality import quality_slis
contract = load_contract(sys.argv[1])
extra = {"bucket_rows": int(sys.argv[3])} if sys.argv[3] else {}
rows = quality_slis(contract, dt.date.fromisoformat(sys.argv[4]), **extra)
rows.write_parquet(sys.argv[2])
"""


def _chunk(offset: int, rows: int) -> dict[str, pl.DataFrame]:
    """Rows ``offset .. offset+rows`` of the three files, seeded by the offset."""
    rng = np.random.default_rng(offset)
    index = np.arange(offset, offset + rows)
    ids = pl.Series("id", index).cast(pl.String).str.pad_start(10, "0")
    return {
        "predictions": pl.DataFrame(
            {"id": ids, "score": rng.random(rows), "query": index // DOCUMENTS_PER_QUERY}
        ),
        "labels": pl.DataFrame({"id": ids, "rel": rng.integers(0, 4, rows).astype(float)}),
        "features": pl.DataFrame(
            {
                "id": ids,
                "country": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), rows)],
                "x": rng.random(rows),
            }
        ),
    }


def build_day(rows: int, out: Path) -> Path:
    """The day's files and contract under ``out`` (reused when already built)."""
    contract_path = out / "ranking.yaml"
    if contract_path.is_file():
        return contract_path
    model = out / "model"
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for offset in range(0, rows, CHUNK_ROWS):
            for source, frame in _chunk(offset, min(CHUNK_ROWS, rows - offset)).items():
                table = frame.to_arrow()
                if source not in writers:
                    (model / source).mkdir(parents=True, exist_ok=True)
                    path = model / source / f"{DAY}.parquet"
                    writers[source] = pq.ParquetWriter(path, table.schema, compression="zstd")
                writers[source].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    rng = np.random.default_rng(0)
    training = pl.DataFrame({"x": rng.random(1000), "country": rng.choice(COUNTRIES, 1000)})
    training.write_parquet(model / "training.parquet")
    contract = {
        "model": "ranking_bench",
        "type": "ranking",
        "version": "1",
        "owner": "bench@example.com",
        "sources": {
            "training": "model/training.parquet",
            "features": "model/features/{date}.parquet",
            "predictions": "model/predictions/{date}.parquet",
            "labels": "model/labels/{date}.parquet",
            "id_column": "id",
            "timestamp_column": "ts",
            "start_date": "2026-11-01",
        },
        "features": {"x": {"dtype": "Float64"}, "country": {"dtype": "String"}},
        "predictions": {"score": "score", "target": "rel", "ranking_group": "query"},
        "slices": ["country"],
    }
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    return contract_path


def _step(contract: Path, rows_file: Path, bucket_rows: int | None) -> Measure:
    cmd = [sys.executable, "-c", STEP_CODE, str(contract), str(rows_file)]
    cmd += [str(bucket_rows or ""), DAY.isoformat()]
    measure = timed(cmd, cwd=ROOT)
    if measure.exit_code != 0:
        raise SystemExit(f"quality step failed (exit {measure.exit_code}): {' '.join(cmd)}")
    return measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--whole", action="store_true", help="also join the day whole")
    parser.add_argument(
        "--bucket-rows", type=int, default=None, help="id-bucket size (default: the job's)"
    )
    args = parser.parse_args(argv)
    out = OUT / f"rows-{args.rows}"
    contract = build_day(args.rows, out)
    variants = {"bucketed": args.bucket_rows, **({"whole": args.rows + 1} if args.whole else {})}
    measures: dict[str, list[Measure]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, bucket_rows in variants.items():
            measures[name].append(_step(contract, out / f"{name}.parquet", bucket_rows))
    print(f"{args.rows} rows, medians of {args.repeat}:")
    for name, runs in measures.items():
        wall = statistics.median(m.wall for m in runs)
        rss = statistics.median(m.rss_mib for m in runs) / 1024
        print(f"  {name:9s} {wall:8.2f} s {rss:6.2f} GiB")
    if args.whole:
        bucketed, whole = (pl.read_parquet(out / f"{n}.parquet") for n in variants)
        keys = ["sli", "slice"]
        assert_frame_equal(bucketed.sort(keys), whole.sort(keys), check_exact=False, rel_tol=1e-12)
        print("  the same rows bucketed and whole")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
