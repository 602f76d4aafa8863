"""The contract of the one model a command is about, found in a shared contract directory.

A command about one model (``gate``, ``waive``, ``explain``, ``report``,
``validate-candidate``) needs only that model's contract file to be valid: another
team's broken file is a warning on stderr, not this model's failure
(:func:`checks.contract_loader.load_contract_of`). ``datasre contract check``, ``run``
(whose Dagster definitions load every contract) and ``export`` stay strict.
"""

from __future__ import annotations

import sys
from pathlib import Path

from checks.contract import Contract
from checks.contract_loader import InvalidContract, load_contract_of

__all__ = ["contract_named"]


def _warn(skipped: tuple[InvalidContract, ...]) -> None:
    for bad in skipped:
        print(
            f"datasre: warning: skipped an invalid contract ({bad.error}); "
            f"`datasre contract check {bad.path}` lists its problems",
            file=sys.stderr,
        )


def contract_named(config_path: str | Path, model: str) -> Contract:
    """The contract of ``model`` in ``config_path``; the other invalid files are warned
    about on stderr. Raises :class:`pipelines.cli.UsageError` for an unknown model (naming
    the known ones) and the contract's own error when its file is invalid."""
    from pipelines.cli import UsageError

    found = load_contract_of(config_path, model)
    _warn(found.invalid)
    if found.contract is not None:
        return found.contract
    known = ", ".join(found.models)
    raise UsageError(f"--model: unknown model {model!r} in {config_path} (known: {known})")
