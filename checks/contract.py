"""The model contract: one YAML file per model, loaded into frozen, typed pydantic models.

A contract is what a data SRE declares about a model in production: where its parquet
snapshots are, what the feature schema is, and the SLOs on the two tracks (``infra`` and
``model``). Unknown keys are rejected and every error names the file and the key path,
e.g. ``contracts/fraud.yaml: slos.model.completeness.objective: must be between 0 and 1``.

Objectives are stored in the unit the SLI's name says (fractions, never percentages;
seconds for ``*_seconds``, milliseconds for ``*_ms``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from checks.errors import ContractError
from checks.runbooks import IncidentClass
from checks.slo_catalog import (
    SLICED_METRICS,
    SLO_CATALOG,
    Comparator,
    ModelType,
    Needs,
    SloCatalogEntry,
    Slos,
    SloSpec,
    Track,
    slice_slo_name,
)
from checks.slo_templates import with_default_slos

__all__ = [
    "MODEL_NAME_RULE",
    "SAFE_PATH_NAME",
    "SLICED_METRICS",
    "SLO_CATALOG",
    "VERSION_RULE",
    "Comparator",
    "Contract",
    "ContractError",
    "DriftOverride",
    "FeatureSpec",
    "ModelType",
    "Needs",
    "PredictionColumns",
    "ScheduleSpec",
    "SloCatalogEntry",
    "SloSpec",
    "Slos",
    "Sources",
    "Track",
    "apply_slo_defaults",
    "is_safe_path_name",
    "load_contract",
    "load_contracts",
    "slice_slo_name",
]


FeatureDtype = Literal[
    "Float64",
    "Float32",
    "Int64",
    "Int32",
    "Int16",
    "Int8",
    "UInt64",
    "UInt32",
    "UInt16",
    "UInt8",
    "Boolean",
    "String",
    "Categorical",
    "Date",
    "Datetime",
]
DriftMethod = Literal["psi", "ks", "chi2", "js", "wasserstein"]

NUMERIC_DTYPES: frozenset[str] = frozenset(
    {"Float64", "Float32", "Int64", "Int32", "Int16", "Int8", "UInt64", "UInt32", "UInt16", "UInt8"}
)


class _Frozen(BaseModel):
    """Strings are kept verbatim: a feature named ``"b\\t"`` or an allowed value ``"b\\t"``
    is the data's own name, and stripping it would flag the real value as not allowed.
    Names that become paths are checked by :data:`SAFE_PATH_NAME` instead."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DriftOverride(_Frozen):
    """Per-feature drift settings that replace the defaults of docs/design.md's drift rule.

    ``threshold`` maps a method (``psi``, ``ks``, ``chi2``, ``js``, ``wasserstein``) to the
    effect size above which that method's rule fires.
    """

    methods: tuple[DriftMethod, ...] | None = None
    threshold: dict[DriftMethod, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    bins: Annotated[int, Field(ge=2, le=1000)] | None = None
    enabled: bool = True


class FeatureSpec(_Frozen):
    """One input column of the model: dtype, nullability, range and allowed values."""

    dtype: FeatureDtype
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed_values: tuple[str, ...] | None = None
    max_null_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    drift: DriftOverride = Field(default_factory=DriftOverride)

    @model_validator(mode="after")
    def _range_ordered(self) -> FeatureSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.allowed_values is not None and self.dtype not in ("String", "Categorical"):
            raise ValueError("allowed_values needs dtype String or Categorical")
        if (self.min is not None or self.max is not None) and self.dtype not in NUMERIC_DTYPES:
            raise ValueError(f"min/max need a numeric dtype, not {self.dtype}")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.dtype in NUMERIC_DTYPES


class Sources(_Frozen):
    """Where the snapshots are. Paths resolve relative to the contract file.

    ``features``, ``predictions`` and ``labels`` are patterns with a ``{date}`` placeholder
    (``YYYY-MM-DD``) and may contain globs; ``training`` is one file or glob.
    ``prediction_baseline`` (optional) is the model's predictions on a holdout drawn like
    the training data: the baseline of prediction drift (score and predicted label), which
    shows at once what labels will only show days later.
    """

    training: str
    prediction_baseline: str | None = None
    features: str
    predictions: str | None = None
    labels: str | None = None
    id_column: str
    timestamp_column: str
    training_timestamp_column: str | None = None
    start_date: dt.date
    strict_columns: bool = True
    #: Labels of day D must be in this many days after D's evaluation time (``schedule``):
    #: until then a missing label file is expected (quality SLOs are judged on the newest
    #: labelled day); after it, the labels are overdue, which blocks the gate.
    max_label_delay_days: Annotated[float, Field(ge=0, le=366)] = 3.0

    @field_validator("features", "predictions", "labels")
    @classmethod
    def _has_date(cls, value: str | None) -> str | None:
        if value is not None and "{date}" not in value:
            raise ValueError("must contain the {date} placeholder")
        return value


class PredictionColumns(_Frozen):
    """Columns of the prediction log (and of the label file, for ``target``)."""

    score: str | None = None
    predicted_label: str | None = None
    target: str | None = None
    latency_ms: str | None = None
    cost: str | None = None
    status: str | None = None
    success_value: str = "ok"
    positive_label: str = "1"
    ranking_group: str | None = None
    ndcg_k: Annotated[int, Field(ge=1)] = 10


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: (name, lowest, highest, names for low..) of the five cron fields.
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _WEEKDAYS),
)


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text in names:
        return low + names.index(text)
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def _cron_field_ok(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    """One cron field: ``*``, a value, ``a-b``, any of those ``/step``, comma lists."""
    for item in text.split(","):
        base, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        first = _cron_value(start, low, high, names)
        last = _cron_value(end, low, high, names) if dash else first
        if first is None or last is None or first > last:
            return False
    return True


class ScheduleSpec(_Frozen):
    """When the daily run happens. A partition (day D) is evaluated as of
    ``D + 1 day + evaluation_delay_hours`` in ``timezone``, capped at the wall clock."""

    cron: str = "0 6 * * *"
    timezone: str = "UTC"
    evaluation_delay_hours: Annotated[float, Field(ge=0, le=24 * 30)] = 6.0

    @field_validator("cron")
    @classmethod
    def _cron_fields(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5:
            raise ValueError("must be a five-field cron expression, e.g. '0 6 * * *'")
        for field_text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
            if not _cron_field_ok(field_text.lower(), low, high, names):
                raise ValueError(f"{name} field {field_text!r} of {value!r} is not valid cron")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


#: A model name: it names the model's state directories and files, its Dagster asset
#: keys and partitions. 63 characters at most (a DNS label, a Kubernetes name).
_MODEL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
MODEL_NAME_RULE: Final = "must be 1 to 63 lowercase letters, digits and '_', starting with a letter"
#: A model version: it is a directory name under the state directory
#: (``profiles/<model>/<version>/``), so it can never be ``..`` or hold a ``/``.
SAFE_PATH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,62}\Z")
VERSION_RULE: Final = (
    "must be 1 to 63 letters, digits, '.', '_', '+' or '-', starting with a letter or "
    "digit and without '..' (it names a directory of the state dir)"
)


def is_safe_path_name(value: str) -> bool:
    """Whether ``value`` may be one path component under the state directory: matches
    :data:`SAFE_PATH_NAME` and holds no ``..`` (so never ``.``, ``..`` or a separator)."""
    return bool(SAFE_PATH_NAME.match(value)) and ".." not in value


class Contract(_Frozen):
    """A model's contract. ``path`` is the file it was loaded from (set by the loader)."""

    model: str
    type: ModelType
    version: str
    owner: str
    tier: Annotated[int, Field(ge=1, le=3)] = 2
    runbook: str | None = None
    #: The model's own runbook per incident class (``checks.runbooks``), replacing the
    #: shipped one of ``docs/runbooks/``; keys must be incident class names.
    runbooks: dict[IncidentClass, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    description: str | None = None
    sources: Sources
    features: dict[str, FeatureSpec]
    predictions: PredictionColumns = Field(default_factory=PredictionColumns)
    slices: tuple[str, ...] = ()
    sensitive_attributes: tuple[str, ...] = ()
    min_slice_rows: Annotated[int, Field(ge=1)] = 100
    slos: Slos = Field(default_factory=Slos)
    #: Fill in the default SLO templates of the model's type and tier
    #: (``checks.slo_templates.default_slos``); SLOs declared under ``slos`` win.
    slo_templates: bool = False
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    path: Path = Path("<memory>")

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(f"{value!r} {MODEL_NAME_RULE}")
        return value

    @field_validator("version")
    @classmethod
    def _version_name(cls, value: str) -> str:
        if not is_safe_path_name(value):
            raise ValueError(f"{value!r} {VERSION_RULE}")
        return value

    @field_validator("features")
    @classmethod
    def _some_features(cls, value: dict[str, FeatureSpec]) -> dict[str, FeatureSpec]:
        if not value:
            raise ValueError("must declare at least one feature")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Contract:
        for track_name, slos in (("infra", self.slos.infra), ("model", self.slos.model)):
            for name, spec in slos.items():
                _check_slo(track_name, name, spec)
        for field_name in ("slices", "sensitive_attributes"):
            for column in getattr(self, field_name):
                if column not in self.features:
                    raise ValueError(f"{field_name}: {column!r} is not a declared feature")
        for track_name, slos in (("infra", self.slos.infra), ("model", self.slos.model)):
            for name in slos:
                why = self.why_unmeasurable(name)
                if why is not None:
                    raise ValueError(f"slos.{track_name}.{name}: can never be measured: {why}")
        reserved = {self.sources.id_column, self.sources.timestamp_column}
        clash = reserved & set(self.features)
        if clash:
            raise ValueError(f"features: {sorted(clash)} are the id/timestamp columns")
        return self

    # --- resolved paths -------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, pattern: str, day: dt.date | None = None) -> str:
        """Absolute path (or glob) for a source pattern, with ``{date}`` filled in."""
        text = pattern.replace("{date}", day.isoformat()) if day is not None else pattern
        path = Path(text)
        return os.path.normpath(path if path.is_absolute() else (self.base_dir / path))

    @property
    def numeric_features(self) -> list[str]:
        return [name for name, spec in self.features.items() if spec.is_numeric]

    @property
    def categorical_features(self) -> list[str]:
        return [name for name, spec in self.features.items() if not spec.is_numeric]

    def why_unmeasurable(self, name: str) -> str | None:
        """Why this contract can never produce the SLI ``name`` (None when it can).

        An SLO nobody can measure would stay ``not_evaluated`` forever and never burn.
        """
        entry = SLO_CATALOG[name]
        if entry.model_types is not None and self.type not in entry.model_types:
            kinds = " or ".join(sorted(t.value for t in entry.model_types))
            return f"it is measured for {kinds} models, and this one is {self.type.value}"
        pc, src = self.predictions, self.sources
        missing: dict[Needs, tuple[bool, str]] = {
            Needs.PREDICTIONS: (src.predictions is None, "no sources.predictions"),
            Needs.LABELS: (
                src.predictions is None or src.labels is None or pc.target is None,
                "it needs labels: sources.predictions, sources.labels and predictions.target",
            ),
            Needs.SCORE: (pc.score is None, "no predictions.score column"),
            Needs.LABEL_OR_SCORE: (
                pc.score is None and pc.predicted_label is None,
                "neither predictions.predicted_label nor predictions.score",
            ),
            Needs.LATENCY: (pc.latency_ms is None, "no predictions.latency_ms column"),
            Needs.COST: (pc.cost is None, "no predictions.cost column"),
            Needs.STATUS: (pc.status is None, "no predictions.status column"),
            Needs.RANKING_GROUP: (pc.ranking_group is None, "no predictions.ranking_group"),
            Needs.SENSITIVE_ATTRIBUTES: (
                not self.sensitive_attributes,
                "no sensitive_attributes to compare groups of",
            ),
            Needs.SLICES: (not self.slices, "no slices declared"),
            Needs.CATEGORICAL_FEATURES: (
                not self.categorical_features,
                "no String or Categorical feature",
            ),
        }
        reasons = [missing[need][1] for need in entry.needs if missing[need][0]]
        return "; ".join(reasons) if reasons else None

    def evidence_delay_days(self, name: str) -> float:
        """Days after a partition's evaluation time that the SLI ``name`` may arrive late:
        ``sources.max_label_delay_days`` for SLIs measured from labels, else 0."""
        return self.sources.max_label_delay_days if SLO_CATALOG[name].needs_labels else 0.0

    def slo(self, name: str) -> SloSpec | None:
        """The declared SLO of that name on either track, or ``None``."""
        return self.slos.model.get(name) or self.slos.infra.get(name)

    def comparator(self, name: str) -> Comparator:
        spec = self.slo(name)
        if spec is not None and spec.comparator is not None:
            return spec.comparator
        return SLO_CATALOG[name].comparator


def apply_slo_defaults(contract: Contract) -> Contract:
    """The contract with the default SLOs of its type and tier filled in (what
    ``slo_templates: true`` asks of the loader); declared SLOs and window win, and
    templates the contract cannot measure (:meth:`Contract.why_unmeasurable`) are left out."""
    filled = with_default_slos(
        contract.slos,
        contract.type,
        contract.tier,
        measurable=lambda name: contract.why_unmeasurable(name) is None,
    )
    return contract.model_copy(update={"slos": filled})


def _check_slo(track_name: str, name: str, spec: SloSpec) -> None:
    entry = SLO_CATALOG.get(name)
    where = f"slos.{track_name}.{name}"
    if entry is None:
        known = ", ".join(sorted(k for k, v in SLO_CATALOG.items() if v.track == track_name))
        raise ValueError(f"{where}: unknown SLO (known on this track: {known})")
    if entry.track != track_name:
        raise ValueError(f"{where}: belongs to the {entry.track} track")
    low, high = entry.bounds
    if (low is not None and spec.objective < low) or (high is not None and spec.objective > high):
        if low is not None and high is not None:
            raise ValueError(f"{where}.objective: must be between {low:g} and {high:g}")
        raise ValueError(f"{where}.objective: must be >= {low:g}")


def _format_location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _first_error(exc: ValidationError) -> str:
    """One line for the first error: ``key.path: message``."""
    err = exc.errors(include_url=False)[0]
    loc = _format_location(tuple(err["loc"]))
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "required key is missing"
    # Cross-field validators report their own key path inside the message.
    if not loc:
        return message
    if message.startswith(("slos.", "slices", "sensitive_attributes", "features:")):
        return message
    return f"{loc}: {message}"


class _ContractLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings (pydantic validates them with the key path)
    and refuses duplicate keys (YAML would silently keep the last one)."""


_ContractLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping_without_duplicates(loader: _ContractLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen.add(key)
    return loader.construct_mapping(node)


_ContractLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_contract(path: str | Path) -> Contract:
    """Load and validate one contract YAML.

    Raises
    ------
    ContractError
        With a one-line message ``<file>: <key.path>: <problem>``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{file}: contract file not found") from None
    except OSError as exc:
        raise ContractError(f"{file}: cannot read contract: {exc.strerror}") from None
    try:
        raw: Any = yaml.load(text, Loader=_ContractLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ContractError(f"{file}: {where}{problem}") from None
    if not isinstance(raw, dict):
        kind = type(raw).__name__
        raise ContractError(f"{file}: top level must be a mapping of keys, not {kind}")
    if "path" in raw:
        raise ContractError(f"{file}: path: unknown key")
    try:
        contract = Contract.model_validate({**raw, "path": file.resolve()})
    except ValidationError as exc:
        raise ContractError(f"{file}: {_first_error(exc)}") from None
    return apply_slo_defaults(contract) if contract.slo_templates else contract


def load_contracts(config: str | Path) -> list[Contract]:
    """Load one contract file, or every ``*.yaml``/``*.yml`` file of a directory (sorted).

    Model names must be unique across the directory.
    """
    root = Path(config)
    if root.is_dir():
        files = sorted([*root.glob("*.yaml"), *root.glob("*.yml")])
        if not files:
            raise ContractError(f"{root}: no contract files (*.yaml) in this directory")
    elif root.exists():
        files = [root]
    else:
        raise ContractError(f"{root}: config path not found (a contract file or a directory)")
    contracts = [load_contract(f) for f in files]
    seen: dict[str, Path] = {}
    for contract in contracts:
        if contract.model in seen:
            other = seen[contract.model]
            raise ContractError(f"{contract.path}: model: {contract.model!r} is also in {other}")
        seen[contract.model] = contract.path
    return contracts
