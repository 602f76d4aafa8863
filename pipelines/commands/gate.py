"""``datasre gate`` and ``datasre waive``: the deployment decision and its exceptions.

``gate`` reads the SLI store, decides with :func:`checks.gate.decide`, appends the
decision to ``gate_decisions`` (audit), prints or writes the report, and exits 0 when the
version is ready, 1 when it is blocked, 2 on a usage, config or input error.

``waive`` records a waiver for one SLO of a model (by default for the contract's current
version) until an expiry day, inclusive; the gate shows it and does not block on it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import getpass
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipelines.commands.arguments import (
    Subcommands,
    add_as_of,
    add_command,
    add_format,
    add_model,
    add_output,
    add_version,
    add_window_days,
    parse_day,
    parse_moment,
)

if TYPE_CHECKING:
    from assets.store.gate_store import Evidence, GateStore
    from checks.contract import Contract
    from checks.gate_verdict import GateOptions, Verdict


__all__ = ["register", "review", "run", "run_waive"]


#: ``datasre gate``'s help (see :func:`pipelines.commands.arguments.add_command`).
#: The largest ``--max-evidence-age-hours`` (a year: more is not a freshness rule, and
#: 1e12 overflowed the date arithmetic with a traceback).
MAX_EVIDENCE_AGE_HOURS: Final = 366 * 24.0

ABOUT: Final = """decide whether a model version may ship (exit 0 ready, 1 blocked)

Production-readiness review of one model version: contract, evidence freshness, the latest
run's blocking SLOs, and the dual-track error budgets."""
#: ``datasre waive``'s help.
WAIVE_ABOUT: Final = """let a model version ship despite one SLO until an expiry day

Record a waiver: the gate shows it and does not block on that SLO until the end of the
expiry day (UTC)."""


def register(subparsers: Subcommands) -> None:
    gate = add_command(subparsers, "gate", run, ABOUT)
    add_model(gate)
    add_version(gate)
    add_format(gate, "text", "json", "junit", "markdown")
    add_output(gate, "write the report to this file")
    gate.add_argument(
        "--max-evidence-age-hours",
        type=float,
        default=None,
        metavar="N",
        help="the newest evidence must have been evaluated within N hours: its partition's "
        "scheduled evaluation time, not when a backfill ran it (default 36)",
    )
    add_as_of(gate, "decision time, ISO 8601 (default $DATASRE_NOW or the wall clock)")
    gate.add_argument(
        "--block-on-infra-budget",
        action="store_true",
        help="an exhausted infra-track budget blocks (by default it only warns)",
    )
    add_window_days(gate, "error-budget window in days (default the contract's slos.window_days)")
    gate.add_argument(
        "--summary-image",
        default=None,
        metavar="URL",
        help="markdown: embed this picture under the title (the PNG of `datasre report "
        "--png`, uploaded as a CI artifact or committed)",
    )
    gate.add_argument(
        "--no-record",
        action="store_true",
        help="do not append the decision to gate_decisions (dry run)",
    )

    waive = add_command(subparsers, "waive", run_waive, WAIVE_ABOUT)
    add_model(waive)
    add_version(waive, help="model version (default the contract's; 'all' for every version)")
    waive.add_argument("--slo", required=True, help="SLO name, as in the contract")
    waive.add_argument("--reason", required=True, help="why shipping is acceptable")
    waive.add_argument("--expires", required=True, metavar="YYYY-MM-DD")


def _as_of(text: str | None, option: str = "--as-of") -> dt.datetime:
    """The decision time: ``text`` (:func:`parse_moment`) or the wall clock."""
    return parse_moment(option, text) if text else dt.datetime.now(dt.UTC)


def _actor() -> str | None:
    for name in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def review(
    gate_store: GateStore,
    contract: Contract,
    version: str,
    *,
    now: dt.datetime,
    options: GateOptions,
) -> tuple[Evidence, Verdict]:
    """The evidence of one model version and the gate's verdict on it at ``now`` (a
    candidate-only version is judged as a candidate); reads the store, records nothing.
    ``datasre gate`` and ``datasre export prometheus`` decide through it alike."""
    from checks.candidate_verdict import as_candidate_verdict, is_candidate_only
    from checks.gate import decide
    from checks.slo import as_definitions

    evidence = gate_store.load_evidence(contract.model, version)
    verdict = decide(
        contract,
        evidence.slis,
        evidence.runs,
        now=now,
        version=version,
        definitions=evidence.definitions if evidence.definitions.height else None,
        waivers=evidence.waivers,
        options=options,
    )
    if is_candidate_only(evidence.runs, contract.model, version):
        # One evaluation set, no traffic: judged as a candidate, not as an error budget.
        verdict = as_candidate_verdict(
            verdict,
            evidence.slis,
            runs=evidence.runs,
            definitions=evidence.definitions
            if evidence.definitions.height
            else [replace(d, model_version=None) for d in as_definitions(contract)],
            waivers=evidence.waivers,
            now=now,
            contract=contract,
        )
    return evidence, verdict


def _note_other_versions(gate_store: GateStore, model: str, version: str) -> None:
    """A version with no runs at all: name the versions that have some, on stderr (a
    mistyped ``--version`` otherwise reads as missing evidence and nothing else)."""
    rows = gate_store.store.fetchall(
        "select distinct model_version from runs where model = ? order by 1", [model]
    )
    others = [str(r[0]) for r in rows if r[0] != version]
    if others:
        print(
            f"datasre gate: note: {model} {version} has no runs; versions with runs: "
            f"{', '.join(others)} (is --version right?)",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    from assets.store.gate_store import GateStore
    from checks.gate_verdict import DEFAULT_MAX_EVIDENCE_AGE_HOURS, GateOptions
    from pipelines.cli import EXIT_NO, EXIT_OK, UsageError
    from pipelines.model_contract import contract_named
    from pipelines.report import blocked_on_the_data, render, to_json
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    now = _as_of(args.as_of or settings.now)
    age = args.max_evidence_age_hours
    if age is not None and not 0 < age <= MAX_EVIDENCE_AGE_HOURS:  # NaN fails too
        raise UsageError(
            "--max-evidence-age-hours: must be a number of hours above 0 and at most "
            f"{MAX_EVIDENCE_AGE_HOURS:g} (366 days)"
        )
    if args.window_days is not None and not 1 <= args.window_days <= 366:
        raise UsageError("--window-days: must be between 1 and 366")
    contract = contract_named(settings.config_path, args.model)
    version = args.version or contract.version
    options = GateOptions(
        max_evidence_age_hours=age if age is not None else DEFAULT_MAX_EVIDENCE_AGE_HOURS,
        block_on_infra_budget=args.block_on_infra_budget,
        window_days=args.window_days,
    )
    gate_store = GateStore(settings.sli_store())
    if not args.no_record:
        gate_store.ensure_schema()  # read-write; --no-record only reads
    evidence, verdict = review(gate_store, contract, version, now=now, options=options)
    if evidence.runs.height == 0:
        _note_other_versions(gate_store, contract.model, version)
    if not args.no_record:
        gate_store.append_decision(verdict, to_json(verdict), actor=_actor())
    drivers = None
    if (
        args.format == "markdown"
        and blocked_on_the_data(verdict)
        and verdict.reference_day is not None
    ):
        from assets.weighted_drift import rank_day_drift

        drivers = rank_day_drift(contract, verdict.reference_day)
    report = render(verdict, args.format, drivers=drivers, image=args.summary_image)
    if args.output:
        out = Path(args.output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output: {out}: cannot write ({exc.strerror})") from None
        word = "ready" if verdict.ready else "blocked"
        print(f"datasre gate: {contract.model} {version}: {word} ({out})", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return EXIT_OK if verdict.ready else EXIT_NO


def run_waive(args: argparse.Namespace) -> int:
    from assets.store.gate_store import GateStore
    from checks.gate_verdict import MAX_WAIVER_DAYS, Waiver
    from checks.slo import slos_in_force
    from pipelines.cli import EXIT_OK, UsageError
    from pipelines.model_contract import contract_named
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    contract = contract_named(settings.config_path, args.model)
    # Any SLO in force: the declared ones and the built-in ones the gate judges too
    # (clock_skew_seconds, unseen_category_rate...), which the runbooks say to waive.
    in_force = slos_in_force(contract)
    known = sorted([*in_force.infra, *in_force.model])
    if args.slo not in known:
        close = difflib.get_close_matches(args.slo, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(
            f"--slo: {args.slo!r} is not an SLO of {contract.path.name} ({hint}in force: "
            f"{', '.join(known)})"
        )
    expires = parse_day("--expires", args.expires)
    # Written at the tool's clock ($DATASRE_NOW when set): the gate honours a waiver from
    # when it was written, so a replay at that clock sees it.
    written = _as_of(settings.now, "$DATASRE_NOW")
    today = written.astimezone(dt.UTC).date()
    if expires < today:
        raise UsageError(f"--expires: {expires} is in the past (today is {today})")
    latest = today + dt.timedelta(days=MAX_WAIVER_DAYS)
    if expires > latest:
        raise UsageError(
            f"--expires: {expires} is more than {MAX_WAIVER_DAYS} days ahead (at most {latest}): "
            "a waiver is temporary; renew it when it expires, or change the SLO in the contract"
        )
    if not args.reason.strip():
        raise UsageError("--reason: must say why shipping is acceptable")
    version = None if args.version == "all" else (args.version or contract.version)
    gate_store = GateStore(settings.sli_store())
    gate_store.ensure_schema()
    waiver = gate_store.add_waiver(
        Waiver(
            model=contract.model,
            model_version=version,
            slo=args.slo,
            reason=args.reason.strip(),
            expires=expires,
            created_at=written,
            created_by=_actor(),
        )
    )
    print(
        f"datasre waive: {waiver.waiver_id}: {contract.model} {version or '(all versions)'} "
        f"{args.slo} waived until {expires} (inclusive)"
    )
    return EXIT_OK
