"""``datasre init``: draft a model's contract from its training file and daily files.

Reads the training file and the first :data:`SAMPLE_DAYS` days of each daily source (the
globs name the files; their names must carry the day as ``YYYY-MM-DD``), infers the
contract (:mod:`checks.contract_inference`), writes the commented YAML and loads it back
as ``contract check`` would. An existing file is kept unless ``--force``. Exit 0 written,
2 for bad input (one line naming the file and column).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import os
import re
import shlex
from pathlib import Path
from typing import Final

from pipelines.commands.arguments import Subcommands, add_command, add_model, add_output

__all__ = ["SAMPLE_DAYS", "daily_pattern", "register", "run"]

#: Daily files read per source: enough to see the id, the columns and a day's volume,
#: few enough that an incident later in the history does not shape the contract.
SAMPLE_DAYS: Final = 3
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


#: ``datasre init``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """draft a model's contract from its training file and daily files

Infer a contract (feature dtypes, ranges, allowed values, id and timestamp columns,
prediction and label columns, SLOs in the data's own units) and write it as commented YAML
that `datasre contract check` accepts."""


def register(subparsers: Subcommands) -> None:
    parser = add_command(subparsers, "init", run, ABOUT)
    add_model(parser, help="model name (lowercase, digits, _)")
    parser.add_argument(
        "--type", required=True, choices=["classification", "regression", "ranking"]
    )
    parser.add_argument("--training", required=True, metavar="FILE", help="training parquet")
    parser.add_argument(
        "--features",
        required=True,
        metavar="GLOB",
        help="the daily feature files: 'features/*.parquet' (names carry YYYY-MM-DD), or a "
        "pattern with {date} as the contract's, e.g. 'features/dt={date}/*.parquet' (days in "
        "directories, several files a day)",
    )
    parser.add_argument("--predictions", metavar="GLOB", help="the daily prediction log files")
    parser.add_argument("--labels", metavar="GLOB", help="the daily label files")
    parser.add_argument("--tier", type=int, choices=[1, 2, 3], default=2)
    add_output(parser, "contract to write (default contracts/MODEL.yaml)", metavar="FILE")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def daily_pattern(option: str, pattern: str) -> tuple[str, dict[dt.date, str]]:
    """The files a daily glob matches by day (each day's file, or glob of its files), and
    the ``{date}`` pattern they share.

    A pattern that holds ``{date}`` (as a contract's does) is taken as it is: the day may
    then be in a directory (``features/dt={date}/*.parquet``) and a day may have several
    files. Otherwise each file's name must carry its day once.
    """
    from checks.errors import InputError

    files = sorted(glob.glob(pattern.replace("{date}", "*")))
    if not files:
        raise InputError(f"{pattern}: {option}: no file matches")
    if "{date}" in pattern:
        return pattern, _days_of_pattern(option, pattern, files)
    by_day: dict[dt.date, str] = {}
    patterns: set[str] = set()
    for file in files:
        name = os.path.basename(file)
        found = _DAY.findall(name)
        if len(found) != 1:
            raise InputError(
                f"{file}: {option}: file name must carry its day once (YYYY-MM-DD); for "
                "days in directories or several files a day, give the pattern with {date}, "
                "e.g. 'features/dt={date}/*.parquet'"
            )
        try:
            day = dt.date.fromisoformat(found[0])
        except ValueError:
            raise InputError(f"{file}: {option}: {found[0]} is not a date") from None
        by_day[day] = file
        patterns.add(os.path.join(os.path.dirname(file), name.replace(found[0], "{date}")))
    if len(patterns) != 1:
        raise InputError(
            f"{pattern}: {option}: files differ beyond their day: {sorted(patterns)} (several "
            "files a day: give the pattern with {date}, e.g. 'features/{date}/*.parquet')"
        )
    return patterns.pop(), by_day


def _days_of_pattern(option: str, pattern: str, files: list[str]) -> dict[dt.date, str]:
    """Each day a ``{date}`` pattern's ``files`` hold, with the glob of that day's files
    (the pattern with the day filled in)."""
    from checks.errors import InputError

    parts = [re.escape(part).replace(r"\*", "[^/]*") for part in pattern.split("{date}")]
    shape = re.compile(r"(\d{4}-\d{2}-\d{2})".join(parts) + r"\Z")
    by_day: dict[dt.date, str] = {}
    for file in files:
        matched = shape.match(file)
        if matched is None:
            continue
        try:
            day = dt.date.fromisoformat(matched.group(1))
        except ValueError:
            raise InputError(f"{file}: {option}: {matched.group(1)} is not a date") from None
        by_day[day] = pattern.replace("{date}", day.isoformat())
    if not by_day:
        raise InputError(f"{pattern}: {option}: no file has a YYYY-MM-DD day where {{date}} is")
    return by_day


def _daily(option: str, pattern: str | None, out_dir: Path) -> object | None:
    from assets.io import read_snapshot
    from checks.contract_inference import DailyFiles

    if pattern is None:
        return None
    shared, by_day = daily_pattern(option, pattern)
    days = sorted(by_day)[:SAMPLE_DAYS]
    frames = tuple((day, read_snapshot(by_day[day])) for day in days)
    return DailyFiles(_relative(shared, out_dir), min(by_day), frames)


def _relative(path: str, out_dir: Path) -> str:
    """``path`` relative to the contract's directory (the contract and its data move
    together), or absolute when they share no directory but the root."""
    absolute = os.path.abspath(path)
    if os.path.commonpath([absolute, out_dir]) == os.path.sep:
        return Path(absolute).as_posix()
    return Path(os.path.relpath(absolute, out_dir)).as_posix()


def run(args: argparse.Namespace) -> int:
    from assets.io import read_snapshot
    from checks.contract import MODEL_NAME_RULE, ModelType, load_contract
    from checks.contract_inference import DailyFiles, InitInputs, draft_contract
    from pipelines.cli import UsageError
    from pipelines.commands.contract import describe_line
    from pipelines.escape import terminal

    if not re.match(r"^[a-z][a-z0-9_]{0,62}\Z", args.model):
        raise UsageError(f"--model: {args.model!r} {MODEL_NAME_RULE}")
    output = Path(args.output or os.path.join("contracts", f"{args.model}.yaml"))
    if output.exists() and not args.force:
        raise UsageError(f"{output}: already exists (pass --force to overwrite it)")
    out_dir = output.resolve().parent
    if not glob.glob(args.training):
        from checks.errors import InputError

        raise InputError(f"{args.training}: --training: no file matches")
    training = read_snapshot(args.training)
    sources = {
        name: _daily(f"--{name}", getattr(args, name), out_dir)
        for name in ("features", "predictions", "labels")
    }
    features = sources["features"]
    assert isinstance(features, DailyFiles)
    predictions, labels = sources["predictions"], sources["labels"]
    inputs = InitInputs(
        model=args.model,
        model_type=ModelType(args.type),
        tier=args.tier,
        training_path=_relative(args.training, out_dir),
        training=training,
        features=features,
        predictions=predictions if isinstance(predictions, DailyFiles) else None,
        labels=labels if isinstance(labels, DailyFiles) else None,
        where={
            "training": args.training,
            **{k: getattr(args, k) for k in ("features", "predictions", "labels")},
        },
    )
    text = draft_contract(inputs)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    contract = load_contract(output)
    print(terminal(f"wrote {output}: {describe_line(contract)}"))
    where = shlex.quote(str(output))
    print(
        terminal(
            "next: set owner and runbook (the gate blocks without them) and read every "
            f"comment, then `datasre contract check {where}`, a run, `datasre run "
            f"--config {where} --model {contract.model} --all`, and the gate, `datasre "
            f"gate --config {where} --model {contract.model}` (or put the file in the "
            "directory your --config / $DATASRE_CONFIG names)"
        )
    )
    if inputs.predictions is None:
        # Every infra SLI (latency, availability, throughput, cost) reads the log.
        print(
            terminal(
                "note: without --predictions the contract has no infra SLO, and the gate "
                "blocks every version on it (contract_no_infra_slo): draft again with the "
                "prediction log's files"
            )
        )
    return 0
