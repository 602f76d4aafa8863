"""Draft a model's contract from its data (``datasre init``): pure, frames in, YAML out.

Writing a contract by hand means guessing which column goes where, the dtype names, the
ranges and objectives that neither page every day nor miss an incident. This module reads
what the data already says and writes it down, with a comment on every inferred value so
the owner can see where it came from and tighten it:

- features (:mod:`checks.contract_inference_features`): dtype, nullability, a range
  widened from training's, the allowed values of a string with few of them;
- columns (:mod:`checks.contract_inference_columns`): the event timestamp, the id, the
  prediction log's score, predicted label, latency, cost and status columns, the label
  column (in the label files and in training);
- SLOs (:mod:`checks.contract_inference_slos`) by model type and tier, objectives in the
  data's own units;
- values written as YAML (:mod:`checks.contract_inference_yaml`).

This module lays the contract out, section by section. The result is YAML text that
:func:`checks.contract.load_contract` accepts; the draft is validated here before it is
returned.
"""

from __future__ import annotations

import polars as pl
import yaml
from pydantic import ValidationError

from checks.contract import Contract, ModelType
from checks.contract_inference_columns import (
    EVALUATION_DELAY_HOURS,
    PredictionColumns,
    id_column,
    label_delay_days,
    positive_label,
    prediction_columns,
    target_column,
    timestamp_column,
)
from checks.contract_inference_features import MAX_SLICE_VALUES, feature_line
from checks.contract_inference_inputs import DailyFiles, InitInputs
from checks.contract_inference_slos import MIN_SLICE_ROWS, slo_lines
from checks.contract_inference_yaml import YamlLine, yaml_number, yaml_scalar
from checks.contract_model import OWNER_PLACEHOLDER
from checks.errors import InputError
from checks.slo import TIER_TARGETS

__all__ = ["DailyFiles", "InitInputs", "draft_contract"]


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
    timestamp = timestamp_column(features_frame)
    if timestamp is None:
        raise InputError(f"{where_features}: no Datetime column (the event timestamp)")
    id_name = id_column(inputs.features.frames[0][1], where_features)
    training_ts = timestamp_column(inputs.training)
    feature_names = [n for n in features_frame.columns if n not in (timestamp, id_name)]
    missing = [n for n in feature_names if n not in inputs.training.columns]
    if missing:
        raise InputError(f"{where_training}: {missing[0]}: feature of the daily files is absent")
    target = target_column(inputs, feature_names, {timestamp, id_name, training_ts or ""})
    target_series = inputs.training.get_column(target) if target else None

    width = max(len(yaml_scalar(n)) for n in feature_names)
    feature_lines: list[YamlLine] = []
    slices: list[str] = []
    for name in feature_names:
        line, categorical = feature_line(
            name, inputs.training.get_column(name), where_training, width
        )
        feature_lines.append(line)
        if categorical:
            slices.append(name)

    classes = (
        set(target_series.drop_nulls().cast(pl.String).unique().to_list())
        if target_series is not None
        else None
    )
    prediction = (
        prediction_columns(
            inputs.predictions.sample, inputs.model_type, {timestamp, id_name}, classes
        )
        if inputs.predictions is not None
        else PredictionColumns()
    )
    label_ts = timestamp_column(inputs.labels.sample) if inputs.labels is not None else None
    has_labels = inputs.labels is not None and target is not None and prediction.score is not None
    target_share = TIER_TARGETS[inputs.tier]

    lines: list[str] = [
        f"# Contract of {inputs.model}, drafted by `datasre init` from its data. Every inferred",
        "# value says where it came from: check each one, tighten what you know better, and",
        "# keep the comments honest. Paths are relative to this file.",
        f"model: {inputs.model}",
        f"type: {inputs.model_type.value}",
        'version: "0.1.0"',
        f"owner: {OWNER_PLACEHOLDER}  # who is paged: replace before the first run",
        f"tier: {inputs.tier}  # 1 most critical; SLO targets {target_share:g} of days",
        "",
        "sources:",
        f"  training: {yaml_scalar(inputs.training_path)}",
        f"  features: {yaml_scalar(inputs.features.pattern)}",
    ]
    if inputs.predictions is not None:
        lines.append(f"  predictions: {yaml_scalar(inputs.predictions.pattern)}")
    if inputs.labels is not None:
        lines.append(f"  labels: {yaml_scalar(inputs.labels.pattern)}")
    lines += [
        f"  id_column: {yaml_scalar(id_name)}  # unique on every row of a day",
        f"  timestamp_column: {yaml_scalar(timestamp)}",
    ]
    if training_ts is not None:
        lines.append(f"  training_timestamp_column: {yaml_scalar(training_ts)}")
    lines.append(f"  start_date: {inputs.features.start_date.isoformat()}  # first daily file")
    if inputs.labels is not None:
        delay = label_delay_days(inputs.labels, label_ts)
        seen = (
            "labels of the files read were all in this many days after their day's "
            "evaluation (D + 1 day + 6 h), at least 1"
            if label_ts is not None
            else "a default: the label files have no timestamp column to measure it by; set "
            "how many days after a day's evaluation its labels are all in"
        )
        lines.append(f"  max_label_delay_days: {yaml_number(delay)}  # {seen}")
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
        positive_label(target_series) if inputs.model_type == ModelType.CLASSIFICATION else None
    )
    if positive is not None and positive != "1":
        written.append(("positive_label", positive))
    multiclass = (
        inputs.model_type == ModelType.CLASSIFICATION and classes is not None and len(classes) > 2
    )
    if written:
        lines += ["", "predictions:", *(f"  {k}: {yaml_scalar(v)}" for k, v in written)]
    if multiclass and classes is not None:
        lines += [
            f"  # The target has {len(classes)} classes: accuracy compares labels, and "
            "precision, recall, f1",
            "  # are one-vs-rest for positive_label (training's rarest class: pick yours); "
            "roc_auc,",
            "  # log_loss, calibration_error and the label-free estimates need a binary "
            "target and are",
            "  # recorded skipped.",
        ]
    if slices and has_labels:
        lines += [
            "",
            f"# String features with 2 .. {MAX_SLICE_VALUES} values: quality is judged per value.",
            f"slices: [{', '.join(yaml_scalar(s) for s in slices)}]",
            f"min_slice_rows: {MIN_SLICE_ROWS}  # below it a slice is too noisy to judge",
        ]

    model_slos, infra_slos = slo_lines(
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
        f"  evaluation_delay_hours: {yaml_number(EVALUATION_DELAY_HOURS)}",
    ]
    text = "\n".join(lines) + "\n"
    _check_draft(text, where_training)
    return text


def _check_draft(text: str, where: str) -> None:
    """The draft must load as a contract: a bug here would hand the user a broken file."""
    try:
        Contract.model_validate(yaml.safe_load(text))
    except ValidationError as exc:  # pragma: no cover - a bug, not bad input
        first = exc.errors(include_url=False)[0]
        raise InputError(f"{where}: the drafted contract does not validate: {first}") from None
