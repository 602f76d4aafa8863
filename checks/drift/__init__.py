"""Feature drift against a baseline (docs/design.md's stable API; see :mod:`checks.drift.api`).

The package's rooms: :mod:`~checks.drift.api` (what callers use), :mod:`~checks.drift.features`
(which features and how), :mod:`~checks.drift.methods` (what each method is),
:mod:`~checks.drift.rows` (the one row builder and the rule with BH), the engines
:mod:`~checks.drift.exact`, :mod:`~checks.drift.sketch`, :mod:`~checks.drift.categorical`
(with :mod:`~checks.drift.binned` for PSI/JS from counts) and :mod:`~checks.drift.slis`
(results as SLI rows).
"""

from __future__ import annotations

from checks.drift.api import (
    MapColumns,
    column_rows,
    compute_drift,
    compute_prediction_drift,
    drifted_features,
    in_process,
    sketch_snapshot,
)
from checks.drift.methods import (
    ALPHA,
    DEFAULT_METHODS,
    DEFAULT_THRESHOLDS,
    METHODS,
    MIN_VALUES,
    PSI_MIN_VALUES,
    REGISTRY,
)
from checks.drift.rows import DRIFT_SCHEMA
from checks.drift.slis import drift_sli_rows

__all__ = [
    "ALPHA",
    "DEFAULT_METHODS",
    "DEFAULT_THRESHOLDS",
    "DRIFT_SCHEMA",
    "METHODS",
    "MIN_VALUES",
    "PSI_MIN_VALUES",
    "REGISTRY",
    "MapColumns",
    "column_rows",
    "compute_drift",
    "compute_prediction_drift",
    "drift_sli_rows",
    "drifted_features",
    "in_process",
    "sketch_snapshot",
]
