"""Which column is which, for ``datasre init``: from names, dtypes and values.

The event timestamp is a Datetime column; the id is unique and non-null on every row of a
daily file (preferring a name like ``*_id``); in the prediction log, the score, predicted
label, latency, cost, status and ranking-group columns; the label column is the label
files' column that training has too. The label delay is read from when the label files'
newest rows arrived.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from checks.contract import NUMERIC_DTYPES, ModelType
from checks.contract_inference_inputs import DailyFiles, InitInputs
from checks.errors import InputError

__all__ = [
    "EVALUATION_DELAY_HOURS",
    "PredictionColumns",
    "contract_dtype",
    "id_column",
    "label_delay_days",
    "positive_label",
    "prediction_columns",
    "target_column",
    "timestamp_column",
]

#: Hours after a day's end at which the drafted schedule evaluates it.
EVALUATION_DELAY_HOURS: Final = 6.0

_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid)", re.IGNORECASE)
_SCORE_NAME = re.compile(r"score|prob|pred", re.IGNORECASE)
_LABEL_NAME = re.compile(r"label|pred|class|decision", re.IGNORECASE)
_STATUS_NAME = re.compile(r"status|outcome|result|code|state", re.IGNORECASE)
_CONTRACT_DTYPES: Final = {
    pl.String: "String",
    pl.Categorical: "Categorical",
    pl.Enum: "Categorical",
    pl.Boolean: "Boolean",
    pl.Date: "Date",
}


def contract_dtype(column: str, dtype: pl.DataType, where: str) -> str:
    if str(dtype) in NUMERIC_DTYPES:
        return str(dtype)
    for polars_type, name in _CONTRACT_DTYPES.items():
        if dtype == polars_type or isinstance(dtype, polars_type):
            return name
    raise InputError(f"{where}: {column}: dtype {dtype} is not one a contract can declare")


def timestamp_column(frame: pl.DataFrame) -> str | None:
    datetimes = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    return datetimes[0] if datetimes else None


def id_column(frame: pl.DataFrame, where: str) -> str:
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
class PredictionColumns:
    """The prediction log's columns by role, as the contract's ``predictions:`` names
    them (None: the log has no such column)."""

    #: What the model answered: its score, its label, the query a ranked row belongs to.
    score: str | None = None
    predicted_label: str | None = None
    ranking_group: str | None = None
    #: How it was served: latency (ms), cost, and the status column with its success value.
    latency_ms: str | None = None
    cost: str | None = None
    status: str | None = None
    success_value: str | None = None


def _values(frame: pl.DataFrame, name: str) -> set[str]:
    return set(frame.get_column(name).drop_nulls().cast(pl.String).unique().to_list())


def prediction_columns(
    frame: pl.DataFrame,
    model_type: ModelType,
    taken: set[str],
    classes: set[str] | None = None,
) -> PredictionColumns:
    """Which column of the prediction log is which, from names, dtypes and values.

    ``classes``: the training target's values as text. A classifier's predicted label is
    a column whose values are among them (a text class name too), else a 0/1 integer
    column; the status column is a text column of at most 10 values that is not the
    label, one named like a status first. Before, any text column of few values was the
    status: a 3-class model's predicted queue became "availability", the share of
    tickets sent to one queue (found by a new user)."""
    rest = {name: dtype for name, dtype in frame.schema.items() if name not in taken}
    numeric = [name for name, dtype in rest.items() if dtype.is_numeric()]
    latency = next((n for n in numeric if "latency" in n.lower() or n.endswith("_ms")), None)
    cost = next((n for n in numeric if "cost" in n.lower()), None)
    outputs = [n for n in numeric if n not in (latency, cost)]
    integers = [n for n in outputs if rest[n].is_integer() or rest[n] == pl.Boolean]
    floats = [n for n in outputs if rest[n].is_float()]
    label: str | None = None
    group: str | None = None
    if model_type == ModelType.CLASSIFICATION:
        of_classes = [
            n
            for n, dtype in rest.items()
            if (dtype == pl.String or dtype.is_integer() or dtype == pl.Boolean)
            and classes
            and _values(frame, n)
            and _values(frame, n) <= classes
        ]
        binary = [n for n in integers if frame.get_column(n).drop_nulls().n_unique() <= 2]
        candidates = of_classes or binary
        label = next(
            (n for n in candidates if _LABEL_NAME.search(n)), candidates[0] if candidates else None
        )
    texts = [
        n
        for n, dtype in rest.items()
        if dtype == pl.String and n != label and frame.get_column(n).n_unique() <= 10
    ]
    status = next((n for n in texts if _STATUS_NAME.search(n)), texts[0] if texts else None)
    success: str | None = None
    if status is not None:
        values = frame.get_column(status).drop_nulls().value_counts(sort=True, name="n")
        names = values.get_column(status).to_list()
        success = "ok" if "ok" in names else (str(names[0]) if names else None)
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
    return PredictionColumns(
        score=score,
        predicted_label=label,
        ranking_group=group,
        latency_ms=latency,
        cost=cost,
        status=status,
        success_value=success,
    )


def label_delay_days(labels: DailyFiles, label_ts: str | None) -> float:
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


def target_column(inputs: InitInputs, features: Sequence[str], taken: set[str]) -> str | None:
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


def positive_label(target: pl.Series | None) -> str | None:
    """The positive class as the contract writes it: ``1`` for 0/1 and booleans, else the
    minority class of training."""
    if target is None:
        return None
    values = target.drop_nulls()
    if values.dtype == pl.Boolean or set(values.unique().to_list()) <= {0, 1}:
        return "1" if values.dtype != pl.Boolean else "true"
    counts = values.cast(pl.String).value_counts(sort=True, name="n")
    return str(counts.get_column(values.name)[-1])
