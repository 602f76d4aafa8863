"""``datasre contract check [PATH ...]``: validate contracts without running anything.

Prints one line per model (name, version, type, features, SLOs per track) and exits 0,
or the first problem as one line naming the file and key path with exit 2. Useful as a
pre-commit hook or a CI step on the repository holding the contracts.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pipelines.escape import terminal
from pipelines.settings import Settings

if TYPE_CHECKING:
    from checks.contract import Contract

__all__ = ["describe", "register", "run"]


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


def describe(contract: Contract) -> str:
    return (
        f"{contract.model} {contract.version} ({contract.type.value}, tier {contract.tier}): "
        f"{len(contract.features)} features, {len(contract.slos.model)} model SLOs, "
        f"{len(contract.slos.infra)} infra SLOs, owner {contract.owner}"
    )


def run(args: argparse.Namespace) -> int:
    from checks.contract import load_contracts

    paths = list(getattr(args, "paths", None) or []) or [
        Settings.from_env(config_path=args.config).config_path
    ]
    for path in paths:
        for contract in load_contracts(path):
            print(terminal(f"ok  {contract.path}: {describe(contract)}"))
    return 0
