"""``datasre validate-candidate``: model-track SLIs for a version before it serves.

Writes one run of kind ``candidate`` (partition = the evaluation day, default today UTC)
for ``--version`` into the SLI store, then prints the breaches. Exit 0 when it ran
(whatever it measured: the gate decides), 1 with ``--fail-on-breach`` and a breach, 2 on
bad input. Then ``datasre gate --model M --version V`` decides.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pipelines.cli import add_state_dir_option

    parser = subparsers.add_parser(
        "validate-candidate",
        help="validate a candidate model version on an evaluation set (before it ships)",
        description="Model-track checks (schema, completeness, drift vs the training "
        "baseline, quality against the target) for a version that serves no traffic yet.",
    )
    parser.add_argument("--model", required=True, help="model name (as in its contract)")
    parser.add_argument("--version", required=True, help="the candidate version")
    parser.add_argument(
        "--predictions",
        required=True,
        help="parquet: the contract's id, the candidate's outputs and the true target",
    )
    parser.add_argument("--features", default=None, help="parquet: the evaluation features")
    parser.add_argument(
        "--labels", default=None, help="parquet: id and target, when not in --predictions"
    )
    parser.add_argument(
        "--day", default=None, help="partition to record, YYYY-MM-DD (default today, UTC)"
    )
    parser.add_argument(
        "--fail-on-breach", action="store_true", help="exit 1 when any SLO was breached"
    )
    add_state_dir_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import polars as pl

    from assets.candidate import candidate_slis
    from assets.store import RunRecord, SliStore
    from checks.contract import load_contracts
    from checks.sli import slo_definitions_frame
    from pipelines.cli import EXIT_NO, EXIT_OK, UsageError
    from pipelines.settings import Settings

    settings = Settings.from_env(
        config_path=args.config, database=args.db, state_dir=args.state_dir
    )
    contracts = {c.model: c for c in load_contracts(settings.config_path)}
    if args.model not in contracts:
        raise UsageError(
            f"--model: unknown model {args.model!r} in {settings.config_path} "
            f"(known: {', '.join(sorted(contracts))})"
        )
    try:
        day = dt.date.fromisoformat(args.day) if args.day else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise UsageError(f"--day: {args.day!r} is not a YYYY-MM-DD day") from None
    contract = contracts[args.model].model_copy(update={"version": args.version})
    started = dt.datetime.now(dt.UTC)
    slis = candidate_slis(
        contract,
        predictions=args.predictions,
        features=args.features,
        labels=args.labels,
        profiles_dir=settings.profiles_dir,
    )
    most = slis.filter(pl.col("category") == "quality").select(pl.col("n_rows").max()).item()
    labelled = int(most) if most is not None else 0
    run_record = RunRecord(
        run_id=f"candidate-{uuid.uuid4()}",
        model=contract.model,
        model_version=contract.version,
        partition=day.isoformat(),
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        status="succeeded",
        kind="candidate",
        n_labels=labelled,
    )
    SliStore(settings.database).write_run(
        run_record, slis, slo_definitions=slo_definitions_frame(contract)
    )
    if args.features is None:
        print(
            "datasre: warning: no --features: schema, completeness and drift of the "
            "evaluation set were not measured, so the gate cannot judge them",
            file=sys.stderr,
        )
    breaches = slis.filter(pl.col("ok") == pl.lit(value=False))
    print(
        f"{contract.model} {contract.version} candidate on {day}: {slis.height} SLIs, "
        f"{breaches.height} breaches (run {run_record.run_id})"
    )
    for row in breaches.sort("blocking", descending=True).iter_rows(named=True):
        where = row["feature"] or row["slice"] or "model-wide"
        print(
            f"  breach: {row['sli']} [{where}] = {row['value']} "
            f"(objective {row['comparator']} {row['objective']})",
            file=sys.stdout,
        )
    return EXIT_NO if (args.fail_on_breach and breaches.height) else EXIT_OK
