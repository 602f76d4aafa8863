"""``datasre report``: one model's self-contained HTML report (and a PNG for CI).

Reads the SLI store, the stored baseline profiles and the partition's snapshots; writes
one HTML file that opens from disk with no network (docs/report.md). Exit 0 when the
report is written, 2 on a usage or input error (unknown model, no such partition, a
store that does not exist yet, an unwritable output). The verdict it shows does not
change the exit code: ``datasre gate`` is the command that says no.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Final

from pipelines.commands.arguments import (
    Subcommands,
    add_as_of,
    add_command,
    add_model,
    add_output,
    add_partition,
    add_version,
    add_window_days,
    parse_moment,
)

__all__ = ["register", "run"]


#: ``datasre report``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """write one model's self-contained HTML report (verdict, budgets, trends, drift)

One HTML file per model and partition: the gate's verdict with its reasons, each SLO's
budget and burn-down, SLI trends over the window, the partition's drift with baseline vs
current distributions, findings, quality, fairness and prediction-log SLIs. No script, no
network: it opens from disk."""


def register(subparsers: Subcommands) -> None:
    from pipelines.cli import add_state_dir_option

    parser = add_command(subparsers, "report", run, ABOUT)
    add_model(parser)
    add_version(parser)
    add_partition(
        parser,
        "the day to report (default the newest partition in the store; with --as-of, the "
        "newest evaluated by then)",
    )
    add_window_days(
        parser, "trend and error-budget window in days (default the contract's slos.window_days)"
    )
    add_output(
        parser,
        "HTML file to write (default <state dir>/reports/<model>/<version>/<day>.html)",
        metavar="FILE",
    )
    parser.add_argument(
        "--png",
        default=None,
        metavar="FILE",
        help="also write a PNG of the verdict and every SLO's burn-down (for a CI job summary)",
    )
    add_as_of(
        parser,
        "gate decision time, ISO 8601 (default: with --partition, that day's scheduled "
        "evaluation time; without, now: $DATASRE_NOW or the wall clock)",
    )
    add_state_dir_option(parser)


def _day(text: str | None) -> dt.date | None:
    from pipelines.commands.arguments import parse_day

    return None if text is None else parse_day("--partition", text)


def _moment(text: str | None, option: str = "--as-of") -> dt.datetime | None:
    return None if text is None else parse_moment(option, text)


def run(args: argparse.Namespace) -> int:
    from assets.report.load import ReportRequest
    from assets.report.render import write_report
    from pipelines.cli import EXIT_OK, UsageError
    from pipelines.escape import terminal
    from pipelines.model_contract import contract_named
    from pipelines.settings import Settings

    settings = Settings.from_env(
        config_path=args.config, database=args.db, state_dir=args.state_dir
    )
    if args.window_days is not None and not 1 <= args.window_days <= 366:
        raise UsageError("--window-days: must be between 1 and 366")
    contract = contract_named(settings.config_path, args.model)
    as_of = _moment(args.as_of)
    if as_of is None and args.partition is None:
        # No day asked for: the newest day as the gate judges it now (the tool's clock),
        # not as it was judged then: that read "(ready)" on evidence 17 days old, or with
        # a newer day's run crashed, while `datasre gate` blocked (found by review).
        as_of = _moment(settings.now, "--now") if settings.now else dt.datetime.now(dt.UTC)
    request = ReportRequest(
        contract=contract,
        database=Path(settings.database),
        state_dir=Path(settings.state_dir),
        version=args.version,
        partition=_day(args.partition),
        window_days=args.window_days,
        as_of=as_of,
    )
    if args.png:
        from assets.report.png import find_chromium

        find_chromium()  # no browser: one line before any file is written
    written = write_report(
        request,
        Path(args.output) if args.output else None,
        Path(args.png) if args.png else None,
    )
    report = written.report
    decided = report.verdict.decided_at
    word = ("ready" if report.verdict.ready else "blocked") + (
        f" as of {decided.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}" if decided else ""
    )
    extra = f", {written.png_path} ({written.png_seconds:.1f} s)" if written.png_path else ""
    print(
        terminal(
            f"datasre report: {report.model} {report.version} {report.partition} ({word}): "
            f"{written.html_path} ({written.html_bytes / 1e6:.2f} MB, {written.seconds:.1f} s)"
            f"{extra}"
        ),
        file=sys.stderr,
    )
    return EXIT_OK
