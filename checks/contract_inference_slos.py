"""The ``slos:`` lines ``datasre init`` drafts, by model type and tier, in the data's units.

Classification accuracy at least the training's majority-class share (what always
answering the commonest class scores), regression RMSE at most :data:`RMSE_SPREAD_SHARE`
x the target's standard deviation in training (R² >= 0.75), slices loosened by
:data:`SLICE_NOISE_SE` standard errors at :data:`MIN_SLICE_ROWS` rows, latency and cost
with :data:`SERVING_HEADROOM` x what the prediction log shows, throughput at
:data:`THROUGHPUT_SHARE` of the smallest daily volume. A comment above each data-derived
line says where its objective came from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from checks.contract import ModelType
from checks.contract_inference_columns import PredictionColumns, timestamp_column
from checks.contract_inference_inputs import DailyFiles, InitInputs
from checks.contract_inference_yaml import round_out, yaml_number
from checks.slo import TIER_TARGETS

__all__ = ["DEFAULT_NULL_RATE", "MIN_SLICE_ROWS", "RMSE_SPREAD_SHARE", "SloWriter", "slo_lines"]

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


@dataclass(frozen=True)
class SloWriter:
    """Writes ``slos`` lines at one tier's target (the share of days that must be good)."""

    target: float
    width: int = 24

    def line(self, name: str, objective: float, *, blocking: bool = False) -> str:
        parts = [f"objective: {yaml_number(objective)}"]
        if not math.isclose(self.target, 0.9):  # 0.9 is the contract's default
            parts.append(f"target: {yaml_number(self.target)}")
        if blocking:
            parts.append("blocking: true")
        return f"    {name + ':':<{self.width + 1}} {{{', '.join(parts)}}}"


def slo_lines(
    inputs: InitInputs,
    features: Sequence[str],
    pc: PredictionColumns,
    target: pl.Series | None,
    sliced: bool,
) -> tuple[list[str], list[str]]:
    """The ``slos.model`` and ``slos.infra`` lines (comments above the data-derived ones)."""
    tier = inputs.tier
    slo = SloWriter(TIER_TARGETS[tier])
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
    if timestamp_column(inputs.training) is not None:
        model.append(slo.line("model_age_days", MODEL_AGE_DAYS))
    drift = DRIFT_TOLERATED_FEATURES / len(features)
    model += [
        f"    # One drifted feature of {len(features)} is tolerated, two breach.",
        slo.line("drifted_feature_share", round_out(drift, up=False)),
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


def _serving_lines(predictions: DailyFiles, pc: PredictionColumns, slo: SloWriter) -> list[str]:
    """Infra SLOs from the prediction log: what it shows, with headroom."""
    log = predictions.sample
    lines: list[str] = []
    if pc.latency_ms is not None:
        p99 = _quantile(log, pc.latency_ms, 0.99)
        lines += [
            f"    # p99 latency in the files read: {p99:.1f} ms; objective twice that.",
            slo.line("latency_p99_ms", round_out(SERVING_HEADROOM * p99, up=True)),
        ]
    if pc.status is not None and pc.success_value is not None:
        served = log.get_column(pc.status) == pc.success_value
        ok_share = float(served.sum()) / max(served.len(), 1)
        objective = (
            DEFAULT_AVAILABILITY
            if ok_share >= DEFAULT_AVAILABILITY
            else round_out(ok_share - 0.005, up=False)
        )
        lines += [
            f"    # {pc.status} = {pc.success_value} in the files read: {ok_share:.4f}.",
            slo.line("availability", objective),
        ]
    if pc.cost is not None:
        p99 = _quantile(log, pc.cost, 0.99)
        lines += [
            f"    # p99 cost per prediction in the files read: {p99:.6g}; objective twice that.",
            slo.line("cost_per_prediction_p99", round_out(SERVING_HEADROOM * p99, up=True)),
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
    pc: PredictionColumns,
    slo: SloWriter,
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
            slo.line("accuracy", round_out(majority, up=False), blocking=blocking),
        ]
        if sliced:
            error = SLICE_NOISE_SE * math.sqrt(majority * (1 - majority) / MIN_SLICE_ROWS)
            lines += [
                f"    # A slice may sit {SLICE_NOISE_SE:g} standard errors ({error:.3f} at"
                f" {MIN_SLICE_ROWS} rows) below that.",
                slo.line("slice_accuracy", round_out(majority - error, up=False)),
            ]
        return lines
    if model_type == ModelType.REGRESSION:
        spread = _standard_deviation(target)
        rmse = round_out(RMSE_SPREAD_SHARE * spread, up=True)
        lines = [
            f"    # In the target's unit. Its standard deviation in training is {spread:.4g}:",
            f"    # RMSE <= {RMSE_SPREAD_SHARE:g} x that means R^2 >= "
            f"{1 - RMSE_SPREAD_SHARE**2:g}; MAE <= {MAE_SPREAD_SHARE:g} x that.",
            slo.line("rmse", rmse, blocking=blocking),
            slo.line("mae", round_out(MAE_SPREAD_SHARE * spread, up=True)),
        ]
        if sliced:
            # The standard error of an RMSE from n rows is about RMSE / sqrt(2 n).
            factor = 1 + SLICE_NOISE_SE / math.sqrt(2 * MIN_SLICE_ROWS)
            lines += [
                f"    # A slice's RMSE may be {SLICE_NOISE_SE:g} standard errors (x{factor:.2f}"
                f" at {MIN_SLICE_ROWS} rows) above that.",
                slo.line("slice_rmse", round_out(rmse * factor, up=True)),
            ]
        return lines
    if model_type == ModelType.RANKING and pc.ranking_group is not None:
        return [slo.line("ndcg", 0.8, blocking=blocking)]
    return []


def _standard_deviation(series: pl.Series) -> float:
    value = series.drop_nulls().cast(pl.Float64).std()
    return float(value) if isinstance(value, float) else 0.0
