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
from typing import TYPE_CHECKING, Final

from pipelines.commands.arguments import (
    Subcommands,
    add_command,
    add_model,
    add_version,
    parse_day,
)
from pipelines.tables import text_table

if TYPE_CHECKING:
    import polars as pl

    from assets.store import SliStore

__all__ = ["BREACH_COLUMNS", "candidate_breach_rows", "register", "run"]


#: ``datasre validate-candidate``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """validate a candidate model version on an evaluation set (before it ships)

Model-track checks (schema, completeness, drift vs the training baseline, quality against
the target) for a version that serves no traffic yet."""


def register(subparsers: Subcommands) -> None:
    from pipelines.cli import add_state_dir_option

    parser = add_command(subparsers, "validate-candidate", run, ABOUT)
    add_model(parser)
    add_version(parser, required=True, help="the candidate version")
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


#: Columns of the candidate's breach table.
BREACH_COLUMNS: Final = ("breach", "blocking", "result")


def candidate_breach_rows(breaches: pl.DataFrame) -> list[tuple[str, str, str]]:
    """One row per breached row of a candidate: what breached (SLI, feature, slice),
    whether it blocks, and its value against its own objective.

    A one-shot evaluation has no budget, burn rate or alert: it met an objective or not.
    A drift test row says which rule fired, not its statistic against an objective (a
    chi2 statistic is not on the scale of its JS threshold).
    """
    from checks.breach_rank import DRIFT_TEST_CATEGORIES

    rows = []
    for row in breaches.iter_rows(named=True):
        where = (f"[{row['feature']}]" if row["feature"] else "") + (
            f"{{{row['slice']}}}" if row["slice"] else ""
        )
        if row["category"] in DRIFT_TEST_CATEGORIES and row["method"] is not None:
            result = f"drifted ({row['method']} rule; statistic {_num(row['value'])})"
        else:
            result = (
                f"{_num(row['value'])} vs objective {row['comparator'] or ''} "
                f"{_num(row['objective'])}"
            )
        rows.append((f"{row['sli']}{where}", "yes" if row["blocking"] else "no", result))
    return rows


def _num(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"


def _refuse_a_served_version(store: SliStore, model: str, version: str) -> None:
    """A :class:`~pipelines.cli.UsageError` when ``version`` already has runs of its
    served data (any kind but ``candidate``).

    Why: a candidate run of a day replaces that day's rows like any later run, so
    evaluating a served version "as a candidate" on its bad days swapped their production
    evidence for an evaluation set's, and the gate, which had blocked on them, said READY.
    A candidate is a version that serves no traffic yet."""
    from checks.candidate_verdict import CANDIDATE_KIND
    from pipelines.cli import UsageError

    try:
        served = store.fetchall(
            "select count(distinct partition), max(partition) from runs "
            "where model = ? and model_version = ? and kind is distinct from ?",
            [model, version, CANDIDATE_KIND],
        )
    except FileNotFoundError:
        return  # no store yet: no runs either
    days, newest = served[0] if served else (0, None)
    if days:
        raise UsageError(
            f"--version: {model} {version} already has validation runs of its served data "
            f"({days} partition(s), the newest {newest}); a candidate evaluation would "
            "replace their evidence: give the candidate a version of its own, or run "
            f"`datasre run --model {model}` for the served one"
        )


def run(args: argparse.Namespace) -> int:
    import polars as pl

    from assets.candidate import candidate_slis
    from assets.store import RunRecord
    from checks.breach_rank import rank_breaches
    from checks.measured_settings import measured_settings
    from checks.sli import attach_runbooks, slo_definitions_frame
    from pipelines.cli import EXIT_NO, EXIT_OK
    from pipelines.model_contract import contract_named
    from pipelines.settings import Settings

    settings = Settings.from_env(
        config_path=args.config, database=args.db, state_dir=args.state_dir
    )
    found = contract_named(settings.config_path, args.model)
    day = parse_day("--day", args.day) if args.day else dt.datetime.now(dt.UTC).date()
    contract = found.model_copy(update={"version": args.version})
    store = settings.sli_store()
    _refuse_a_served_version(store, contract.model, contract.version)
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
        measured_under=measured_settings(contract, candidate=True),
    )
    store.write_run(
        run_record, attach_runbooks(slis, contract), slo_definitions=slo_definitions_frame(contract)
    )
    if args.features is None:
        print(
            "datasre: warning: no --features: schema, completeness and drift of the "
            "evaluation set were not measured, so the gate cannot judge them",
            file=sys.stderr,
        )
    breaches = rank_breaches(slis)
    print(
        f"{contract.model} {contract.version} candidate, evaluation set recorded as {day}: "
        f"{slis.height} SLIs, {breaches.height} breaches (run {run_record.run_id})"
    )
    if breaches.height:
        print("candidate breaches (blocking first, then the largest miss):")
        print("\n".join(text_table(BREACH_COLUMNS, candidate_breach_rows(breaches), indent="  ")))
    print(
        f"next: datasre gate --model {contract.model} --version {contract.version}",
        file=sys.stderr,
    )
    return EXIT_NO if (args.fail_on_breach and breaches.height) else EXIT_OK
