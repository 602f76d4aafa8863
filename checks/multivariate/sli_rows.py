"""The multivariate drift SLI rows of one day: ``domain_classifier_auc`` and
``pca_reconstruction_error`` (category ``drift``, model-wide: ``feature`` is NULL).

Sampling rule (bounded time and memory on big days, :mod:`checks.multivariate.sampling`):
the domain classifier compares at most :data:`DOMAIN_MAX_ROWS` rows of each side, the
PCA is fitted and judged on at most :data:`PCA_MAX_ROWS` rows of each side, every sample
uniform without replacement with the fixed seed :data:`checks.multivariate.sampling.
SAMPLE_SEED`. ``n_rows`` is the day's rows the value is based on (the sample size).

Objectives come from the baseline (calibrated null AUC, held-out reconstruction bounds).
A contract that declares the SLO sets a floor on top: the row's objective is the larger
of the calibrated one and the declared one (a team that only wants large shifts paged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.contract import Contract
from checks.multivariate.domain_classifier import (
    FOLDS,
    NULL_STD_MULTIPLIER,
    NullCalibration,
    calibrate_null,
    cross_validated_auc,
)
from checks.multivariate.encoding import (
    ColumnCodes,
    FloatMatrix,
    frequency_matrix,
    learn_codes,
    ordinal_matrix,
)
from checks.multivariate.pca_reconstruction import (
    STD_MULTIPLIER,
    ReconstructionModel,
    fit_reconstruction,
    reconstruction_bounds,
)
from checks.multivariate.sampling import SAMPLE_SEED, capped_sample
from checks.sli import SliRow, sli_frame, slo_row

__all__ = [
    "DOMAIN_CLASSIFIER_SLI",
    "DOMAIN_MAX_ROWS",
    "MIN_BASELINE_ROWS",
    "PCA_MAX_ROWS",
    "PCA_SLI",
    "MultivariateBaseline",
    "calibrate_domain_null",
    "calibration_rows",
    "insufficient_rows",
    "multivariate_sli_rows",
    "prepare_baseline",
]

DOMAIN_CLASSIFIER_SLI: Final = "domain_classifier_auc"
PCA_SLI: Final = "pca_reconstruction_error"
#: Rows per side the domain classifier compares (and calibrates on).
DOMAIN_MAX_ROWS: Final = 3000
#: Fewer training rows than this and neither SLI is measured.
MIN_BASELINE_ROWS: Final = 100
#: Rows per side the PCA is fitted, held out and judged on.
PCA_MAX_ROWS: Final = 50_000


@dataclass(frozen=True)
class MultivariateBaseline:
    """What the day is compared with, all learned from the training baseline."""

    codes: ColumnCodes
    domain_rows: FloatMatrix  # ordinal-encoded baseline sample
    categorical_mask: npt.NDArray[np.bool_]
    null: NullCalibration
    pca: ReconstructionModel
    pca_holdout: FloatMatrix  # frequency-encoded baseline rows the PCA was not fitted on
    baseline_rows: int


def _codes(training: pl.DataFrame, contract: Contract) -> ColumnCodes:
    return learn_codes(training, contract.numeric_features, contract.categorical_features)


def _mask(codes: ColumnCodes) -> npt.NDArray[np.bool_]:
    return np.array([False] * len(codes.numeric) + [True] * len(codes.categorical))


def calibration_rows(training_rows: int, day_rows: int) -> int:
    """Rows per side of the baseline-vs-baseline splits for a day of ``day_rows`` rows:
    the day's sample size rounded up to a power of two, at most :data:`DOMAIN_MAX_ROWS`
    and half the baseline. Buckets keep the number of stored calibrations small (days
    of 2,425 and 2,500 rows share one) while a small day is not calibrated on 3,000-row
    splits; :meth:`NullCalibration.threshold` rescales to the exact sizes."""
    bucket = 1 << max(0, math.ceil(math.log2(max(day_rows, 1))))
    return max(1, min(DOMAIN_MAX_ROWS, training_rows // 2, bucket))


def calibrate_domain_null(training: pl.DataFrame, contract: Contract, rows: int) -> NullCalibration:
    """Baseline-vs-baseline AUCs at ``rows`` rows per side (the expensive part: cache it
    per baseline and ``rows``)."""
    codes = _codes(training, contract)
    matrix = ordinal_matrix(training, codes)
    return calibrate_null(matrix, codes.columns, _mask(codes), rows=rows, seed=SAMPLE_SEED)


def prepare_baseline(
    training: pl.DataFrame, contract: Contract, null: NullCalibration
) -> MultivariateBaseline:
    """Encodings, the domain-classifier sample and the PCA fitted on half the (sampled)
    baseline, the other half held out for the bounds."""
    codes = _codes(training, contract)
    domain = ordinal_matrix(capped_sample(training, DOMAIN_MAX_ROWS), codes)
    pca_sample = frequency_matrix(capped_sample(training, 2 * PCA_MAX_ROWS), codes)
    order = np.random.default_rng(SAMPLE_SEED).permutation(pca_sample.shape[0])
    half = pca_sample.shape[0] // 2
    return MultivariateBaseline(
        codes=codes,
        domain_rows=domain,
        categorical_mask=_mask(codes),
        null=null,
        pca=fit_reconstruction(pca_sample[order[:half]]),
        pca_holdout=pca_sample[order[half:]],
        baseline_rows=training.height,
    )


def _objective(contract: Contract, sli: str, calibrated: float) -> float:
    declared = contract.slo(sli)
    return max(calibrated, declared.objective) if declared is not None else calibrated


def _sampled(rows: int, read: int, total: int) -> str:
    """The detail's note of a sample: ``rows`` drawn from the ``read`` rows of a
    ``total``-row day (``read < total``: a random sample was read first)."""
    if rows >= total:
        return ""
    via = f", via a random sample of {read}" if read < total else ""
    return f"; sampled {rows} of {total} rows (seed {SAMPLE_SEED}{via})"


def _domain_row(
    contract: Contract, baseline: MultivariateBaseline, day: pl.DataFrame, day_rows: int
) -> SliRow:
    sample = capped_sample(day, DOMAIN_MAX_ROWS)
    method = f"hist_gradient_boosting, {FOLDS}-fold stratified CV, mean held-out ROC AUC"
    if sample.height < 2 * FOLDS:
        return slo_row(
            contract, DOMAIN_CLASSIFIER_SLI, "drift", None, sample.height, method=method,
            status="insufficient_data", detail=f"{sample.height} rows: too few to cross-validate",
        )  # fmt: skip
    threshold = baseline.null.threshold(baseline.domain_rows.shape[0], sample.height)
    result = cross_validated_auc(
        baseline.domain_rows,
        ordinal_matrix(sample, baseline.codes),
        baseline.codes.columns,
        baseline.categorical_mask,
        seed=SAMPLE_SEED,
        importance_above=threshold,
    )
    top = result.top_features()
    if not result.importance:
        separating = "within the threshold (features not ranked)"
    elif top:
        shuffled = (f"{name} (AUC -{drop:.3f} shuffled)" for name, drop in top)
        separating = "separates best: " + ", ".join(shuffled)
    else:
        separating = "no single feature separates (every shuffle drop < 0.005)"
    detail = (
        f"{separating}; threshold = baseline-vs-baseline mean {baseline.null.mean:.4f} + "
        f"{NULL_STD_MULTIPLIER:g} x sd {baseline.null.std:.4f} over {len(baseline.null.aucs)} "
        f"splits, scaled to {result.baseline_rows} vs {result.current_rows} rows"
        f"{_sampled(sample.height, day.height, day_rows)}"
    )
    return slo_row(
        contract, DOMAIN_CLASSIFIER_SLI, "drift", result.auc, sample.height,
        objective=_objective(contract, DOMAIN_CLASSIFIER_SLI, threshold), comparator="<=",
        method=method, detail=detail,
    )  # fmt: skip


def _pca_row(
    contract: Contract, baseline: MultivariateBaseline, day: pl.DataFrame, day_rows: int
) -> SliRow:
    sample = capped_sample(day, PCA_MAX_ROWS)
    components = baseline.pca.components.shape[0]
    columns = baseline.pca.components.shape[1]
    method = f"standardised PCA, {components} of {columns} components (> 65% variance)"
    bounds = reconstruction_bounds(baseline.pca, baseline.pca_holdout, sample.height)
    if bounds is None or sample.height == 0:
        return slo_row(
            contract, PCA_SLI, "drift", None, sample.height, method=method,
            status="insufficient_data",
            detail=f"the held-out baseline ({baseline.pca_holdout.shape[0]} rows) holds fewer "
            f"than 3 chunks of the day's {sample.height} rows",
        )  # fmt: skip
    error = baseline.pca.error(frequency_matrix(sample, baseline.codes))
    below = " (below the lower bound: rows fit the components better than training did)"
    detail = (
        f"held-out baseline mean {bounds.mean:.4f}, bounds [{bounds.lower:.4f}, "
        f"{bounds.upper:.4f}] (± {STD_MULTIPLIER:g} standard errors at {sample.height} rows)"
        f"{below if error < bounds.lower else ''}{_sampled(sample.height, day.height, day_rows)}"
    )
    return slo_row(
        contract, PCA_SLI, "drift", error, sample.height,
        objective=_objective(contract, PCA_SLI, bounds.upper), comparator="<=",
        method=method, detail=detail,
    )  # fmt: skip


def insufficient_rows(contract: Contract, rows: int, detail: str) -> pl.DataFrame:
    """Both SLIs as ``insufficient_data`` (not judged), e.g. for a tiny baseline."""
    return sli_frame(
        slo_row(contract, sli, "drift", None, rows, status="insufficient_data", detail=detail)
        for sli in (DOMAIN_CLASSIFIER_SLI, PCA_SLI)
    )


def multivariate_sli_rows(
    contract: Contract,
    baseline: MultivariateBaseline,
    day: pl.DataFrame,
    *,
    day_rows: int | None = None,
) -> pl.DataFrame:
    """Both SLI rows of the day's feature frame (missing or retyped columns count as all
    null: a dropped feature separates the day). ``day_rows`` is the day's row count when
    ``day`` is a sample of it (the detail then says so); None means ``day`` is the day."""
    total = day.height if day_rows is None else day_rows
    return sli_frame(
        [_domain_row(contract, baseline, day, total), _pca_row(contract, baseline, day, total)]
    )
