"""Do a big day's SLI rows agree with the exact engine's on a subsample of it?

Issue 14's check of the out-of-core job: ``datasre run`` on a big tiled day (default
100M rows, the sketch engine and the sampled readers at work) against ``datasre run`` on
its first ``--small`` rows (default 5M) with the drift budget raised so the exact engine
runs. Both days are built by ``benchmarks/partition.py`` from the same sample day, and
the small one is the big one's first rows (the same ids), so every row-share statistic
(null rates, schema counts, PSI, chi-square, quality metrics) has the same true value on
both, and the big day's rows must agree with the small day's within what they document:

* KS and Wasserstein from the sketch engine: the exact value lies in the interval the
  row's detail states (``[d, d + b]``, ``[w - h, w + h]``; printed to 4 significant
  digits, so compared with that rounding);
* SLIs measured on a sample (``importance_weighted_drift``, the multivariate SLIs, the
  estimated quality): within :data:`SAMPLED_TOLERANCE`, except the domain classifier's
  AUC: two runs fit it on different 3,000-row samples, so each AUC carries the null
  standard deviation its row states (``sd`` in the detail, ~0.011) and their difference
  ~sqrt(2) of it; it must be within :data:`AUC_SD_MULTIPLIER` x sqrt(2) x that sd (the
  same 4 sd the SLI's own threshold allows for noise);
* counts that scale with the day (``throughput_rows``): big = small x (big / small rows);
* everything else: equal within 1e-9 (relative).

Usage: ``python benchmarks/agreement.py [--big 100000000] [--small 5000000]
[--day 2026-11-03] [--big-budget-mb MB]``; prints one line per rule with how many rows
agree, and the big run's time and peak memory; exits 1 when a row disagrees. The big day
takes ~3 min to build (0.7 GB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.partition import MODEL, _environment, build_day
from benchmarks.process_meter import timed

ROOT = Path(__file__).resolve().parent.parent
#: |big - small| allowed for an SLI measured on a sample of the day.
SAMPLED_TOLERANCE = 0.02
SAMPLED_SLIS = frozenset(
    {"importance_weighted_drift", "domain_classifier_auc", "pca_reconstruction_error"}
)
SCALED_SLIS = frozenset({"throughput_rows"})
#: Null standard deviations (of the difference of two sampled AUCs) allowed between runs.
AUC_SD_MULTIPLIER = 4.0
_NULL_SD = re.compile(r"x sd ([0-9.]+)")
_INTERVAL = re.compile(r"lies in \[([-+0-9.e]+), ([-+0-9.e]+)\]")
_KEY = ("category", "sli", "feature", "slice")


def _with_budget(contract_path: Path, budget_mb: float, name: str) -> Path:
    """A copy of a day's contract (in its own folder, ``name``.yaml, so ``--config`` of
    the folder sees one contract) with ``drift.memory_budget_mb`` set."""
    contract: dict[str, Any] = yaml.safe_load(contract_path.read_text())
    contract.setdefault("drift", {})["memory_budget_mb"] = budget_mb
    folder = contract_path.parent.parent / f"contracts_{name}"
    folder.mkdir(exist_ok=True)
    copy = folder / f"{MODEL}.yaml"
    copy.write_text(yaml.safe_dump(contract, sort_keys=False))
    return copy


def _run(contract: Path, day: dt.date, db: Path) -> tuple[float, float]:
    """``datasre run`` of the day into a fresh store; wall seconds and peak MiB."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    datasre = str(Path(sys.executable).with_name("datasre"))
    command = [datasre, "run", "--config", str(contract), "--db", str(db)]
    command += ["--model", MODEL, "--partition", day.isoformat(), "--quiet"]
    measure = timed(command, cwd=ROOT, env=_environment())
    return measure.wall, measure.rss_mib


def _rows(db: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        cursor = connection.execute(
            "select category, sli, feature, slice, value, detail from sli_latest"
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {tuple(row[k] for k in _KEY): row for row in rows}


def _rounded_interval(detail: str) -> tuple[float, float] | None:
    """The ``lies in [lo, hi]`` interval of a detail, widened by its printing (4 sig. digits)."""
    match = _INTERVAL.search(detail or "")
    if match is None:
        return None
    low, high = float(match.group(1)), float(match.group(2))
    slack = 5e-4 * max(abs(low), abs(high)) + 1e-12
    return low - slack, high + slack


def _verdict(big: dict[str, Any], small: dict[str, Any], ratio: float) -> tuple[str, bool]:
    """The rule that applies to a pair of rows, and whether it holds."""
    b, s = big["value"], small["value"]
    if b is None or s is None:
        return "both unmeasured", b is None and s is None
    if big["sli"] in SCALED_SLIS:
        return "scales with the day", math.isclose(b, s * ratio, rel_tol=1e-9)
    null_sd = _NULL_SD.search(small["detail"] or "")
    if big["sli"] == "domain_classifier_auc" and null_sd is not None:
        allowed = AUC_SD_MULTIPLIER * math.sqrt(2) * float(null_sd.group(1))
        return "sampled AUC, within 4 x sqrt(2) x its null sd", abs(b - s) <= allowed
    if big["sli"] in SAMPLED_SLIS or big["category"] == "estimated_quality":
        return f"sampled, within {SAMPLED_TOLERANCE}", abs(b - s) <= SAMPLED_TOLERANCE
    interval = _rounded_interval(big["detail"])
    if interval is not None:
        return "sketch interval holds the exact value", interval[0] <= s <= interval[1]
    return "equal", math.isclose(b, s, rel_tol=1e-9, abs_tol=1e-12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--big", type=int, default=100_000_000)
    parser.add_argument("--small", type=int, default=5_000_000)
    parser.add_argument("--day", default="2026-11-03")
    parser.add_argument(
        "--big-budget-mb",
        type=float,
        default=None,
        help="the big day's drift.memory_budget_mb (default: unset, the built-in budget); "
        "a tiny one forces the sketch engine on a small big day",
    )
    args = parser.parse_args(argv)
    day = dt.date.fromisoformat(args.day)
    big_contract, small_contract = build_day(args.big, day), build_day(args.small, day)
    if args.big_budget_mb is not None:
        big_contract = _with_budget(big_contract, args.big_budget_mb, "budget")
    out = big_contract.parent.parent
    wall, rss = _run(big_contract, day, out / "agreement_big.duckdb")
    print(f"big day, {args.big:,} rows: {wall:.1f} s, peak {rss / 1024:.2f} GiB", flush=True)
    small_db = small_contract.parent.parent / "agreement_exact.duckdb"
    _run(_with_budget(small_contract, 1_000_000, "exact"), day, small_db)
    big_rows, small_rows = _rows(out / "agreement_big.duckdb"), _rows(small_db)
    ratio = args.big / args.small
    tally: dict[str, list[int]] = {}
    failures = []
    for key in sorted(set(big_rows) | set(small_rows), key=str):
        if key not in big_rows or key not in small_rows:
            failures.append(f"{key}: only in the {'big' if key in big_rows else 'small'} run")
            continue
        rule, holds = _verdict(big_rows[key], small_rows[key], ratio)
        counts = tally.setdefault(rule, [0, 0])
        counts[0 if holds else 1] += 1
        if not holds:
            b, s = big_rows[key]["value"], small_rows[key]["value"]
            failures.append(f"{key}: big {b!r}, small {s!r} ({rule})")
    for rule, (held, broke) in sorted(tally.items()):
        print(f"{rule}: {held} rows agree, {broke} disagree")
    for failure in failures:
        print(f"DISAGREES {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
