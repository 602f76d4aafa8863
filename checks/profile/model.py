"""What a baseline profile holds (:class:`BaselineProfile` and its per-feature parts) and
the constants of its layout; see :mod:`checks.profile`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import polars as pl

from checks.arrays import CountArray, FloatArray
from checks.profile.freshness import FORMAT_VERSION
from checks.stats.ecdf import KsAnchor
from checks.stats.psi import psi_cut_points

__all__ = [
    "DEFAULT_BINS",
    "SKETCH_LEVELS",
    "BaselineProfile",
    "CategoricalProfile",
    "Kind",
    "NumericProfile",
    "sorted_counts",
]


#: PSI bins when neither the caller nor the contract says otherwise (docs/design.md).
DEFAULT_BINS: Final = 10
#: Quantile levels of the sketch grid (k / SKETCH_LEVELS, k = 0..SKETCH_LEVELS). With 4096
#: levels each grid cell holds ~1/4096 of the baseline, which bounds the sketch-mode KS
#: error by about 2.5e-4 plus the current share of the widest cell (see checks.drift).
SKETCH_LEVELS: Final = 4096

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class NumericProfile:
    """What drift needs of one numeric baseline column.

    Attributes
    ----------
    n : int
        Non-null, non-NaN values (including ±inf).
    n_missing : int
        Nulls plus NaN (dropped).
    n_neg_inf, n_pos_inf : int
        Infinite values (kept for KS/PSI/JS, excluded from mean/std/cuts/grid).
    mean, std : float
        Of the finite values; ``std`` is ``numpy.std`` (ddof 0), the Wasserstein divisor.
    bins : int
        B of the PSI rule the cut points were made for.
    cuts : ndarray
        PSI cut points (``unique(quantile(finite, linspace(0,1,B+1)[1:-1]))``).
    counts : ndarray of int
        Baseline counts in the right-closed PSI bins (``len(cuts) + 1``).
    grid : ndarray
        Sketch grid: quantiles of the finite values at levels k / SKETCH_LEVELS, unique.
    grid_counts : ndarray of int
        Baseline counts in the right-closed bins of ``grid`` (``len(grid) + 1``).
    grid_atoms : ndarray of int
        Baseline values exactly equal to each grid point (``len(grid)``): with ties the
        ECDF jumps *at* grid points, and knowing by how much keeps the sketch bounds tight.
    values : ndarray or None
        All non-null values sorted (exact mode); None for a sketch-only profile.
    anchor : KsAnchor or None
        The baseline's own KS bucket grid (:func:`checks.stats.ecdf.ks_anchor`), so that
        a run buckets only the current sample; None when it would not pay (ties spread
        over many values, few values) or was not stored. See :meth:`ks_anchor`.
    """

    n: int
    n_missing: int
    n_neg_inf: int
    n_pos_inf: int
    mean: float
    std: float
    bins: int
    cuts: FloatArray
    counts: CountArray
    grid: FloatArray
    grid_counts: CountArray
    grid_atoms: CountArray
    values: FloatArray | None = field(default=None, repr=False)
    loader: Callable[[], FloatArray] | None = field(default=None, repr=False, compare=False)
    anchor: KsAnchor | None = field(default=None, repr=False, compare=False)
    anchor_loader: Callable[[], KsAnchor] | None = field(default=None, repr=False, compare=False)

    @property
    def n_finite(self) -> int:
        return self.n - self.n_neg_inf - self.n_pos_inf

    @property
    def has_values(self) -> bool:
        return self.values is not None or self.loader is not None

    def sorted_values(self) -> FloatArray | None:
        """The sorted non-null values, loading them on first use from a stored profile."""
        if self.values is not None:
            return self.values
        if self.loader is not None:
            return self.loader()
        return None

    def ks_anchor(self) -> KsAnchor | None:
        """The stored KS grid, loading it on first use from a stored profile; None when
        the profile has none (the KS path then fits a grid per run, same result)."""
        if self.anchor is not None:
            return self.anchor
        if self.anchor_loader is not None:
            return self.anchor_loader()
        return None

    def cuts_for(self, bins: int) -> tuple[FloatArray, CountArray] | None:
        """PSI cut points and baseline bin counts for ``bins``; None if unavailable
        (sketch profile built for another B)."""
        if bins == self.bins:
            return self.cuts, self.counts
        values = self.sorted_values()
        if values is None or self.n_finite == 0:
            return None
        finite = values[self.n_neg_inf : self.n - self.n_pos_inf]
        cuts = psi_cut_points(finite, bins, is_sorted=True)
        return cuts, sorted_counts(values, cuts)


@dataclass(frozen=True)
class CategoricalProfile:
    """Category counts of one categorical baseline column (categories as strings)."""

    n: int
    n_missing: int
    categories: tuple[str, ...]
    counts: CountArray

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {"category": list(self.categories), "count": self.counts},
            schema={"category": pl.String, "count": pl.Int64},
        )


@dataclass(frozen=True)
class BaselineProfile:
    """A model version's baseline: one entry per feature, plus provenance.

    ``content_hash`` covers the baseline values (order-independent: sorted values and
    category counts) and the contract's feature section (``spec_hash``); compare it with
    a stored profile's to decide whether to rebuild.
    """

    numeric: Mapping[str, NumericProfile]
    categorical: Mapping[str, CategoricalProfile]
    content_hash: str
    spec_hash: str = ""
    n_rows: int = 0
    mode: Literal["exact", "sketch"] = "exact"
    format_version: int = FORMAT_VERSION

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def kind(self, feature: str) -> Kind | None:
        if feature in self.numeric:
            return "numeric"
        if feature in self.categorical:
            return "categorical"
        return None


def sorted_counts(sorted_values: FloatArray, cuts: FloatArray) -> CountArray:
    """Right-closed bin counts of a sorted array (``searchsorted`` on the cut points)."""
    at_most = np.searchsorted(sorted_values, cuts, side="right")
    return np.diff(np.concatenate([[0], at_most, [sorted_values.shape[0]]])).astype(np.int64)
