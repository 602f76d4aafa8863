"""Candidate validation: the model-track checks for a version that serves no traffic yet.

Before a deployment, CI scores an evaluation set with the candidate version and hands
datasre the predictions (with the true target) and, optionally, the evaluation features.
This computes the same SLIs a daily run would on the model track (ingest, schema,
completeness, drift against the training baseline, quality overall and per slice,
fairness) with the same check functions, and the caller writes them as one run of kind
``candidate`` for that version, so ``datasre gate --version V`` can decide before the
version ships. Freshness and the infra track (latency, cost, availability) do not apply
to an offline evaluation and are not measured.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.drift import drift_rows
from assets.io import read_snapshot
from assets.validation import ingest_row
from checks.completeness import completeness_sli_rows
from checks.contract import Contract
from checks.errors import InputError
from checks.quality import quality_sli_rows
from checks.schema_validation import schema_sli_rows, validate_snapshot
from checks.sli import SliRow, sli_frame

__all__ = ["candidate_slis"]


def _read(path: str, what: str) -> pl.DataFrame:
    frame = read_snapshot(str(Path(path).resolve()))
    if frame.height == 0:
        raise InputError(f"{path}: {what} file has no rows")
    return frame


def candidate_slis(
    contract: Contract,
    *,
    predictions: str,
    features: str | None,
    labels: str | None,
    profiles_dir: str | Path,
) -> pl.DataFrame:
    """Model-track SLI rows of an evaluation set; raises :class:`InputError` naming the file
    and column when an input is missing, unreadable, or lacks the id or target column."""
    id_column = contract.sources.id_column
    target = contract.predictions.target
    scored = _read(predictions, "predictions")
    if id_column not in scored.columns:
        raise InputError(f"{predictions}: column {id_column}: missing (the contract's id)")
    truth = _read(labels, "labels") if labels is not None else scored
    truth_file = labels or predictions
    if target is None:
        raise InputError(f"{contract.path}: predictions.target: needed to score a candidate")
    if target not in truth.columns:
        raise InputError(f"{truth_file}: column {target}: missing (the true target)")
    if id_column not in truth.columns:
        raise InputError(f"{truth_file}: column {id_column}: missing (the contract's id)")

    rows: list[SliRow] = [ingest_row(contract, "predictions", scored.height, None)]
    frames: list[pl.DataFrame] = []
    feature_frame: pl.DataFrame | None = None
    if features is not None:
        feature_frame = _read(features, "features")
        rows.append(ingest_row(contract, "features", feature_frame.height, None))
        rows.extend(schema_sli_rows(contract, validate_snapshot(contract, feature_frame)))
        rows.extend(completeness_sli_rows(contract, feature_frame))
        frames.append(drift_rows(contract, feature_frame, profiles_dir))
    frames.append(
        quality_sli_rows(contract, scored, truth.select(id_column, target), features=feature_frame)
    )
    return pl.concat([sli_frame(rows), *frames], how="vertical")
