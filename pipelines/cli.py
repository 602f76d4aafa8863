"""The ``datasre`` command line: ``run``, ``drift``, ``gate``, ...

Exit codes (docs/design.md): 0 success; 1 the command's "no" (drift found, gate blocked,
breach with ``--fail-on-breach``); 2 a usage, config or input error, printed as one line
on stderr naming the file and field, with no traceback unless ``--debug``; memory
exhaustion that reaches here as ``MemoryError`` is such a line and exit 2 too. A store
that cannot be used (``assets.store.StoreError``: full disk, read-only, locked past the
timeout, damaged or foreign) is an input error: exit 2, one line naming the file and the
OS error; ``run`` re-raises its writer's store error here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Final, NoReturn

from checks.errors import ContractError, InputError
from pipelines.escape import terminal
from pipelines.held_interrupts import import_holding_interrupts
from pipelines.pool_slots import PoolBusyError
from pipelines.process_exit import EXIT_BROKEN_PIPE, exit_now
from pipelines.settings import DEFAULT_CONFIG, DEFAULT_DB
from pipelines.usage import UsageError

__all__ = [
    "EXIT_ERROR",
    "EXIT_NO",
    "EXIT_OK",
    "CommandLineError",
    "DatasreArgumentParser",
    "UsageError",
    "add_state_dir_option",
    "build_parser",
    "console_main",
    "main",
    "parse_arguments",
]

EXIT_OK: Final = 0
EXIT_NO: Final = 1
EXIT_ERROR: Final = 2

#: Subcommand modules; each exposes ``register(subparsers)`` setting ``func=run``.
COMMAND_MODULES: Final = (
    "pipelines.commands.run",
    "pipelines.commands.drift",
    "pipelines.commands.gate",
    "pipelines.commands.candidate",
    "pipelines.commands.contract",
    "pipelines.commands.export",
    "pipelines.commands.report",
    "pipelines.commands.init",
    "pipelines.commands.explain",
    "pipelines.commands.chaos",
)


class CommandLineError(Exception):
    """argparse rejected the command line (message already one line)."""


class DatasreArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other datasre error.

    argparse prints the whole usage block and exits; a usage error here is one line
    naming the problem and where the help is, and :func:`main` returns exit 2.
    ``add_subparsers`` builds the subcommands with this same class.
    """

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(f"{message} (see `{self.prog} --help`)")


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--state-dir``, for the commands that read or write baseline profiles and
    manifests (``run``, ``validate-candidate``)."""
    parser.add_argument(
        "--state-dir",
        default=None,
        help="baseline profiles and validated-snapshot manifests (default "
        "$DATASRE_STATE_DIR or <db directory>/<db stem>.state)",
    )


def _add_common_options(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """``--db``, ``--config`` and ``--debug`` on ``parser``; ``nested``: a subcommand's
    subcommand (``export prometheus``), whose defaults must not overwrite what was given
    before it (``export --db X prometheus``: argparse lets a subparser's defaults win)."""
    options = {action.dest for action in parser._actions}
    unset: object = argparse.SUPPRESS if nested else None
    if "db" not in options:
        parser.add_argument(
            "--db",
            default=unset,
            help=f"DuckDB SLI store (default $DATASRE_DB or {DEFAULT_DB})",
        )
    if "config" not in options:
        parser.add_argument(
            "--config",
            default=unset,
            help=f"contract file or directory (default $DATASRE_CONFIG or {DEFAULT_CONFIG})",
        )
    if "debug" not in options:
        parser.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS if nested else False,
            help="show tracebacks for errors",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = DatasreArgumentParser(
        prog="datasre",
        description="Data-quality and drift validation for production ML models, "
        "SLOs with dual-track error budgets, and a deployment gate.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # command not built yet
            raise
        module.register(subparsers)
    for sub in subparsers.choices.values():
        _add_common_options(sub)
    return parser


def parse_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """``parser.parse_args``, but an unknown option is blamed on its subcommand (whose
    help lists the options), not on the top-level parser."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = getattr(args, "command", None)
        prog = f"{parser.prog} {command}" if command else parser.prog
        raise CommandLineError(f"unrecognized arguments: {' '.join(extra)} (see `{prog} --help`)")
    return args


def _one_line(exc: Exception) -> str:
    """The error as one line: a contract file's first problem where it is (file:line:col,
    as ``contract check`` says it) and how many more there are; else the first line."""
    located = getattr(exc, "located", None)  # checks.contract_loader.ContractFileError
    if isinstance(located, list) and located:
        more = len(located) - 1
        also = f" (and {more} more: `datasre contract check` lists them)" if more else ""
        return f"{located[0]}{also}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parse_arguments(parser, argv)
    except CommandLineError as exc:
        print(f"datasre: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        if getattr(args, "import_polars_first", True):  # Ctrl-C safe: held_interrupts
            import_holding_interrupts("polars")
        code = int(args.func(args))
        if sys.stdout is not None:  # None when the command was started with fd 1 closed
            sys.stdout.flush()  # inside the try: a reader gone away is caught below, too
    except BrokenPipeError:
        # The reader closed the pipe (`datasre explain ... | head`): stop quietly, with
        # the status of a process that SIGPIPE ended, and no second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (ContractError, InputError, UsageError, PoolBusyError, FileNotFoundError) as exc:
        if getattr(args, "debug", False):
            raise
        print(f"datasre: error: {terminal(_one_line(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError as exc:
        if getattr(args, "debug", False):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else "an allocation failed"
        print(f"datasre: error: out of memory: {detail}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("datasre: interrupted", file=sys.stderr)
        return 130
    return code


def console_main() -> NoReturn:
    """The ``datasre`` console script: :func:`main`, then the exit without the
    interpreter's teardown (:mod:`pipelines.process_exit`)."""
    exit_now(main())


if __name__ == "__main__":
    console_main()
