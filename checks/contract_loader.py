"""Reading contract YAML files: every problem of a file at once, each with its line.

pydantic reports errors by key path (``features.amount.dtype``); the YAML node tree
(``yaml.compose``) knows where each key is written. Each validation error is mapped to
the mark of the deepest key of its path that the file has, so a message reads
``contracts/x.yaml:14:5: features.amount.dtype: Input should be ...`` (line and column
1-based, the convention editors and CI annotations parse).

:func:`load_contract` raises :class:`ContractFileError`: its message stays the first
problem without a position (one line, ``<file>: <key.path>: <problem>``, what every
caller prints), and :attr:`ContractFileError.located` holds all of them with positions
(what ``datasre contract check`` prints).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from checks.contract_model import Contract, apply_slo_defaults
from checks.errors import ContractError

__all__ = [
    "ContractFileError",
    "ContractLoader",
    "ContractLookup",
    "ContractProblem",
    "InvalidContract",
    "contract_files",
    "load_contract",
    "load_contract_of",
    "load_contracts",
]

#: Messages of cross-field validators that start with their own key path.
_SELF_LOCATED = ("slos.", "slices", "sensitive_attributes", "features:")


@dataclass(frozen=True)
class ContractProblem:
    """One problem of a contract file: the key path, the message and where it is written
    (``line`` and ``column`` 1-based; ``None`` when the file has no such place)."""

    file: Path
    key_path: str
    message: str
    line: int | None = None
    column: int | None = None

    def unlocated(self) -> str:
        """``<file>: <key.path>: <problem>``; a problem of the YAML itself (no key path)
        says ``line N:`` instead."""
        if self.key_path:
            where = f"{self.key_path}: "
        else:
            where = f"line {self.line}: " if self.line is not None else ""
        return f"{self.file}: {where}{self.message}"

    def located(self) -> str:
        """``<file>:<line>:<column>: <key.path>: <problem>``."""
        position = f":{self.line}:{self.column}" if self.line is not None else ""
        where = f"{self.key_path}: " if self.key_path else ""
        return f"{self.file}{position}: {where}{self.message}"


class ContractFileError(ContractError):
    """A contract file with at least one problem. ``str()`` is the first one found (one
    line, unlocated); :attr:`problems` are all of them in the order of the file."""

    def __init__(self, problems: list[ContractProblem]) -> None:
        super().__init__(problems[0].unlocated())
        ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        self.problems: tuple[ContractProblem, ...] = tuple(ordered)

    @property
    def located(self) -> list[str]:
        """Every problem, one line each, with its line and column."""
        return [problem.located() for problem in self.problems]


class ContractLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings (pydantic validates them with the key path)
    and refuses duplicate keys (YAML would silently keep the last one)."""


ContractLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping_without_duplicates(loader: ContractLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen.add(key)
    return loader.construct_mapping(node)


ContractLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def _node_at(root: yaml.Node, keys: tuple[int | str, ...]) -> yaml.Node:
    """The node of the deepest key of ``keys`` the document has: the key itself for a
    mapping entry (its line is where the key is written), the item for a list entry."""
    here, found = root, root
    for key in keys:
        if isinstance(here, yaml.MappingNode):
            entry = next((kv for kv in here.value if kv[0].value == str(key)), None)
            if entry is None:
                break
            found, here = entry
        elif isinstance(here, yaml.SequenceNode) and isinstance(key, int):
            if not 0 <= key < len(here.value):
                break
            found = here = here.value[key]
        else:
            break
    return found


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + item)
    return "".join(parts)


def _keys_at(model: Any, loc: tuple[int | str, ...]) -> list[str]:
    """The keys a contract accepts at key path ``loc`` (e.g. a feature's settings at
    ``("features", "amount")``), for a "did you mean" on an unknown key; [] when the path
    leads to no model."""
    current: Any = model
    for part in loc:
        current = _model_of(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or name: f for name, f in current.model_fields.items()}
            if part not in fields:
                return []
            current = fields[str(part)].annotation
        elif get_origin(current) in (dict, Mapping):
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple, Sequence):
            current = get_args(current)[0]
        else:
            return []
    current = _model_of(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _model_of(annotation: Any) -> Any:
    """``annotation`` without ``X | None`` (the one non-None member of a union)."""
    members = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(members) == 1:
        return members[0]
    return annotation


def _problem(file: Path, root: yaml.Node, error: ErrorDetails) -> ContractProblem:
    loc = tuple(error["loc"])
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _keys_at(Contract, loc[:-1]), n=1)
        message = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif error["type"] == "missing":
        message = "required key is missing"
    key_path = _key_path(loc)
    if not loc or message.startswith(_SELF_LOCATED):
        # A cross-field validator names its own key path in the message.
        named, _, rest = message.partition(": ")
        loc = tuple(named.split(".")) if rest else ()
        key_path, message = (named, rest) if rest else ("", message)
    mark = _node_at(root, loc).start_mark
    return ContractProblem(file, key_path, message, mark.line + 1, mark.column + 1)


def _read_yaml(file: Path) -> tuple[Any, yaml.Node | None]:
    """The file's data and node tree, or :class:`ContractFileError` naming file and line."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractFileError([ContractProblem(file, "", "contract file not found")]) from None
    except OSError as exc:
        problem = ContractProblem(file, "", f"cannot read contract: {exc.strerror}")
        raise ContractFileError([problem]) from None
    loader = ContractLoader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = str(getattr(exc, "problem", None) or "invalid YAML")
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise ContractFileError([ContractProblem(file, "", what, line, column)]) from None
    finally:
        loader.dispose()


def load_contract(path: str | Path) -> Contract:
    """Load and validate one contract YAML.

    Raises
    ------
    ContractFileError
        A :class:`ContractError` whose message is the first problem, one line
        ``<file>: <key.path>: <problem>``; ``.located`` lists every problem with its line.
    """
    file = Path(path)
    raw, root = _read_yaml(file)
    if not isinstance(raw, dict) or root is None:
        kind = type(raw).__name__
        message = f"top level must be a mapping of keys, not {kind}"
        raise ContractFileError([ContractProblem(file, "", message)])
    problems: list[ContractProblem] = []
    if "path" in raw:
        mark = _node_at(root, ("path",)).start_mark
        line, column = mark.line + 1, mark.column + 1
        problems.append(ContractProblem(file, "path", "unknown key", line, column))
    body = {key: value for key, value in raw.items() if key != "path"}
    try:
        contract = Contract.model_validate({**body, "path": file.resolve()})
    except ValidationError as exc:
        problems += [_problem(file, root, error) for error in exc.errors(include_url=False)]
    if problems:
        raise ContractFileError(problems)
    return apply_slo_defaults(contract) if contract.slo_templates else contract


def contract_files(config: str | Path) -> list[Path]:
    """The contract file ``config``, or every ``*.yaml``/``*.yml`` file of that directory
    (sorted)."""
    root = Path(config)
    if root.is_dir():
        files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        if not files:
            raise ContractError(f"{root}: no contract files (*.yaml) in this directory")
        return files
    if root.exists():
        return [root]
    raise ContractError(
        f"{root}: config path not found (a contract file or a directory; pass --config or "
        "set $DATASRE_CONFIG)"
    )


@dataclass(frozen=True)
class InvalidContract:
    """A contract file that did not load: its error, and the model it names when its YAML
    says one (None when the file is not even readable YAML with a ``model`` key)."""

    path: Path
    error: ContractError
    model: str | None


def _named_model(file: Path) -> str | None:
    """The ``model`` key of a contract file that does not validate, best effort."""
    try:
        raw, _ = _read_yaml(file)
    except ContractError:
        return None
    model = raw.get("model") if isinstance(raw, dict) else None
    return model if isinstance(model, str) else None


@dataclass(frozen=True)
class ContractLookup:
    """:func:`load_contract_of`'s answer: the contract (None: no valid file holds the
    model), the models of the valid files, and the files that did not load."""

    contract: Contract | None
    models: tuple[str, ...]
    invalid: tuple[InvalidContract, ...]


def load_contract_of(config: str | Path, model: str) -> ContractLookup:
    """The contract of ``model`` in ``config``, the valid files' models, and the other
    files that did not load (for a warning).

    Why: one team's typo in a shared contract directory failed every other model's
    ``gate`` and ``report`` with its error (found by a new-user walkthrough); a command
    about one model now needs only that model's file to be valid. An invalid file that
    names ``model``, or one whose model cannot be read while no valid file holds
    ``model``, still raises its error: the model asked about is never judged without its
    contract. ``datasre contract check`` stays strict about every file."""
    found: list[Contract] = []
    invalid: list[InvalidContract] = []
    for file in contract_files(config):
        try:
            found.append(load_contract(file))
        except ContractError as exc:
            invalid.append(InvalidContract(file, exc, _named_model(file)))
    for bad in invalid:
        if bad.model == model:
            raise bad.error
    mine = [c for c in found if c.model == model]
    if len(mine) > 1:
        raise ContractError(f"{mine[1].path}: model: {model!r} is also in {mine[0].path}")
    if not mine:
        unnamed = [bad for bad in invalid if bad.model is None]
        if unnamed:
            raise unnamed[0].error
    models = tuple(sorted(c.model for c in found))
    return ContractLookup(mine[0] if mine else None, models, tuple(invalid))


def load_contracts(config: str | Path) -> list[Contract]:
    """Load one contract file, or every contract file of a directory (:func:`contract_files`).

    Model names must be unique across the directory.
    """
    contracts = [load_contract(f) for f in contract_files(config)]
    seen: dict[str, Path] = {}
    for contract in contracts:
        if contract.model in seen:
            other = seen[contract.model]
            raise ContractError(f"{contract.path}: model: {contract.model!r} is also in {other}")
        seen[contract.model] = contract.path
    return contracts
