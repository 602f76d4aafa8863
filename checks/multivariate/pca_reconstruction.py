"""PCA reconstruction error, as NannyML's data reconstruction drift defines it.

Fit on the baseline: impute and frequency-encode (:func:`checks.multivariate.encoding.
frequency_matrix`), standardise every column (baseline mean and population standard
deviation; a constant column keeps scale 1), then keep the fewest principal components
whose cumulative explained variance exceeds :data:`VARIANCE_KEPT` (0.65, NannyML's
default). A row's reconstruction error is the Euclidean distance, in standardised units,
between the row and its projection back from those components; a chunk's error is the
mean over its rows. When features stop moving together as they did in the baseline
(a shifted feature no longer tracks its correlated partner, a category mix changes), the
components no longer describe the rows and the error grows.

The bounds come from the baseline itself, as NannyML's come from reference chunks, with
two changes measured on the samples. The baseline is split in halves (seeded shuffle):
the scaling and components are fitted on one, the bounds come from the other, because
in-sample errors are lower than any new day's (clean delivery_eta days sat +1.3 standard
errors above the in-sample mean on average). And the spread of a chunk's mean error is
the standard error of the held-out rows' errors at the chunk's size (row standard
deviation / sqrt(rows)), not the standard deviation of a handful of chunk means: with
6-8 chunks that estimate moved between 0.0075 and 0.023 with the shuffle's seed on
delivery_eta. Bounds: mean ± :data:`STD_MULTIPLIER` (3) standard errors, lower >= 0.
The components are found by an SVD in numpy (the tests compare with scikit-learn's PCA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "MIN_BASELINE_CHUNKS",
    "STD_MULTIPLIER",
    "VARIANCE_KEPT",
    "ReconstructionBounds",
    "ReconstructionModel",
    "fit_reconstruction",
    "reconstruction_bounds",
]

FloatMatrix = npt.NDArray[np.float64]

#: Cumulative explained variance the kept components must exceed (NannyML: 0.65).
VARIANCE_KEPT = 0.65
#: Bounds = mean of the baseline chunks' errors ± this many standard deviations.
STD_MULTIPLIER = 3.0
#: Held-out baseline rows must hold this many chunks of the day's size.
MIN_BASELINE_CHUNKS = 3


@dataclass(frozen=True)
class ReconstructionModel:
    """Scaling and principal components learned on the baseline."""

    mean: FloatMatrix  # per column, raw units
    scale: FloatMatrix  # per column, raw units (population std; 1 for a constant column)
    center: FloatMatrix  # mean of the standardised baseline (~0)
    components: FloatMatrix  # (k, columns), orthonormal rows
    explained_variance_ratio: FloatMatrix  # of the kept components

    def row_errors(self, matrix: FloatMatrix) -> FloatMatrix:
        """Euclidean reconstruction error of each row, in standardised units."""
        scaled = (matrix - self.mean) / self.scale
        centered = scaled - self.center
        reconstructed = (centered @ self.components.T) @ self.components
        errors: FloatMatrix = np.linalg.norm(centered - reconstructed, axis=1)
        return errors

    def error(self, matrix: FloatMatrix) -> float:
        """Mean reconstruction error of a chunk (NaN for an empty one)."""
        if matrix.shape[0] == 0:
            return float("nan")
        return float(self.row_errors(matrix).mean())


def fit_reconstruction(
    baseline: FloatMatrix, variance_kept: float = VARIANCE_KEPT
) -> ReconstructionModel:
    """Standardise ``baseline`` and keep the components explaining > ``variance_kept``."""
    if baseline.shape[0] < 2 or baseline.shape[1] == 0:
        raise ValueError("PCA reconstruction needs at least 2 baseline rows and 1 column")
    mean = baseline.mean(axis=0)
    scale = baseline.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    scaled = (baseline - mean) / scale
    center = scaled.mean(axis=0)
    _, singular, vt = np.linalg.svd(scaled - center, full_matrices=False)
    variance = singular**2 / (baseline.shape[0] - 1)
    ratio = variance / variance.sum() if variance.sum() > 0 else np.zeros_like(variance)
    # scikit-learn's rule for a fractional n_components: the fewest components whose
    # cumulative ratio is strictly greater than the fraction.
    kept = int(np.searchsorted(np.cumsum(ratio), variance_kept, side="right") + 1)
    kept = min(kept, vt.shape[0])
    # Sign convention of scikit-learn (svd_flip, u-based in 1.5+ is not needed: the
    # reconstruction V_k V_kᵀ does not depend on signs).
    return ReconstructionModel(
        mean=mean,
        scale=scale,
        center=center,
        components=vt[:kept],
        explained_variance_ratio=ratio[:kept],
    )


@dataclass(frozen=True)
class ReconstructionBounds:
    """Expected mean error of a chunk of ``chunk_rows`` rows and its standard error."""

    chunk_rows: int
    holdout_rows: int
    mean: float
    std: float

    @property
    def upper(self) -> float:
        return self.mean + STD_MULTIPLIER * self.std

    @property
    def lower(self) -> float:
        return max(0.0, self.mean - STD_MULTIPLIER * self.std)


def reconstruction_bounds(
    model: ReconstructionModel, holdout: FloatMatrix, chunk_rows: int
) -> ReconstructionBounds | None:
    """Bounds for a chunk of ``chunk_rows`` rows from baseline rows the model was not
    fitted on; None when there are fewer than :data:`MIN_BASELINE_CHUNKS` chunks' worth."""
    if chunk_rows <= 0 or holdout.shape[0] < MIN_BASELINE_CHUNKS * chunk_rows:
        return None
    errors = model.row_errors(holdout)
    return ReconstructionBounds(
        chunk_rows=chunk_rows,
        holdout_rows=int(holdout.shape[0]),
        mean=float(errors.mean()),
        std=float(errors.std(ddof=1) / np.sqrt(chunk_rows)),
    )
