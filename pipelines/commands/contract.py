"""``datasre contract check [PATH ...]``: validate contracts without running anything.

Prints a table, one row per model (name, version, type, tier, features, SLOs per track,
owner, file) and exits 0, or the first problem as one line naming the file and key path
with exit 2. Useful as a pre-commit hook or a CI step on the repository holding the
contracts.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Final

from pipelines.settings import Settings
from pipelines.tables import text_table

if TYPE_CHECKING:
    from checks.contract import Contract

__all__ = ["COLUMNS", "describe", "register", "run"]


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


def run(args: argparse.Namespace) -> int:
    from checks.contract import load_contracts

    paths = list(getattr(args, "paths", None) or []) or [
        Settings.from_env(config_path=args.config).config_path
    ]
    rows = [describe(contract) for path in paths for contract in load_contracts(path)]
    print("\n".join(text_table(COLUMNS, rows)))
    return 0
