"""The options several ``datasre`` subcommands share, declared once.

``--model``, ``--version``, ``--partition``, ``--as-of``, ``--window-days``, ``--output``
and ``--format`` mean the same in every command that takes them; a command passes only
what differs (whether the option is required, its help where the default differs).
:func:`add_command` adds a subcommand from its help text and its ``run`` function.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import Final, TypeAlias

__all__ = [
    "Parser",
    "Subcommands",
    "add_as_of",
    "add_command",
    "add_format",
    "add_model",
    "add_output",
    "add_partition",
    "add_version",
    "add_window_days",
]

#: What ``ArgumentParser.add_subparsers`` returns: where subcommands are added.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Parser: TypeAlias = argparse.ArgumentParser

_MODEL_HELP: Final = "model name (as in its contract)"
_VERSION_HELP: Final = "model version (default the contract's)"


def add_command(
    subparsers: Subcommands,
    name: str,
    run: Callable[[argparse.Namespace], int] | None,
    about: str,
) -> argparse.ArgumentParser:
    """The subcommand ``name`` calling ``run(args)`` (None: one of its own subcommands
    runs). ``about`` is its help: the line the command list shows, a blank line, then the
    description ``datasre NAME --help`` shows (argparse rewraps both, so the source may
    break lines anywhere)."""
    summary, _, description = about.partition("\n\n")
    parser = subparsers.add_parser(
        name, help=" ".join(summary.split()), description=" ".join(description.split())
    )
    if run is not None:
        parser.set_defaults(func=run)
    return parser


def add_model(parser: Parser, *, required: bool = True, help: str = _MODEL_HELP) -> None:
    """``--model``: the model, by the name its contract gives it."""
    parser.add_argument("--model", required=required, default=None, help=help)


def add_version(parser: Parser, *, required: bool = False, help: str = _VERSION_HELP) -> None:
    """``--version``: the model version (by default the one the contract declares)."""
    parser.add_argument("--version", required=required, default=None, help=help)


def add_partition(parser: Parser, help: str) -> None:
    """``--partition YYYY-MM-DD``: the day (by default the newest in the store)."""
    parser.add_argument("--partition", default=None, metavar="YYYY-MM-DD", help=help)


def parse_day(option: str, text: str) -> dt.date:
    """``text`` as a calendar day, or a :class:`~pipelines.usage.UsageError` naming
    ``option`` (e.g. ``--partition: '2026-02-30' is not a YYYY-MM-DD day``)."""
    from pipelines.usage import UsageError

    if len(text) == len("YYYY-MM-DD") and text[4] == text[7] == "-":
        with suppress(ValueError):  # 2026-02-30: the same one line below
            return dt.date.fromisoformat(text)
    raise UsageError(f"{option}: {text!r} is not a YYYY-MM-DD day")


def parse_moment(option: str, text: str) -> dt.datetime:
    """``text`` as a timezone-aware time (ISO 8601; UTC when it names no zone), or a
    :class:`~pipelines.usage.UsageError` naming ``option``. A bare day is midnight UTC,
    said on stderr: ``--as-of 2026-11-15`` judged the day before the one a reader of
    ``2026-11-15T07:00:00Z`` examples expects (new-user walkthrough)."""
    from pipelines.usage import UsageError

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not an ISO 8601 time") from None
    if "T" not in text.upper() and " " not in text.strip():
        print(
            f"datasre: note: {option} {text} is {text}T00:00:00Z, the start of that day "
            "(UTC); give a time to say otherwise",
            file=sys.stderr,
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def add_as_of(parser: Parser, help: str) -> None:
    """``--as-of ISO``: the decision time, ISO 8601."""
    parser.add_argument("--as-of", default=None, metavar="ISO", help=help)


def add_window_days(parser: Parser, help: str) -> None:
    """``--window-days N``: the error-budget window, days."""
    parser.add_argument("--window-days", type=int, default=None, metavar="N", help=help)


def add_output(parser: Parser, help: str, metavar: str | None = None) -> None:
    """``--output``: where to write instead of the default place."""
    parser.add_argument("--output", default=None, metavar=metavar, help=help)


def add_format(parser: Parser, *choices: str) -> None:
    """``--format``: one of ``choices``, the first by default."""
    parser.add_argument("--format", choices=choices, default=choices[0])
