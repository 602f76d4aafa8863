"""Draft a model's contract from its data (``datasre init``): pure, frames in, YAML out.

Writing a contract by hand means guessing which column goes where, the dtype names, the
ranges and objectives that neither page every day nor miss an incident. This module reads
what the data already says and writes it down, with a comment on every inferred value so
the owner can see where it came from and tighten it:

- features: dtype, nullability (any null in training), range (training min/max widened by
  :data:`RANGE_MARGIN` of the span on each side; a column never negative in training keeps
  0 as its floor, a float column inside [0, 1] is a fraction and keeps [0, 1]), allowed
  values of strings with at most :data:`MAX_ALLOWED_VALUES` distinct values;
- columns: the event timestamp (a Datetime column), the id (unique on every row of a daily
  file), the prediction log's score, predicted label, latency, cost and status columns, the
  label column (in the label files and in training);
- SLOs by model type and tier, objectives in the data's own units: classification accuracy
  at least the training's majority-class share (what always answering the commonest class
  scores), regression RMSE at most :data:`RMSE_SPREAD_SHARE` × the target's standard
  deviation in training (R² >= 0.75), slices loosened by :data:`SLICE_NOISE_SE` standard
  errors at :data:`MIN_SLICE_ROWS` rows, latency and cost with :data:`SERVING_HEADROOM` × what
  the prediction log shows, throughput at :data:`THROUGHPUT_SHARE` of the daily volume.

The result is YAML text that :func:`checks.contract.load_contract` accepts; the draft is
validated here before it is returned.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import polars as pl
import yaml
from pydantic import ValidationError

from checks.contract import NUMERIC_DTYPES, Contract, ModelType
from checks.errors import InputError
from checks.slo import TIER_TARGETS

__all__ = [
    "MAX_ALLOWED_VALUES",
    "MIN_SLICE_ROWS",
    "RANGE_MARGIN",
    "RMSE_SPREAD_SHARE",
    "DailyFiles",
    "InitInputs",
    "draft_contract",
]

#: Share of the training span added below the minimum and above the maximum of a numeric
#: feature: a value this far outside what training saw is a data error, not a new customer.
RANGE_MARGIN: Final = 0.5
#: A string feature with at most this many distinct training values gets ``allowed_values``.
MAX_ALLOWED_VALUES: Final = 50
#: A string feature with 2 .. this many values is a slice of the quality SLOs.
MAX_SLICE_VALUES: Final = 12
#: Smallest slice judged: at 50 labelled rows one wrong answer moves accuracy by 2 points.
MIN_SLICE_ROWS: Final = 50
#: Standard errors (at :data:`MIN_SLICE_ROWS` rows) a slice may sit below the model-wide
#: objective before it breaches: slices are small, and noise must not page.
SLICE_NOISE_SE: Final = 3.0
#: Regression RMSE objective as a share of the target's standard deviation in training:
#: 0.5 means the model must explain at least 75% of the variance (R² = 1 - 0.5²).
RMSE_SPREAD_SHARE: Final = 0.5
#: MAE objective as a share of the target's standard deviation (MAE ~ 0.8 RMSE for normal
#: errors, so 0.4 matches :data:`RMSE_SPREAD_SHARE`).
MAE_SPREAD_SHARE: Final = 0.4
#: Drifted features tolerated before ``drifted_feature_share`` breaches, plus one half (so
#: the objective falls between one and two features of the model).
DRIFT_TOLERATED_FEATURES: Final = 1.5
#: Latency and cost objectives: this many times what the prediction files show (p99).
SERVING_HEADROOM: Final = 2.0
#: ``throughput_rows`` objective: this share of the smallest daily volume seen.
THROUGHPUT_SHARE: Final = 0.8
DEFAULT_AVAILABILITY: Final = 0.995
DEFAULT_COMPLETENESS: Final = 0.99
DEFAULT_NULL_RATE: Final = 0.05
#: One day late is tolerated: day D is evaluated at D + 1 day + 6 h, so its newest event
#: is ~30 h old then; 36 h allows a late export.
STALENESS_SECONDS: Final = 36 * 3600.0
MODEL_AGE_DAYS: Final = 120.0
EVALUATION_DELAY_HOURS: Final = 6.0

_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid)", re.IGNORECASE)
_SCORE_NAME = re.compile(r"score|prob|pred", re.IGNORECASE)
_LABEL_NAME = re.compile(r"label|pred|class|decision", re.IGNORECASE)
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*\Z")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
_CONTRACT_DTYPES: Final = {
    pl.String: "String",
    pl.Categorical: "Categorical",
    pl.Enum: "Categorical",
    pl.Boolean: "Boolean",
    pl.Date: "Date",
}


@dataclass(frozen=True)
class DailyFiles:
    """One source of daily files: its ``{date}`` pattern (as the contract will say it),
    the first day, and the files read (day, frame; the earliest few days)."""

    pattern: str
    start_date: dt.date
    frames: tuple[tuple[dt.date, pl.DataFrame], ...]

    @property
    def sample(self) -> pl.DataFrame:
        return pl.concat([frame for _, frame in self.frames], how="diagonal_relaxed")


@dataclass(frozen=True)
class InitInputs:
    """What ``datasre init`` read. ``*_path`` are the paths as the contract writes them
    (relative to the contract's directory); ``where`` names the files in error messages."""

    model: str
    model_type: ModelType
    tier: int
    training_path: str
    training: pl.DataFrame
    features: DailyFiles
    predictions: DailyFiles | None = None
    labels: DailyFiles | None = None
    where: dict[str, str] = field(default_factory=dict)


def _yaml_scalar(value: str) -> str:
    """A string as YAML: plain when unambiguous, else JSON-quoted (valid YAML too)."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _number(value: float) -> str:
    """A number as YAML, without a trailing ``.0`` on whole values."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _round_out(value: float, *, up: bool) -> float:
    """``value`` rounded away from the data to 3 significant digits (a readable bound that
    still contains it)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 2)
    return (math.ceil(value / step) if up else math.floor(value / step)) * step


def _contract_dtype(column: str, dtype: pl.DataType, where: str) -> str:
    if str(dtype) in NUMERIC_DTYPES:
        return str(dtype)
    for polars_type, name in _CONTRACT_DTYPES.items():
        if dtype == polars_type or isinstance(dtype, polars_type):
            return name
    raise InputError(f"{where}: {column}: dtype {dtype} is not one a contract can declare")


def _timestamp_column(frame: pl.DataFrame) -> str | None:
    datetimes = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    return datetimes[0] if datetimes else None


def _id_column(frame: pl.DataFrame, where: str) -> str:
    """The column unique and non-null on every row (string or integer), preferring a name
    like ``*_id``."""
    candidates = [
        name
        for name, dtype in frame.schema.items()
        if (dtype == pl.String or dtype.is_integer())
        and frame.get_column(name).null_count() == 0
        and frame.get_column(name).n_unique() == frame.height
    ]
    named = [name for name in candidates if _ID_NAME.search(name)]
    if named or candidates:
        return (named or candidates)[0]
    raise InputError(
        f"{where}: no id column (a string or integer column unique on every row of a day)"
    )


@dataclass(frozen=True)
class _Line:
    """One YAML line (indented text) with an optional trailing comment."""

    text: str
    comment: str | None = None

    def render(self) -> str:
        return f"{self.text}  # {self.comment}" if self.comment else self.text


def _feature_line(name: str, series: pl.Series, where: str, width: int) -> tuple[_Line, bool]:
    """The ``features:`` entry of one column and whether it is a low-cardinality string."""
    dtype = _contract_dtype(name, series.dtype, where)
    nans = int(series.is_nan().sum()) if series.dtype.is_float() else 0
    nulls = series.null_count() + nans
    null_share = float(nulls) / max(series.len(), 1)
    parts = [f"dtype: {dtype}", f"nullable: {'true' if nulls else 'false'}"]
    comment: str
    categorical = False
    if dtype in NUMERIC_DTYPES:
        values = series.drop_nulls()
        if values.dtype.is_float():
            values = values.filter(values.is_not_nan())
        low, high = float(values.min()), float(values.max())  # type: ignore[arg-type]
        span = high - low
        if series.dtype.is_float() and low >= 0 and high <= 1:
            bound_low, bound_high = 0.0, 1.0
            comment = f"training {_number(low)} .. {_number(high)}: a fraction"
        else:
            bound_low = 0.0 if low >= 0 else _round_out(low - RANGE_MARGIN * span, up=False)
            bound_high = _round_out(high + RANGE_MARGIN * span, up=True)
            if dtype not in ("Float64", "Float32"):
                bound_low, bound_high = math.floor(bound_low), math.ceil(bound_high)
            comment = f"training {_number(low)} .. {_number(high)}"
        parts += [f"min: {_number(bound_low)}", f"max: {_number(bound_high)}"]
    elif dtype in ("String", "Categorical"):
        counts = series.drop_nulls().cast(pl.String).value_counts(sort=True, name="n")
        counts = counts.sort(["n", series.name], descending=[True, False])
        n_values = counts.height
        if n_values <= MAX_ALLOWED_VALUES:
            names = counts.get_column(series.name).to_list()
            parts.append(f"allowed_values: [{', '.join(_yaml_scalar(v) for v in names)}]")
            comment = f"{n_values} values in training, commonest first"
            categorical = 2 <= n_values <= MAX_SLICE_VALUES
        else:
            comment = f"{n_values} values in training: too many to list"
    else:
        comment = "no range for this dtype"
    if null_share > 0:
        comment += f", {null_share:.1%} null"
    if null_share * 2 > DEFAULT_NULL_RATE:
        parts.append(f"max_null_rate: {_number(_round_out(min(1.0, 2 * null_share), up=True))}")
        comment += " (max_null_rate: twice that)"
    key = f"{_yaml_scalar(name)}:"
    return _Line(f"  {key:<{width + 2}}{{{', '.join(parts)}}}", comment), categorical


@dataclass(frozen=True)
class _PredictionColumns:
    score: str | None = None
    predicted_label: str | None = None
    latency_ms: str | None = None
    cost: str | None = None
    status: str | None = None
    success_value: str | None = None
    ranking_group: str | None = None


def _prediction_columns(
    frame: pl.DataFrame, model_type: ModelType, taken: set[str]
) -> _PredictionColumns:
    """Which column of the prediction log is which, from names, dtypes and values."""
    rest = {name: dtype for name, dtype in frame.schema.items() if name not in taken}
    numeric = [name for name, dtype in rest.items() if dtype.is_numeric()]
    latency = next((n for n in numeric if "latency" in n.lower() or n.endswith("_ms")), None)
    cost = next((n for n in numeric if "cost" in n.lower()), None)
    status = next(
        (
            n
            for n, dtype in rest.items()
            if dtype == pl.String and frame.get_column(n).n_unique() <= 10
        ),
        None,
    )
    success: str | None = None
    if status is not None:
        values = frame.get_column(status).drop_nulls().value_counts(sort=True, name="n")
        names = values.get_column(status).to_list()
        success = "ok" if "ok" in names else (str(names[0]) if names else None)
    outputs = [n for n in numeric if n not in (latency, cost)]
    integers = [n for n in outputs if rest[n].is_integer() or rest[n] == pl.Boolean]
    floats = [n for n in outputs if rest[n].is_float()]
    label: str | None = None
    group: str | None = None
    if model_type == ModelType.CLASSIFICATION:
        binary = [n for n in integers if frame.get_column(n).drop_nulls().n_unique() <= 2]
        label = next((n for n in binary if _LABEL_NAME.search(n)), binary[0] if binary else None)
    if model_type == ModelType.RANKING:
        # The query a ranked list belongs to: an id-like column whose values repeat.
        group = next(
            (
                n
                for n, dtype in rest.items()
                if (dtype == pl.String or dtype.is_integer())
                and n not in (status, label)
                and frame.get_column(n).n_unique() < frame.height
            ),
            None,
        )
    score = next((n for n in floats if _SCORE_NAME.search(n)), floats[0] if floats else None)
    return _PredictionColumns(score, label, latency, cost, status, success, group)


def _label_delay_days(labels: DailyFiles, label_ts: str | None) -> float:
    """Whole days after a day's evaluation time (D + 1 day + 6 h) by which its labels
    were all in, at least 1 (a label file a day late is tolerated)."""
    if label_ts is None:
        return 3.0
    late = 0.0
    for day, frame in labels.frames:
        newest = frame.get_column(label_ts).max()
        if not isinstance(newest, dt.datetime):
            continue
        evaluated = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(
            days=1, hours=EVALUATION_DELAY_HOURS
        )
        newest = newest if newest.tzinfo else newest.replace(tzinfo=dt.UTC)
        late = max(late, (newest - evaluated).total_seconds() / 86400)
    return float(max(1, math.ceil(late)))


@dataclass(frozen=True)
class _SloWriter:
    """Writes ``slos`` lines at one tier's target (the share of days that must be good)."""

    target: float
    width: int = 24

    def line(self, name: str, objective: float, *, blocking: bool = False) -> str:
        parts = [f"objective: {_number(objective)}"]
        if not math.isclose(self.target, 0.9):  # 0.9 is the contract's default
            parts.append(f"target: {_number(self.target)}")
        if blocking:
            parts.append("blocking: true")
        return f"    {name + ':':<{self.width + 1}} {{{', '.join(parts)}}}"


def draft_contract(inputs: InitInputs) -> str:
    """The commented contract YAML for what ``inputs`` show (validated before returning).

    Raises
    ------
    InputError
        One line naming the file and column when the data cannot make a contract (no
        timestamp or id column, a feature missing from training, an unsupported dtype).
    """
    where_training = inputs.where.get("training", inputs.training_path)
    where_features = inputs.where.get("features", inputs.features.pattern)
    features_frame = inputs.features.sample
    timestamp = _timestamp_column(features_frame)
    if timestamp is None:
        raise InputError(f"{where_features}: no Datetime column (the event timestamp)")
    id_column = _id_column(inputs.features.frames[0][1], where_features)
    training_ts = _timestamp_column(inputs.training)
    feature_names = [n for n in features_frame.columns if n not in (timestamp, id_column)]
    missing = [n for n in feature_names if n not in inputs.training.columns]
    if missing:
        raise InputError(f"{where_training}: {missing[0]}: feature of the daily files is absent")
    target = _target_column(inputs, feature_names, {timestamp, id_column, training_ts or ""})
    target_series = inputs.training.get_column(target) if target else None

    width = max(len(_yaml_scalar(n)) for n in feature_names)
    feature_lines: list[_Line] = []
    slices: list[str] = []
    for name in feature_names:
        line, categorical = _feature_line(
            name, inputs.training.get_column(name), where_training, width
        )
        feature_lines.append(line)
        if categorical:
            slices.append(name)

    prediction = (
        _prediction_columns(inputs.predictions.sample, inputs.model_type, {timestamp, id_column})
        if inputs.predictions is not None
        else _PredictionColumns()
    )
    label_ts = _timestamp_column(inputs.labels.sample) if inputs.labels is not None else None
    has_labels = inputs.labels is not None and target is not None and prediction.score is not None
    target_share = TIER_TARGETS[inputs.tier]

    lines: list[str] = [
        f"# Contract of {inputs.model}, drafted by `datasre init` from its data. Every inferred",
        "# value says where it came from: check each one, tighten what you know better, and",
        "# keep the comments honest. Paths are relative to this file.",
        f"model: {inputs.model}",
        f"type: {inputs.model_type.value}",
        'version: "0.1.0"',
        "owner: TODO-owner@example.com  # who is paged: replace before the first run",
        f"tier: {inputs.tier}  # 1 most critical; SLO targets {target_share:g} of days",
        "",
        "sources:",
        f"  training: {_yaml_scalar(inputs.training_path)}",
        f"  features: {_yaml_scalar(inputs.features.pattern)}",
    ]
    if inputs.predictions is not None:
        lines.append(f"  predictions: {_yaml_scalar(inputs.predictions.pattern)}")
    if inputs.labels is not None:
        lines.append(f"  labels: {_yaml_scalar(inputs.labels.pattern)}")
    lines += [
        f"  id_column: {_yaml_scalar(id_column)}  # unique on every row of a day",
        f"  timestamp_column: {_yaml_scalar(timestamp)}",
    ]
    if training_ts is not None:
        lines.append(f"  training_timestamp_column: {_yaml_scalar(training_ts)}")
    lines.append(f"  start_date: {inputs.features.start_date.isoformat()}  # first daily file")
    if inputs.labels is not None:
        delay = _label_delay_days(inputs.labels, label_ts)
        lines.append(
            f"  max_label_delay_days: {_number(delay)}  # labels of the files read were all in"
            " this many days after their day's evaluation (D + 1 day + 6 h), at least 1"
        )
    lines += ["", "features:", *(line.render() for line in feature_lines)]

    pc = prediction
    prediction_keys = [
        ("score", pc.score),
        ("predicted_label", pc.predicted_label),
        ("target", target),
        ("latency_ms", pc.latency_ms),
        ("cost", pc.cost),
        ("status", pc.status),
        ("ranking_group", pc.ranking_group),
    ]
    written = [(k, v) for k, v in prediction_keys if v is not None]
    if pc.status is not None and pc.success_value not in (None, "ok"):
        written.append(("success_value", pc.success_value))
    positive = (
        _positive_label(target_series) if inputs.model_type == ModelType.CLASSIFICATION else None
    )
    if positive is not None and positive != "1":
        written.append(("positive_label", positive))
    if written:
        lines += ["", "predictions:", *(f"  {k}: {_yaml_scalar(v)}" for k, v in written)]
    if slices and has_labels:
        lines += [
            "",
            f"# String features with 2 .. {MAX_SLICE_VALUES} values: quality is judged per value.",
            f"slices: [{', '.join(_yaml_scalar(s) for s in slices)}]",
            f"min_slice_rows: {MIN_SLICE_ROWS}  # below it a slice is too noisy to judge",
        ]

    model_slos, infra_slos = _slo_lines(
        inputs, feature_names, prediction, target_series, has_labels and bool(slices)
    )
    lines += ["", "slos:", "  window_days: 28"]
    if infra_slos:
        lines += ["  infra:", *infra_slos]
    lines += ["  model:", *model_slos]
    lines += [
        "",
        "schedule:",
        '  cron: "0 6 * * *"',
        "  timezone: UTC",
        f"  evaluation_delay_hours: {_number(EVALUATION_DELAY_HOURS)}",
    ]
    text = "\n".join(lines) + "\n"
    _check_draft(text, where_training)
    return text


def _target_column(inputs: InitInputs, features: Sequence[str], taken: set[str]) -> str | None:
    """The label column: the label files' column that training has too; without label
    files, the one training column that is neither a feature, the id nor a timestamp."""
    if inputs.labels is not None:
        candidates = [
            n
            for n in inputs.labels.sample.columns
            if n in inputs.training.columns and n not in taken and n not in features
        ]
        if not candidates:
            where = inputs.where.get("labels", inputs.labels.pattern)
            raise InputError(f"{where}: no label column that the training file also has")
        return candidates[0]
    rest = [n for n in inputs.training.columns if n not in taken and n not in features]
    return rest[0] if len(rest) == 1 else None


def _positive_label(target: pl.Series | None) -> str | None:
    """The positive class as the contract writes it: ``1`` for 0/1 and booleans, else the
    minority class of training."""
    if target is None:
        return None
    values = target.drop_nulls()
    if values.dtype == pl.Boolean or set(values.unique().to_list()) <= {0, 1}:
        return "1" if values.dtype != pl.Boolean else "true"
    counts = values.cast(pl.String).value_counts(sort=True, name="n")
    return str(counts.get_column(values.name)[-1])


def _slo_lines(
    inputs: InitInputs,
    features: Sequence[str],
    pc: _PredictionColumns,
    target: pl.Series | None,
    sliced: bool,
) -> tuple[list[str], list[str]]:
    """The ``slos.model`` and ``slos.infra`` lines (comments above the data-derived ones)."""
    tier = inputs.tier
    slo = _SloWriter(TIER_TARGETS[tier])
    model = [
        slo.line("ingest_ok", 1, blocking=True),
        slo.line("schema_valid", 1, blocking=True),
        slo.line("schema_validity", 0.99),
        slo.line("duplicate_id_rate", 0.001),
        slo.line("completeness", DEFAULT_COMPLETENESS, blocking=tier <= 2),
        slo.line("null_rate", DEFAULT_NULL_RATE),
        "    # Day D is evaluated at D + 1 day + 6 h: its newest event is ~30 h old then.",
        slo.line("data_staleness_seconds", STALENESS_SECONDS, blocking=tier == 1),
    ]
    if _timestamp_column(inputs.training) is not None:
        model.append(slo.line("model_age_days", MODEL_AGE_DAYS))
    drift = DRIFT_TOLERATED_FEATURES / len(features)
    model += [
        f"    # One drifted feature of {len(features)} is tolerated, two breach.",
        slo.line("drifted_feature_share", _round_out(drift, up=False)),
    ]
    if inputs.labels is not None and target is not None and pc.score is not None:
        model += _quality_lines(
            inputs.model_type, target, pc, slo, blocking=tier == 1, sliced=sliced
        )
    infra = _serving_lines(inputs.predictions, pc, slo) if inputs.predictions else []
    return model, infra


def _quantile(frame: pl.DataFrame, column: str, quantile: float) -> float:
    value = frame.get_column(column).cast(pl.Float64).quantile(quantile)
    return float(value) if value is not None else 0.0


def _serving_lines(predictions: DailyFiles, pc: _PredictionColumns, slo: _SloWriter) -> list[str]:
    """Infra SLOs from the prediction log: what it shows, with headroom."""
    log = predictions.sample
    lines: list[str] = []
    if pc.latency_ms is not None:
        p99 = _quantile(log, pc.latency_ms, 0.99)
        lines += [
            f"    # p99 latency in the files read: {p99:.1f} ms; objective twice that.",
            slo.line("latency_p99_ms", _round_out(SERVING_HEADROOM * p99, up=True)),
        ]
    if pc.status is not None and pc.success_value is not None:
        served = log.get_column(pc.status) == pc.success_value
        ok_share = float(served.sum()) / max(served.len(), 1)
        objective = (
            DEFAULT_AVAILABILITY
            if ok_share >= DEFAULT_AVAILABILITY
            else _round_out(ok_share - 0.005, up=False)
        )
        lines += [
            f"    # {pc.status} = {pc.success_value} in the files read: {ok_share:.4f}.",
            slo.line("availability", objective),
        ]
    if pc.cost is not None:
        p99 = _quantile(log, pc.cost, 0.99)
        lines += [
            f"    # p99 cost per prediction in the files read: {p99:.6g}; objective twice that.",
            slo.line("cost_per_prediction_p99", _round_out(SERVING_HEADROOM * p99, up=True)),
        ]
    smallest = min(frame.height for _, frame in predictions.frames)
    return [
        *lines,
        f"    # Smallest daily volume in the files read: {smallest} predictions.",
        slo.line("throughput_rows", math.floor(THROUGHPUT_SHARE * smallest)),
    ]


def _quality_lines(
    model_type: ModelType,
    target: pl.Series,
    pc: _PredictionColumns,
    slo: _SloWriter,
    *,
    blocking: bool,
    sliced: bool,
) -> list[str]:
    """Quality SLOs in the data's own units (see the module docstring)."""
    if model_type == ModelType.CLASSIFICATION and (pc.predicted_label or pc.score):
        counts = target.drop_nulls().value_counts(sort=True, name="n").get_column("n")
        majority = float(counts[0]) / float(counts.sum())
        lines = [
            f"    # Always answering the commonest class of training scores {majority:.4f}:",
            "    # a model below it is worse than no model.",
            slo.line("accuracy", _round_out(majority, up=False), blocking=blocking),
        ]
        if sliced:
            error = SLICE_NOISE_SE * math.sqrt(majority * (1 - majority) / MIN_SLICE_ROWS)
            lines += [
                f"    # A slice may sit {SLICE_NOISE_SE:g} standard errors ({error:.3f} at"
                f" {MIN_SLICE_ROWS} rows) below that.",
                slo.line("slice_accuracy", _round_out(majority - error, up=False)),
            ]
        return lines
    if model_type == ModelType.REGRESSION:
        spread = _standard_deviation(target)
        rmse = _round_out(RMSE_SPREAD_SHARE * spread, up=True)
        lines = [
            f"    # In the target's unit. Its standard deviation in training is {spread:.4g}:",
            f"    # RMSE <= {RMSE_SPREAD_SHARE:g} x that means R^2 >= "
            f"{1 - RMSE_SPREAD_SHARE**2:g}; MAE <= {MAE_SPREAD_SHARE:g} x that.",
            slo.line("rmse", rmse, blocking=blocking),
            slo.line("mae", _round_out(MAE_SPREAD_SHARE * spread, up=True)),
        ]
        if sliced:
            # The standard error of an RMSE from n rows is about RMSE / sqrt(2 n).
            factor = 1 + SLICE_NOISE_SE / math.sqrt(2 * MIN_SLICE_ROWS)
            lines += [
                f"    # A slice's RMSE may be {SLICE_NOISE_SE:g} standard errors (x{factor:.2f}"
                f" at {MIN_SLICE_ROWS} rows) above that.",
                slo.line("slice_rmse", _round_out(rmse * factor, up=True)),
            ]
        return lines
    if model_type == ModelType.RANKING and pc.ranking_group is not None:
        return [slo.line("ndcg", 0.8, blocking=blocking)]
    return []


def _standard_deviation(series: pl.Series) -> float:
    value = series.drop_nulls().cast(pl.Float64).std()
    return float(value) if isinstance(value, float) else 0.0


def _check_draft(text: str, where: str) -> None:
    """The draft must load as a contract: a bug here would hand the user a broken file."""
    try:
        Contract.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # pragma: no cover - a bug, not bad input
        first = exc.errors(include_url=False)[0]
        raise InputError(f"{where}: the drafted contract does not validate: {first}") from None
