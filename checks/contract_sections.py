"""The sections of a model contract: features, sources, prediction columns, schedule.

Each is a frozen pydantic model that rejects unknown keys; every key carries a docstring,
which is its description in the JSON Schema (``datasre contract schema``) and in the key
reference of docs/contract.md (``datasre contract docs``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "MODEL_NAME_RULE",
    "NUMERIC_DTYPES",
    "SAFE_PATH_NAME",
    "VERSION_RULE",
    "ContractSection",
    "DriftOverride",
    "DriftSettings",
    "FeatureDtype",
    "FeatureSpec",
    "PredictionColumns",
    "ScheduleSpec",
    "Sources",
    "is_model_name",
    "is_safe_path_name",
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


class ContractSection(BaseModel):
    """Strings are kept verbatim: a feature named ``"b\\t"`` or an allowed value ``"b\\t"``
    is the data's own name, and stripping it would flag the real value as not allowed.
    Names that become paths are checked by :data:`SAFE_PATH_NAME` instead."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class DriftOverride(ContractSection):
    """Per-feature drift settings that replace the defaults of docs/design.md's drift rule.

    ``threshold`` maps a method (``psi``, ``ks``, ``chi2``, ``js``, ``wasserstein``) to the
    effect size above which that method's rule fires.
    """

    methods: tuple[DriftMethod, ...] | None = None
    """Drift tests run on this feature (psi, ks, chi2, js, wasserstein); unset: psi, ks and
    chi2, each where it fits the feature's kind."""
    threshold: dict[DriftMethod, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Effect size above which a method's rule fires, per method (e.g. ``{ks: 0.15}``); unset
    methods keep the defaults of docs/design.md."""
    bins: Annotated[int, Field(ge=2, le=1000)] | None = None
    """Number of bins of PSI and JS (2 to 1000); unset: the default binning."""
    enabled: bool = True
    """``false`` leaves this feature out of drift (no drift rows at all)."""


class DriftSettings(ContractSection):
    """How the partition job computes this model's drift (all features at once)."""

    memory_budget_mb: Annotated[float, Field(gt=0)] | None = None
    """Memory, in MiB, the exact drift engine may use for one day. When its estimate (the
    day's rows from the parquet footers x a measured cost per row and numeric column in
    flight, plus the profile's sorted training values; docs/running.md) exceeds this,
    the day is compared with the sketch engine instead, streaming the files row group by
    row group: PSI and JS stay exact, KS and Wasserstein carry an error bound in each
    row's detail. Training data over it gets a profile built in batches. Unset: 256 MiB
    (days up to ~2.7M rows stay exact), or the memory left when the run starts when that
    is less (the tightest of ``ulimit -v``, the cgroup limit and available memory)."""


class FeatureSpec(ContractSection):
    """One input column of the model: dtype, nullability, range and allowed values."""

    dtype: FeatureDtype
    """Polars dtype the column must have in every snapshot."""
    nullable: bool = True
    """Whether nulls are allowed; ``false`` makes any null row fail schema_validity."""
    min: float | None = None
    """Lowest allowed value (numeric dtypes only), inclusive."""
    max: float | None = None
    """Highest allowed value (numeric dtypes only), inclusive."""
    allowed_values: tuple[str, ...] | None = None
    """The only values allowed (String or Categorical dtypes), compared verbatim."""
    max_null_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Highest tolerated share of null rows, a fraction 0..1 (the null_rate SLI's objective)."""
    drift: DriftOverride = Field(default_factory=DriftOverride)
    """Per-feature drift settings replacing the defaults."""

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


class Sources(ContractSection):
    """Where the snapshots are. Paths resolve relative to the contract file.

    ``features``, ``predictions`` and ``labels`` are patterns with a ``{date}`` placeholder
    (``YYYY-MM-DD``) and may contain globs; ``training`` is one file or glob.
    ``prediction_baseline`` (optional) is the model's predictions on a holdout drawn like
    the training data: the baseline of prediction drift (score and predicted label), which
    shows at once what labels will only show days later.
    """

    training: str
    """Training data (one parquet file or glob): the baseline of drift, ranges and categories."""
    prediction_baseline: str | None = None
    """The model's predictions on a holdout drawn like the training data: the baseline of
    prediction drift."""
    features: str
    """Daily feature snapshot, a path pattern with ``{date}`` (YYYY-MM-DD), globs allowed."""
    predictions: str | None = None
    """Daily prediction log, a path pattern with ``{date}``; needed by prediction, latency,
    cost and quality SLOs."""
    labels: str | None = None
    """Daily label file (ids and ``predictions.target``), a path pattern with ``{date}``; the
    day is the predictions' day."""
    id_column: str
    """Row id column (any integer or string type) joining features, predictions and labels."""
    timestamp_column: str
    """Event timestamp column of the daily snapshots (freshness, clock skew)."""
    training_timestamp_column: str | None = None
    """Timestamp column of the training data; its newest value dates the model (model_age_days)."""
    start_date: dt.date
    """First day (partition) the model is evaluated, YYYY-MM-DD."""
    strict_columns: bool = True
    """Whether a column the contract does not declare makes schema_valid 0."""
    max_label_delay_days: Annotated[float, Field(ge=0, le=366)] = 3.0
    """Days after a partition's evaluation time that its labels may arrive; later, they are
    overdue (a blocking gate reason)."""

    @field_validator("features", "predictions", "labels")
    @classmethod
    def _has_date(cls, value: str | None) -> str | None:
        if value is not None and "{date}" not in value:
            raise ValueError("must contain the {date} placeholder")
        return value


class PredictionColumns(ContractSection):
    """Columns of the prediction log (and of the label file, for ``target``)."""

    score: str | None = None
    """Column of the model's score (probability of ``positive_label`` for classification, the
    estimate for regression)."""
    predicted_label: str | None = None
    """Column of the predicted class (classification)."""
    target: str | None = None
    """Column of the true value in the label file."""
    latency_ms: str | None = None
    """Column of each prediction's serving latency, milliseconds."""
    cost: str | None = None
    """Column of each prediction's cost, in the currency of the bill."""
    status: str | None = None
    """Column of each request's outcome (availability)."""
    success_value: str = "ok"
    """Value of ``status`` that counts as a successful request."""
    positive_label: str = "1"
    """The positive class, as text (labels are compared as strings). A multiclass target
    (more than two label values on a day) keeps ``accuracy``, and ``precision``,
    ``recall``, ``f1`` one-vs-rest for this class; ``roc_auc``, ``log_loss``,
    ``calibration_error`` (which read the score as P(positive_label)) and the
    ``estimated_*`` rows are recorded ``skipped`` with the reason, so an SLO declared on
    them gets the gate's ``no_evidence``."""
    ranking_group: str | None = None
    """Column grouping rows into one ranked list (ranking models: the query id)."""
    ndcg_k: Annotated[int, Field(ge=1)] = 10
    """Cut-off k of NDCG@k (ranking models)."""


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


class ScheduleSpec(ContractSection):
    """When the daily run happens. A partition (day D) is evaluated as of
    ``D + 1 day + evaluation_delay_hours`` in ``timezone``, capped at the wall clock."""

    cron: str = "0 6 * * *"
    """Five-field cron expression of the daily run."""
    timezone: str = "UTC"
    """IANA time zone of ``cron`` and of the evaluation time."""
    evaluation_delay_hours: Annotated[float, Field(ge=0, le=24 * 30)] = 6.0
    """Hours after the end of day D at which D is evaluated (0 to 720)."""

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


def is_model_name(value: str) -> bool:
    """Whether ``value`` may name a model (:data:`MODEL_NAME_RULE`)."""
    return bool(_MODEL_NAME.match(value))


def is_safe_path_name(value: str) -> bool:
    """Whether ``value`` may be one path component under the state directory: matches
    :data:`SAFE_PATH_NAME` and holds no ``..`` (so never ``.``, ``..`` or a separator)."""
    return bool(SAFE_PATH_NAME.match(value)) and ".." not in value
