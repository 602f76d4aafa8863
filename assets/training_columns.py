"""Whether a contract's training data holds the features it declares (one message, used
by ``datasre contract check`` before any run and by the steps that read the data).

Why: a feature misspelt in the contract (``itms`` for ``items``) passed ``contract check``
and crashed the first run with a Python class name in a step's error (new-user
walkthrough). Reading the training files' footers is cheap; the check now names the
contract key and the closest column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import polars as pl

from assets.io import scan_snapshot
from checks.contract import Contract
from checks.errors import InputError
from checks.schemas import dtype_matches

__all__ = ["lacking_features", "training_problems"]


def lacking_features(contract: Contract, columns: Iterable[str], training_path: str) -> InputError:
    """The error for declared features that are not ``columns`` of the training data at
    ``training_path``: one line naming the file, the contract keys and the closest
    columns."""
    present = list(columns)
    missing = sorted(set(contract.features) - set(present))
    named = []
    for name in missing:
        close = difflib.get_close_matches(name, present, n=1)
        named.append(f"features.{name}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return InputError(
        f"{training_path}: training data lacks the declared {', '.join(named)} "
        f"of {contract.path.name}"
    )


def training_problems(contract: Contract) -> tuple[list[str], list[str]]:
    """What is wrong with the contract's training data, one line each: (errors, warnings).
    An error: the files read and lack a declared feature. A warning: they could not be read
    from here (not found, not parquet: a CI job without the data mounted may still check
    the contract's own keys). Reads only the parquet footers."""
    training_path = contract.resolve(contract.sources.training)
    try:
        schema = scan_snapshot(training_path).collect_schema()
    except InputError as exc:
        return [], [f"{contract.path}: sources.training: not checked: {exc}"]
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [], [f"{contract.path}: sources.training: not checked: {training_path}: {reason}"]
    columns = schema.names()
    if not set(contract.features) <= set(columns):
        return [f"{contract.path}: {lacking_features(contract, columns, training_path)}"], []
    return [], _dtype_warnings(contract, schema, training_path)


def _dtype_warnings(contract: Contract, schema: pl.Schema, training_path: str) -> list[str]:
    """A warning per declared feature whose dtype is not training's: daily files written
    like the training file would breach ``schema_valid`` every day (``hour: Int32``
    against Int64 training passed the check; found by a new user). A warning, not an
    error: serving may write another type than training did."""
    return [
        f"{contract.path}: features.{name}: declared {spec.dtype}, but {training_path} has "
        f"{schema[name]}: daily files typed like training would breach schema_valid"
        for name, spec in contract.features.items()
        if name in schema and not dtype_matches(spec.dtype, schema[name])
    ]
