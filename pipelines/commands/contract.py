"""``datasre contract check|schema|docs``: the contract without running anything.

- ``check [PATH ...]`` prints a table, one row per model (name, version, type, tier,
  features, SLOs per track, owner, file) and exits 0; or every problem of every file, one
  line each naming the file, line, column and key path
  (``contracts/x.yaml:14:5: features.amount.dtype: ...``), with exit 2. Useful as a
  pre-commit hook or a CI step on the repository holding the contracts.
- ``schema [--output F]`` writes the contract's JSON Schema (for an editor's YAML
  language server).
- ``docs [--output F] [--check]`` regenerates the key reference of docs/contract.md
  from the model; ``--check`` exits 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipelines.settings import Settings
from pipelines.tables import text_table

if TYPE_CHECKING:
    from checks.contract import Contract

__all__ = [
    "COLUMNS",
    "DOCS_PATH",
    "describe",
    "describe_line",
    "register",
    "run",
    "run_docs",
    "run_schema",
]

#: The document whose key reference ``contract docs`` regenerates.
DOCS_PATH: Final = Path("docs/contract.md")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "contract",
        help="validate contract files",
        description="Validate contract YAML files: schema, key paths, SLO names and bounds.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="load and validate contracts, print a summary")
    check.add_argument("paths", nargs="*", help="contract files or directories (default: --config)")
    check.set_defaults(func=run)
    schema = actions.add_parser("schema", help="write the contract's JSON Schema")
    schema.add_argument("--output", type=Path, help="file to write (default: stdout)")
    schema.set_defaults(func=run_schema, import_polars_first=False)
    docs = actions.add_parser("docs", help="regenerate the key reference of docs/contract.md")
    docs.add_argument("--output", type=Path, default=DOCS_PATH, help=f"default: {DOCS_PATH}")
    docs.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    docs.set_defaults(func=run_docs, import_polars_first=False)
    parser.set_defaults(func=run)


#: Columns of ``contract check``'s table.
COLUMNS: Final = (
    "model",
    "version",
    "type",
    "tier",
    "features",
    "model_slos",
    "infra_slos",
    "owner",
    "file",
)


def describe(contract: Contract) -> tuple[object, ...]:
    """The contract's row of the table (:data:`COLUMNS`)."""
    return (
        contract.model,
        contract.version,
        contract.type.value,
        contract.tier,
        len(contract.features),
        len(contract.slos.model),
        len(contract.slos.infra),
        contract.owner,
        contract.path,
    )


def describe_line(contract: Contract) -> str:
    """The contract in one line of words (``datasre init``'s confirmation)."""
    return (
        f"{contract.model} {contract.version}, {contract.type.value}, tier {contract.tier}, "
        f"{len(contract.features)} features, {len(contract.slos.model)} model SLOs, "
        f"{len(contract.slos.infra)} infra SLOs, owner {contract.owner}"
    )


def run(args: argparse.Namespace) -> int:
    """Validate every file; print the table, or every problem with its line (exit 2)."""
    from assets.training_columns import training_problems
    from checks.contract import ContractFileError, contract_files, load_contract, load_contracts
    from pipelines.escape import terminal

    paths = list(getattr(args, "paths", None) or []) or [
        Settings.from_env(config_path=args.config).config_path
    ]
    problems: list[str] = []
    for file in [file for path in paths for file in contract_files(path)]:
        try:
            load_contract(file)
        except ContractFileError as exc:
            problems += exc.located
    if problems:
        for line in problems:
            print(f"datasre: error: {terminal(line)}", file=sys.stderr)
        return 2
    contracts = [contract for path in paths for contract in load_contracts(path)]
    checked = [training_problems(contract) for contract in contracts]
    for _, warnings in checked:
        for line in warnings:
            print(f"datasre: warning: {terminal(line)}", file=sys.stderr)
    errors = [line for found, _ in checked for line in found]
    if errors:
        for line in errors:
            print(f"datasre: error: {terminal(line)}", file=sys.stderr)
        return 2
    print("\n".join(text_table(COLUMNS, [describe(contract) for contract in contracts])))
    _warn_unready(contracts)
    return 0


def _warn_unready(contracts: list[Contract]) -> None:
    """What the gate's contract check would block on (no owner or runbook, a track with no
    SLO), on stderr: the files are valid, but no version of these models can ship yet."""
    from checks.gate_checks import check_contract
    from checks.slo_evaluation import declared_definitions
    from pipelines.escape import terminal

    for contract in contracts:
        for reason in check_contract(contract, declared_definitions(contract)):
            print(
                f"datasre: warning: {terminal(reason.message)} (the gate blocks: {reason.code})",
                file=sys.stderr,
            )


def run_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schema to ``--output`` or stdout."""
    from pipelines.contract_reference import contract_json_schema

    text = json.dumps(contract_json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def run_docs(args: argparse.Namespace) -> int:
    """Regenerate the key reference between the markers of ``--output`` (or, with
    ``--check``, exit 1 when it differs from the model)."""
    from pipelines.contract_reference import with_key_reference
    from pipelines.usage import UsageError

    path: Path = args.output
    try:
        current = path.read_text(encoding="utf-8")
        fresh = with_key_reference(current, path)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc) if isinstance(exc, ValueError) else f"{path}: {exc}") from None
    if fresh == current:
        print(f"{path}: key reference is up to date")
        return 0
    if args.check:
        print(f"{path}: key reference is stale: run `datasre contract docs`", file=sys.stderr)
        return 1
    path.write_text(fresh, encoding="utf-8")
    print(f"{path}: key reference regenerated")
    return 0
