"""Whole-job benchmark: one partition of ``datasre run`` against the read floor of its files.

Builds N-row days of the sample ``fraud_detection`` model (19 features, predictions,
labels, country slices) by tiling a clean sample day (default 2026-11-03) with unique
ids, written in row groups of at most 1M rows so that even a 100M-row day is generated
within memory, into ``benchmarks/out/partition/`` (git-ignored), with a copy of the
sample contract pointing at them. Then, in one run and interleaved, it times whole
processes (``benchmarks/process_meter.py``: wall, CPU, peak RSS summed over workers, an
upper bound, and the largest total RSS held at one moment, ``GiB at once``):

* ``floor``: read the day's three files whole (features, predictions, labels), the least
  any job that looks at every value must do (left out at 100M rows: it would hold the
  whole day, ~20 GiB);
* ``stream floor``: decode every value of the three files once, one row group at a time
  (nothing kept): the floor of a job whose memory must not grow with the day;
* ``datasre``: ``datasre run --model fraud_detection --partition DAY`` into a scratch
  store, the stored baseline profile warm (one untimed run first, as in production
  where the profile is built once per model version);
* ``reference`` (``--reference``, on by default up to 5M rows): what a user writes by
  hand with pandas + pandera + scipy per column (``benchmarks/partition_reference.py``);
* ``fixed``: the same job on a :data:`FIXED_ROWS`-row day, interleaved with the others:
  what every run pays whatever its day (starting Python, importing Dagster, scikit-learn
  and DuckDB, the Dagster run, the sampled multivariate fits), so that the job's cost
  *net* of it can be set against the floor too.

Medians of ``--repeat`` runs (default 3) with ratios to the floor, and the job's cost per
row at each size (linear cost: the per-row times within 1.5x of each other), whole and
net of the fixed cost (:func:`net_of_fixed`).
Usage: ``python benchmarks/partition.py [--rows 1000000,5000000] [--huge] [--repeat 3]
[--day 2026-11-03] [--no-reference] [--markdown] [--integer-ids]``; ``--huge`` adds a 100M-row day
(about 0.7 GB of zstd parquet, built in ~3 min; run once, no reference).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import os
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.process_meter import Measure, timed
from checks.stats.ks import MAX_EXACT_N

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
OUT = ROOT / "benchmarks" / "out" / "partition"
MODEL = "fraud_detection"
ID_COLUMN = "transaction_id"
#: One row group (and one generation chunk) holds at most this many rows.
CHUNK_ROWS = 1_000_000
HUGE_ROWS = 100_000_000
#: The sources a day has; each is tiled the same way so ids keep matching across them.
SOURCES = ("features", "predictions", "labels")
#: Rows of the day whose job measures the fixed cost of a run (its data takes ~0.1 s):
#: above :data:`checks.stats.ks.MAX_EXACT_N`, so that its drift takes the asymptotic KS
#: path the big days take (the exact one imports ``scipy.stats``, ~1.2 s here, which a
#: 1M-row day never pays: a 10,000-row day overstated the fixed cost by that much).
FIXED_ROWS = 2 * MAX_EXACT_N


def net_of_fixed(job_s: float, fixed_s: float, rows: int) -> tuple[float, float]:
    """(seconds, microseconds per row) of a ``rows``-row day's job beyond the fixed cost
    of a run (the job on a :data:`FIXED_ROWS`-row day), whose own rows are taken off."""
    net_s = max(0.0, job_s - fixed_s)
    return net_s, net_s / max(1, rows - FIXED_ROWS) * 1e6


#: ``--integer-ids``: a sample id's number (its digits, "tx-20261103-001766" -> 1766) is
#: below this, so ``number + copy * ID_STRIDE`` is unique.
ID_STRIDE = 1_000_000


def _tiled_chunk(
    sample: pl.DataFrame, offset: int, rows: int, *, integer_ids: bool = False
) -> pl.DataFrame:
    """Rows ``offset .. offset+rows`` of the sample repeated end to end; every id gets the
    number of its copy of the sample as a suffix, so ids stay unique within a source and
    equal across sources whatever each file's row order (the labels file is sorted by
    label time, not like the predictions: a row-position suffix matched almost no label).
    ``integer_ids``: Int64 ids instead (the sample id's number + copy * ID_STRIDE)."""
    start = offset % sample.height
    reps = math.ceil((start + rows) / sample.height)
    tiled = pl.concat([sample] * reps).slice(start, rows)
    copy = pl.int_range(offset, offset + rows, dtype=pl.Int64) // sample.height
    if integer_ids:
        number = pl.col(ID_COLUMN).str.extract(r"(\d+)$").cast(pl.Int64)
        return tiled.with_columns((number + copy * ID_STRIDE).alias(ID_COLUMN))
    return tiled.with_columns(
        pl.format("{}-{}", pl.col(ID_COLUMN), copy.cast(pl.String)).alias(ID_COLUMN)
    )


def build_day(rows: int, day: dt.date, *, integer_ids: bool = False) -> Path:
    """The contract of an N-row copy of ``day`` (built once per size and id type, reused
    after)."""
    folder = OUT / (f"rows-{rows}-integer-ids" if integer_ids else f"rows-{rows}")
    contract_path = folder / "contracts" / f"{MODEL}.yaml"
    done = folder / ".complete"
    if done.exists():
        return contract_path
    shutil.rmtree(folder, ignore_errors=True)
    for source in SOURCES:
        sample = pl.read_parquet(SAMPLES / MODEL / source / f"{day.isoformat()}.parquet")
        target = folder / MODEL / source / f"{day.isoformat()}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        writer: pq.ParquetWriter | None = None
        try:
            for offset in range(0, rows, CHUNK_ROWS):
                chunk = min(CHUNK_ROWS, rows - offset)
                table = _tiled_chunk(sample, offset, chunk, integer_ids=integer_ids).to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(target, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=CHUNK_ROWS)
        finally:
            if writer is not None:
                writer.close()
    contract: dict[str, Any] = yaml.safe_load((SAMPLES / "contracts" / f"{MODEL}.yaml").read_text())
    sources = contract["sources"]
    for key in ("training", "prediction_baseline"):
        sources[key] = str(SAMPLES / MODEL / Path(sources[key]).name)
    for source in SOURCES:
        sources[source] = str(folder / MODEL / source / "{date}.parquet")
    contract_path.parent.mkdir(parents=True, exist_ok=True)
    contract_path.write_text(yaml.safe_dump(contract, sort_keys=False))
    done.touch()
    return contract_path


def _day_files(contract_path: Path, day: dt.date) -> list[str]:
    folder = contract_path.parent.parent / MODEL
    return [str(folder / source / f"{day.isoformat()}.parquet") for source in SOURCES]


FLOOR_CODE = "import sys, polars as pl; frames = [pl.read_parquet(p) for p in sys.argv[1:]]"
STREAM_FLOOR_CODE = """
import sys, polars as pl, pyarrow.parquet as pq
for path in sys.argv[1:]:
    scan, offset = pl.scan_parquet(path), 0
    for group in range(pq.ParquetFile(path).num_row_groups):
        rows = pq.ParquetFile(path).metadata.row_group(group).num_rows
        scan.slice(offset, rows).collect()
        offset += rows
"""


def _fresh_store(contract_path: Path) -> Path:
    """The day's scratch SLI store and state directory, emptied."""
    db = contract_path.parent.parent / "bench.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(db.with_suffix(".state"), ignore_errors=True)
    return db


def _commands(
    contract_path: Path, day: dt.date, db: Path, reference: bool, *, huge: bool
) -> dict[str, list[str]]:
    datasre = str(Path(sys.executable).with_name("datasre"))
    files = _day_files(contract_path, day)
    commands = {
        "floor": [sys.executable, "-c", FLOOR_CODE, *files],
        "stream floor": [sys.executable, "-c", STREAM_FLOOR_CODE, *files],
        "datasre": [
            datasre,
            "run",
            "--config",
            str(contract_path),
            "--db",
            str(db),
            "--model",
            MODEL,
            "--partition",
            day.isoformat(),
            "--quiet",
        ],
    }
    if huge:
        del commands["floor"]
    if reference:
        commands["reference"] = [
            sys.executable,
            str(ROOT / "benchmarks" / "partition_reference.py"),
            str(contract_path),
            day.isoformat(),
        ]
    return commands


def _environment() -> dict[str, str]:
    """An ephemeral Dagster instance (no DAGSTER_HOME), no telemetry."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    return env


def _median(measures: list[Measure]) -> tuple[float, float, float]:
    """Medians of the wall time, the summed peak memory and the memory held at once."""
    return (
        statistics.median(m.wall for m in measures),
        statistics.median(m.rss_mib for m in measures),
        statistics.median(m.rss_at_once_mib for m in measures),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", default="1000000,5000000", help="comma-separated day sizes")
    parser.add_argument("--huge", action="store_true", help=f"also a {HUGE_ROWS:,}-row day")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day", default="2026-11-03", help="the clean sample day to tile")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the pandas+pandera+scipy job"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--integer-ids", action="store_true", help="Int64 transaction ids instead of text"
    )
    args = parser.parse_args()
    day = dt.date.fromisoformat(args.day)
    sizes = [int(x) for x in args.rows.split(",") if x]
    if args.huge:
        sizes.append(HUGE_ROWS)
    env = _environment()
    print(f"building the {FIXED_ROWS:,}-row day of the fixed cost ...", file=sys.stderr)
    fixed_contract = build_day(FIXED_ROWS, day, integer_ids=args.integer_ids)
    fixed_db = _fresh_store(fixed_contract)
    fixed = _commands(fixed_contract, day, fixed_db, reference=False, huge=False)["datasre"]
    timed(fixed, cwd=ROOT, env=env)  # its stored profile, built once
    results: list[tuple[int, dict[str, tuple[float, float, float]]]] = []
    for rows in sizes:
        print(f"building a {rows:,}-row day ...", file=sys.stderr, flush=True)
        contract_path = build_day(rows, day, integer_ids=args.integer_ids)
        db = _fresh_store(contract_path)
        reference = not args.no_reference and rows <= 5_000_000
        commands = _commands(contract_path, day, db, reference, huge=rows >= HUGE_ROWS)
        commands["fixed"] = fixed
        # Warm: the first run builds the stored baseline profile (once per version).
        timed(commands["datasre"], cwd=ROOT, env=env)
        repeat = 1 if rows >= HUGE_ROWS else args.repeat
        measures: dict[str, list[Measure]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, cmd in commands.items():
                print(f"  {rows:,} rows: {name} ...", file=sys.stderr, flush=True)
                measures[name].append(timed(cmd, cwd=ROOT, env=env))
        results.append((rows, {name: _median(m) for name, m in measures.items()}))
    _print(results, markdown=args.markdown)
    return 0


def _print(
    results: list[tuple[int, dict[str, tuple[float, float, float]]]], *, markdown: bool
) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    header = (
        "rows",
        "floor s",
        "floor GiB",
        "stream floor s",
        "stream floor GiB",
        "datasre s",
        "datasre GiB",
        "datasre GiB at once",
        "x floor",
        "x stream floor",
        "datasre µs/row",
        "reference s",
        "reference GiB",
        "reference x datasre",
        "fixed s",
        "net s",
        "net x floor",
        "net x stream floor",
        "net µs/row",
    )
    lines = []
    for rows, m in results:
        floor = m.get("floor")
        stream_s, stream_mib, _ = m["stream floor"]
        job_s, job_mib, job_at_once_mib = m["datasre"]
        ref = m.get("reference")
        fixed_s = m["fixed"][0]
        net_s, net_us = net_of_fixed(job_s, fixed_s, rows)
        lines.append(
            (
                f"{rows:,}",
                f"{floor[0]:.2f}" if floor else "-",
                f"{floor[1] / 1024:.2f}" if floor else "-",
                f"{stream_s:.2f}",
                f"{stream_mib / 1024:.2f}",
                f"{job_s:.2f}",
                f"{job_mib / 1024:.2f}",
                f"{job_at_once_mib / 1024:.2f}",
                f"{job_s / floor[0]:.1f}" if floor else "-",
                f"{job_s / stream_s:.1f}",
                f"{job_s / rows * 1e6:.2f}",
                f"{ref[0]:.2f}" if ref else "-",
                f"{ref[1] / 1024:.2f}" if ref else "-",
                f"{ref[0] / job_s:.1f}" if ref else "-",
                f"{fixed_s:.2f}",
                f"{net_s:.2f}",
                f"{net_s / floor[0]:.1f}" if floor else "-",
                f"{net_s / stream_s:.1f}",
                f"{net_us:.2f}",
            )
        )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + " --- |" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for line in lines:
            print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
    per_row = [m["datasre"][0] / rows for rows, m in results]
    if len(per_row) > 1:
        print(f"per-row cost spread (max/min): {max(per_row) / min(per_row):.2f}x (target <= 1.5x)")
        # What each added row costs, without the start-up every run pays once.
        ordered = sorted((rows, m["datasre"][0]) for rows, m in results)
        steps = [
            f"{a:,} -> {b:,}: {(tb - ta) / (b - a) * 1e6:.2f} µs/row"
            for (a, ta), (b, tb) in itertools.pairwise(ordered)
        ]
        print("marginal cost per added row: " + "; ".join(steps))
        net = [net_of_fixed(m["datasre"][0], m["fixed"][0], rows)[1] for rows, m in results]
        if min(net) > 0:
            print(f"net of the fixed cost, per-row spread (max/min): {max(net) / min(net):.2f}x")
    print(f"load average {load}")


if __name__ == "__main__":
    sys.exit(main())
