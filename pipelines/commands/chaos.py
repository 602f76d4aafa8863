"""``datasre chaos``: a drill before a model goes live. Inject known faults into copies of
the model's real snapshots, run the real pipeline into a scratch store, and report per
fault class whether it was detected, by which SLI, how many days it took, the false
alarms on clean days and what the gate says. Exit 1 when a fault class went undetected.

The drill (all under a scratch directory, deleted afterwards unless ``--scratch``):

1. control run: the first :data:`CONTROL_DAYS` real days, unchanged, through the job;
   the days with no breached SLO are the clean templates (none: exit 2, nothing to
   drill on);
2. plan: :data:`WARMUP_DAYS` clean days, then one day per fault class (order
   :data:`checks.fault_classes.FAULT_CLASSES`), then clean days up to ``--days``;
3. the drill tree (:mod:`pipelines.chaos_tree`), run day by day at the data time of the
   last day (``evaluated_at``), then the gate at that time.

A fault is detected when its day has a breached SLI row (``ok = false``), or, for
``labels_withheld``, when the gate names that day ``labels_overdue``; days to detect
count from the fault's day to the day the evidence exists (0 for same-day rows, the
label delay for overdue labels). A false alarm is a breached row on a clean day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pipelines.commands.arguments import Subcommands, add_command, add_format, add_model

if TYPE_CHECKING:
    import polars as pl

    from checks.contract import Contract
    from checks.faults import FaultSpec
    from pipelines.chaos_tree import ChaosTree

__all__ = ["CONTROL_DAYS", "WARMUP_DAYS", "FaultOutcome", "register", "run", "run_drill"]

#: Real days the control run looks at for clean templates.
CONTROL_DAYS: Final = 3
#: Clean days before the first fault.
WARMUP_DAYS: Final = 3


#: ``datasre chaos``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """inject known faults into copies of a model's snapshots and measure detection

A chaos drill: faults of known magnitude on chosen days of a scratch copy of the model's
data, the real pipeline into a scratch store, and a report of what was detected, by which
SLI, how fast, with how many false alarms."""


def register(subparsers: Subcommands) -> None:
    from checks.fault_classes import FAULT_CLASSES

    parser = add_command(subparsers, "chaos", run, ABOUT)
    add_model(parser)
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_CLASSES),
        help=f"comma-separated fault classes (default all: {', '.join(FAULT_CLASSES)})",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="drill days (default: 3 + faults + 1, more when labels_withheld needs its "
        "labels overdue by the end)",
    )
    parser.add_argument("--seed", type=int, default=0)
    add_format(parser, "table", "json")
    parser.add_argument(
        "--scratch",
        default=None,
        help="keep the scratch tree and stores here (default: a temp dir)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


@dataclass(frozen=True)
class FaultOutcome:
    """One fault class's result."""

    fault: str
    day: str
    magnitude: str
    detected: bool
    detected_by: list[str]
    days_to_detect: int | None
    blocking: bool
    gate_reasons: list[str] = field(default_factory=list)
    #: An SLO in force breached that day, or a gate reason names it: an error budget burns
    #: (burn alerts, the gate) or an evidence alert fires. False for a fault seen only by
    #: SLI rows no SLO judges (a drift row of one feature...): recorded, but nobody is told.
    alerting: bool = False


@dataclass(frozen=True)
class DrillReport:
    model: str
    templates: list[str]
    clean_days: list[str]
    false_alarms: list[dict[str, Any]]
    gate_ready: bool
    gate_reasons: list[str]
    faults: list[FaultOutcome]
    skipped: dict[str, str]

    @property
    def undetected(self) -> list[str]:
        return [f.fault for f in self.faults if not f.detected]


def _plan(
    contract: Contract, names: list[str], days: int | None
) -> tuple[dict[dt.date, FaultSpec | None], dict[str, str]]:
    from checks.fault_classes import FAULT_CLASSES
    from checks.faults import fault_spec
    from pipelines.cli import UsageError

    specs, skipped = [], {}
    # The drill's own order, whatever the command line's (labels first, see FAULT_CLASSES).
    for name in sorted(names, key=lambda n: FAULT_CLASSES.index(n) if n in FAULT_CLASSES else -1):
        try:
            spec = fault_spec(contract, name)
        except ValueError as exc:
            raise UsageError(f"--faults: {exc}") from None
        if spec is None:
            skipped[name] = "does not apply to this contract"
        else:
            specs.append(spec)
    needed = WARMUP_DAYS + len(specs) + 1
    if any(spec.name == "labels_withheld" for spec in specs):
        # Its day (the first fault day) must be past the label delay by the drill's end
        # for the gate to call its labels overdue: a drill of that fault alone was judged
        # the day after it, and reported it undetected (found by review).
        overdue = math.ceil(contract.sources.max_label_delay_days) + 1
        needed = max(needed, WARMUP_DAYS + 1 + overdue)
    total = days if days is not None else needed
    if total < needed:
        raise UsageError(f"--days: {total} is too few for {len(specs)} faults (need {needed})")
    start = contract.sources.start_date
    plan: dict[dt.date, FaultSpec | None] = {
        start + dt.timedelta(days=i): None for i in range(total)
    }
    for offset, spec in enumerate(specs):
        plan[start + dt.timedelta(days=WARMUP_DAYS + offset)] = spec
    return plan, skipped


def _run_tree(
    tree: ChaosTree, model: str, days: list[dt.date], now: dt.datetime, progress: bool
) -> tuple[Contract, pl.DataFrame]:
    import polars as pl

    from assets.store import SliStore
    from checks.contract import load_contracts
    from pipelines.commands.run import run_partitions
    from pipelines.settings import Settings

    settings = Settings(
        config_path=str(tree.contract_path),
        database=str(tree.database),
        staging_dir=str(tree.root / "staging"),
        # shared by the control and drill trees: the same training bytes give the same
        # baseline profile and domain-classifier calibration, built once
        state_dir=str(tree.root.parent / "state"),
        now=now.isoformat(),
    )
    contract = next(c for c in load_contracts(str(tree.contract_path)) if c.model == model)
    outcomes = run_partitions(
        [(contract, day) for day in days], settings=settings, kind="chaos", progress=progress
    )
    crashed = [o for o in outcomes if o.job_failed]
    if crashed:
        from checks.errors import InputError

        raise InputError(
            f"{tree.root}: the drill's job failed on {crashed[0].day}: {crashed[0].message}"
        )
    rows = SliStore(str(tree.database)).fetchall(
        "select partition, sli, feature, slice, ok, blocking from sli_latest where model = ?",
        [model],
    )
    schema = ["partition", "sli", "feature", "slice", "ok", "blocking"]
    return contract, pl.DataFrame(rows, schema=schema, orient="row")


def _label(row: dict[str, Any]) -> str:
    where = row["feature"] or row["slice"]
    return f"{row['sli']}({where})" if where else str(row["sli"])


def run_drill(
    contract: Contract,
    scratch: Path,
    names: list[str],
    *,
    days: int | None,
    seed: int,
    progress: bool,
) -> DrillReport:
    """Control run, drill tree, pipeline, gate; the per-fault report."""
    import polars as pl

    from assets.store import SliStore
    from assets.store.gate_store import GateStore
    from checks.expected_days import evaluated_at
    from checks.gate import decide
    from checks.slo_evaluation import as_definitions
    from pipelines.chaos_tree import build_tree, copy_real_days

    plan, skipped = _plan(contract, names, days)
    # 1. control: which real days are clean
    from assets.io import discover_days

    real = discover_days(contract)[:CONTROL_DAYS]
    control = copy_real_days(contract, scratch / "control", real)
    if real:
        _, control_rows = _run_tree(
            control, contract.model, real, evaluated_at(contract, real[-1]), progress
        )
        bad = set(control_rows.filter(pl.col("ok") == pl.lit(value=False))["partition"].to_list())
    else:
        bad = set()
    templates = [day for day in real if day.isoformat() not in bad]
    if not templates:
        from pipelines.cli import UsageError

        raise UsageError(
            f"--model {contract.model}: none of its first {CONTROL_DAYS} days is clean; a "
            "drill needs clean days to inject faults into"
        )
    # 2-3. the drill
    drill_days = sorted(plan)
    now = evaluated_at(contract, drill_days[-1])
    tree = build_tree(contract, scratch / "drill", templates, plan, seed)
    drill_contract, rows = _run_tree(tree, contract.model, drill_days, now, progress)
    breached = rows.filter(pl.col("ok") == pl.lit(value=False))
    evidence = GateStore(SliStore(str(tree.database))).load_evidence(
        drill_contract.model, drill_contract.version
    )
    verdict = decide(
        drill_contract,
        evidence.slis,
        evidence.runs,
        now=now,
        version=drill_contract.version,
        definitions=evidence.definitions if evidence.definitions.height else None,
    )
    delay = math.ceil(drill_contract.sources.max_label_delay_days)
    judged = {definition.sli for definition in as_definitions(drill_contract)}
    outcomes = []
    for day, spec in sorted(plan.items()):
        if spec is None:
            continue
        key = day.isoformat()
        on_day = breached.filter(pl.col("partition") == key)
        by = sorted({_label(r) for r in on_day.iter_rows(named=True)})
        reasons = sorted({f"{r.code}:{r.severity}" for r in verdict.reasons if key in r.days})
        days_to_detect: int | None = 0 if by else None
        if spec.name == "labels_withheld" and any(r.startswith("labels_overdue") for r in reasons):
            by, days_to_detect = [*by, "gate:labels_overdue"], (days_to_detect or delay)
        outcomes.append(
            FaultOutcome(
                fault=spec.name,
                day=key,
                magnitude=spec.describe,
                detected=bool(by),
                detected_by=by,
                days_to_detect=days_to_detect,
                blocking=bool(on_day.filter(pl.col("blocking")).height),
                gate_reasons=reasons,
                alerting=bool(reasons) or bool(on_day.filter(pl.col("sli").is_in(judged)).height),
            )
        )
    clean = [d.isoformat() for d, spec in sorted(plan.items()) if spec is None]
    alarms = breached.filter(pl.col("partition").is_in(clean))
    return DrillReport(
        model=contract.model,
        templates=[d.isoformat() for d in templates],
        clean_days=clean,
        false_alarms=[
            {"day": r["partition"], "sli": _label(r)} for r in alarms.iter_rows(named=True)
        ],
        gate_ready=verdict.ready,
        gate_reasons=sorted({f"{r.code}:{r.severity}" for r in verdict.reasons}),
        faults=outcomes,
        skipped=skipped,
    )


def render_table(report: DrillReport) -> str:
    from pipelines.escape import terminal

    lines = [
        f"chaos drill: {terminal(report.model)} (clean templates: {', '.join(report.templates)})",
        f"{'fault':<16} {'day':<10} {'detected':<8} {'days':>4}  {'blocking':<8} {'alerts':<6} by",
    ]
    for f in report.faults:
        by = ", ".join(f.detected_by) or "-"
        days = "-" if f.days_to_detect is None else str(f.days_to_detect)
        lines.append(
            f"{f.fault:<16} {f.day:<10} {'yes' if f.detected else 'NO':<8} {days:>4}  "
            f"{'yes' if f.blocking else 'no':<8} {'yes' if f.alerting else 'no':<6} "
            f"{terminal(by)}"
        )
        lines.append(f"{'':<16} {terminal(f.magnitude)}")
    for name, why in report.skipped.items():
        lines.append(f"{name:<16} skipped: {why}")
    lines.append(
        f"false alarms on {len(report.clean_days)} clean days: {len(report.false_alarms)}"
        + "".join(f"\n  {a['day']} {terminal(a['sli'])}" for a in report.false_alarms)
    )
    word = "ready" if report.gate_ready else "blocked"
    lines.append(
        f"gate at the drill's data time: {word} ({', '.join(report.gate_reasons) or 'no reasons'})"
    )
    unalerted = [f.fault for f in report.faults if f.detected and not f.alerting]
    if unalerted:
        lines.append(
            f"detected, but no SLO breached and no alert fires: {', '.join(unalerted)} "
            "(declare an SLO on one of the SLIs that saw it to be paged or ticketed)"
        )
    undetected = report.undetected
    lines.append(
        f"UNDETECTED: {', '.join(undetected)}"
        if undetected
        else "every injected fault class was detected"
    )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from checks.contract import load_contracts
    from pipelines.cli import EXIT_NO, EXIT_OK, UsageError
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    contracts = {c.model: c for c in load_contracts(settings.config_path)}
    if args.model not in contracts:
        known = ", ".join(sorted(contracts))
        raise UsageError(f"--model: unknown model {args.model!r} (known: {known})")
    names = [n.strip() for n in args.faults.split(",") if n.strip()]
    if not names:
        raise UsageError("--faults: name at least one fault class")
    with tempfile.TemporaryDirectory(prefix="datasre-chaos-") as temporary:
        # Absolute: the drill's contracts name their data relative to themselves.
        scratch = Path(args.scratch).resolve() if args.scratch else Path(temporary)
        report = run_drill(
            contracts[args.model],
            scratch,
            names,
            days=args.days,
            seed=args.seed,
            progress=not args.quiet,
        )
    if args.format == "json":
        payload = {**asdict(report), "undetected": report.undetected}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(render_table(report))
    return EXIT_NO if report.undetected else EXIT_OK
