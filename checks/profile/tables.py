"""A profile as a JSON-able mapping plus one frame of sorted values, and back (no I/O:
``assets.baseline_store`` writes and reads the files)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from checks.arrays import FloatArray
from checks.errors import InputError
from checks.profile.freshness import READABLE_FORMAT_VERSIONS
from checks.profile.model import (
    BaselineProfile,
    CategoricalProfile,
    NumericProfile,
)

__all__ = ["profile_from_tables", "profile_to_tables"]


def _floats(a: FloatArray) -> list[float | str]:
    # JSON has no inf/nan; cut points and grids are finite, but be explicit.
    return [float(x) if np.isfinite(x) else str(x) for x in a.tolist()]


def _unfloats(xs: Iterable[float | str] | FloatArray) -> FloatArray:
    if isinstance(xs, np.ndarray):  # a store that keeps arrays outside the JSON
        return np.asarray(xs, dtype=np.float64)
    return np.array([float(x) for x in xs], dtype=np.float64)


def profile_to_tables(
    profile: BaselineProfile, *, with_values: bool = True
) -> tuple[dict[str, Any], pl.DataFrame]:
    """(metadata mapping for ``profile.json``, frame of sorted values for a parquet file).

    The frame has one Float64 column per numeric feature holding its sorted values,
    padded with nulls to the longest (features keep their own ``n``); it is empty for a
    sketch profile, and when ``with_values`` is False (a store that writes the values
    itself, from :meth:`NumericProfile.sorted_values`).
    """
    meta: dict[str, Any] = {
        "format_version": profile.format_version,
        "content_hash": profile.content_hash,
        "spec_hash": profile.spec_hash,
        "n_rows": profile.n_rows,
        "mode": profile.mode,
        "numeric": {},
        "categorical": {},
    }
    columns: dict[str, FloatArray] = {}
    for name, p in profile.numeric.items():
        meta["numeric"][name] = {
            "n": p.n,
            "n_missing": p.n_missing,
            "n_neg_inf": p.n_neg_inf,
            "n_pos_inf": p.n_pos_inf,
            "mean": p.mean if np.isfinite(p.mean) else None,
            "std": p.std if np.isfinite(p.std) else None,
            "bins": p.bins,
            "cuts": _floats(p.cuts),
            "counts": p.counts.tolist(),
            "grid": _floats(p.grid),
            "grid_counts": p.grid_counts.tolist(),
            "grid_atoms": p.grid_atoms.tolist(),
        }
        values = p.sorted_values() if profile.mode == "exact" and with_values else None
        if values is not None:
            columns[name] = values
    for name, c in profile.categorical.items():
        meta["categorical"][name] = {
            "n": c.n,
            "n_missing": c.n_missing,
            "categories": list(c.categories),
            "counts": c.counts.tolist(),
        }
    longest = max((v.shape[0] for v in columns.values()), default=0)
    frame = pl.DataFrame(
        [
            pl.Series(name, v, dtype=pl.Float64).extend_constant(None, longest - v.shape[0])
            for name, v in columns.items()
        ]
    )
    return meta, frame


def profile_from_tables(
    meta: Mapping[str, Any],
    values: Callable[[str], pl.Series | FloatArray] | None = None,
) -> BaselineProfile:
    """Rebuild a profile from :func:`profile_to_tables` output.

    ``values(feature)`` returns the stored sorted values of a feature (a Series or an
    array, possibly padded past the feature's ``n``); it is called lazily, each time drift
    needs that feature, so a stored profile costs one read per feature, like a baseline
    parquet file but without the sort. It must be picklable (a module-level class, not a
    closure) for the profile to travel to worker processes.
    """
    if meta.get("format_version") not in READABLE_FORMAT_VERSIONS:
        raise InputError(
            f"profile.json: format_version: {meta.get('format_version')!r} "
            f"(this datasre reads {sorted(READABLE_FORMAT_VERSIONS)}; rebuild the profile)"
        )
    nums: dict[str, NumericProfile] = {}
    exact = meta.get("mode") == "exact" and values is not None
    for name, m in meta["numeric"].items():
        n = int(m["n"])
        loader = _SlicedColumn(values, name, n) if exact and values is not None else None
        nums[name] = NumericProfile(
            n=n,
            n_missing=int(m["n_missing"]),
            n_neg_inf=int(m["n_neg_inf"]),
            n_pos_inf=int(m["n_pos_inf"]),
            mean=float("nan") if m["mean"] is None else float(m["mean"]),
            std=float("nan") if m["std"] is None else float(m["std"]),
            bins=int(m["bins"]),
            cuts=_unfloats(m["cuts"]),
            counts=np.array(m["counts"], dtype=np.int64),
            grid=_unfloats(m["grid"]),
            grid_counts=np.array(m["grid_counts"], dtype=np.int64),
            grid_atoms=np.array(m["grid_atoms"], dtype=np.int64),
            loader=loader,
        )
    cats = {
        name: CategoricalProfile(
            n=int(m["n"]),
            n_missing=int(m["n_missing"]),
            categories=tuple(m["categories"]),
            counts=np.array(m["counts"], dtype=np.int64),
        )
        for name, m in meta["categorical"].items()
    }
    return BaselineProfile(
        numeric=nums,
        categorical=cats,
        content_hash=str(meta["content_hash"]),
        spec_hash=str(meta.get("spec_hash", "")),
        n_rows=int(meta.get("n_rows", 0)),
        mode="exact" if exact else "sketch",
        format_version=int(meta["format_version"]),
    )


@dataclass(frozen=True)
class _SlicedColumn:
    """Loader of one feature's stored sorted values: the first ``n`` of ``values(name)``.

    A class rather than a closure so that a profile pickles (worker processes).
    """

    values: Callable[[str], pl.Series | FloatArray]
    name: str
    n: int

    def __call__(self) -> FloatArray:
        stored = self.values(self.name)
        if isinstance(stored, pl.Series):
            return np.asarray(stored.slice(0, self.n).to_numpy(), dtype=np.float64)
        return np.asarray(stored[: self.n], dtype=np.float64)
