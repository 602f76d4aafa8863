"""The drift asset's two engines on big days: time, peak memory, and how far apart.

Builds N-row days of the sample ``fraud_detection`` model with
:func:`benchmarks.partition.build_day` (tiled sample days in 1M-row row groups, under
``benchmarks/out/partition/``, git-ignored), then times whole processes
(``benchmarks/process_meter.py``: wall, CPU, peak RSS summed over workers) that run the
drift asset's body, :func:`assets.drift.drift_slis`, on the day's features and
predictions with the stored profile warm, once per engine:

* ``exact``: ``drift.memory_budget_mb`` huge, so the exact engine runs;
* ``sketch``: a budget of 8 MiB, above the profiles' whole build (the sample's training
  files are small) and below any big day, so the sketch engine streams the row groups.

Medians of ``--repeat`` runs (default 3), interleaved. Then it compares the two runs'
rows: every KS row's exact statistic must lie in the sketch row's interval, PSI and the
chi-square rows must agree, and it prints the widest bound seen.
Days above ``--sketch-only-above`` rows (default 20M) run the sketch engine only (the
exact one would need ~11 GiB at 100M rows) and are compared with the exact rows of the
largest smaller day: a tiled day repeats the same sample day, so every size has the same
distribution and the exact statistics are equal.
Usage: ``python benchmarks/drift_engine.py [--rows 5000000,100000000] [--repeat 3]
[--day 2026-11-03] [--sketch-only-above 20000000] [--markdown]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.partition import build_day
from benchmarks.process_meter import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
#: Budgets per engine (MiB): above every day here, and between the profiles and any day.
BUDGETS = {"exact": 1e9, "sketch": 8.0}
BOUNDS = re.compile(r"lies in \[([^,]+), ([^\]]+)\]")


def run_once(contract_path: str, day: str, engine: str, out: str) -> int:
    """The measured process: the drift asset's body for one day under one engine."""
    from assets.drift import drift_slis
    from checks.contract import load_contract
    from checks.contract_sections import DriftSettings

    contract = load_contract(contract_path)
    contract = contract.model_copy(
        update={"drift": DriftSettings(memory_budget_mb=BUDGETS[engine])}
    )
    profiles = Path(contract_path).parent.parent / "profiles"
    drift_slis(contract, dt.date.fromisoformat(day), profiles).write_parquet(out)
    return 0


def compare(exact: pl.DataFrame, sketch: pl.DataFrame) -> tuple[float, float, float]:
    """(widest KS bound, largest |PSI or chi2 difference|, KS misses: exact outside)."""
    keys = ["category", "sli", "feature"]
    joined = exact.join(sketch, on=keys, suffix="_s", nulls_equal=True)
    widest = misses = 0.0
    worst = 0.0
    for row in joined.filter(pl.col("feature").is_not_null()).iter_rows(named=True):
        if row["value"] is None:
            continue
        if row["sli"] == "ks":
            match = BOUNDS.search(str(row["detail_s"]))
            assert match is not None, row["detail_s"]
            low, high = float(match.group(1)), float(match.group(2))
            widest = max(widest, high - low)
            if not low * (1 - 1e-5) <= row["value"] <= high * (1 + 1e-5):
                misses += 1
        elif row["sli"] in {"psi", "chi2"}:
            worst = max(worst, abs(row["value"] - row["value_s"]))
    return widest, worst, misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", default="5000000", help="comma-separated day sizes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day", default="2026-11-03", help="the clean sample day to tile")
    parser.add_argument(
        "--sketch-only-above",
        type=int,
        default=20_000_000,
        help="days larger than this run the sketch engine only, compared with the exact "
        "rows of the largest smaller day (tiled days have the same distribution)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--run", nargs=4, metavar=("CONTRACT", "DAY", "ENGINE", "OUT"))
    args = parser.parse_args()
    if args.run:
        return run_once(*args.run)
    day = dt.date.fromisoformat(args.day)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    lines = []
    reference: Path | None = None  # exact rows of the largest day that ran both engines
    for rows in sorted(int(x) for x in args.rows.split(",") if x):
        print(f"building a {rows:,}-row day ...", file=sys.stderr, flush=True)
        contract_path = build_day(rows, day)
        folder = contract_path.parent.parent
        outs = {engine: folder / f"drift-{engine}.parquet" for engine in BUDGETS}
        commands = {
            engine: [
                sys.executable,
                __file__,
                "--run",
                str(contract_path),
                day.isoformat(),
                engine,
                str(outs[engine]),
            ]
            for engine in BUDGETS
        }
        if rows > args.sketch_only_above:
            del commands["exact"]
        timed(commands["sketch"], cwd=ROOT, env=env)  # warm: builds the stored profiles
        measures: dict[str, list[Measure]] = {engine: [] for engine in commands}
        for _ in range(args.repeat):
            for engine, cmd in commands.items():
                print(f"  {rows:,} rows: {engine} ...", file=sys.stderr, flush=True)
                measures[engine].append(timed(cmd, cwd=ROOT, env=env))
        if "exact" in commands:
            reference = outs["exact"]
        assert reference is not None, "the smallest day must run both engines"
        widest, worst, misses = compare(pl.read_parquet(reference), pl.read_parquet(outs["sketch"]))
        for engine, got in measures.items():
            wall = statistics.median(m.wall for m in got)
            cpu = statistics.median(m.cpu for m in got)
            rss = statistics.median(m.rss_mib for m in got)
            lines.append(
                (
                    f"{rows:,}",
                    engine,
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    f"{rss:,.0f}",
                    f"{wall / rows * 1e6:.2f}",
                )
            )
        print(
            f"{rows:,} rows: widest KS bound {widest:.2e}, KS rows with the exact value outside "
            f"the interval {misses:.0f}, largest PSI/chi2 difference {worst:.2e}",
            file=sys.stderr,
        )
        lines.append(
            (
                f"{rows:,}",
                "agreement",
                f"KS bound <= {widest:.2e}",
                f"{misses:.0f} misses",
                f"PSI/chi2 diff {worst:.1e}",
                "",
            )
        )
    header = ("rows", "engine", "wall s", "CPU s", "peak RSS MiB", "µs/row")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + " --- |" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        for line in [header, *lines]:
            print("  ".join(f"{c:>14}" for c in line))
    print("load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
