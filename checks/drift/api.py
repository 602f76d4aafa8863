"""Feature drift against a baseline: PSI, KS, chi-square, Jensen-Shannon, Wasserstein.

:func:`compute_drift` is docs/design.md's stable API. It does the whole-column work (one column
of each input at a time, nulls and NaN dropped in polars, counting with numpy), hands small
arrays to the kernels of :mod:`checks.stats`, puts every KS and chi2 p-value of the call in
one Benjamini-Hochberg family, and applies the drift rule (:mod:`checks.drift.rows`):

* KS drifts when q < 0.05 and the statistic > 0.1;
* chi2 drifts when q < 0.05 and the Jensen-Shannon distance (base 2) > 0.1;
* PSI drifts when PSI > 0.2, decided only when both sides have >= 1,000 values;
* JS and Wasserstein are reported and decide only when the contract gives a threshold;
* fewer than 30 non-null values on either side: status ``insufficient_data``, no verdict.

Each part is overridable per feature (:class:`checks.contract.DriftOverride`: methods,
thresholds, bins, enabled). A feature drifts when any of its rows has ``drifted = true``.
What each method is (kinds, effect, threshold, binning) lives in
:mod:`checks.drift.methods`; the engines in :mod:`checks.drift.exact` (whole columns),
:mod:`checks.drift.sketch` (a :class:`checks.profile.CurrentSketch` against a profile) and
:mod:`checks.drift.categorical`.

Execution is the caller's: the per-column work is handed to ``map_columns`` (default:
one after the other in this thread), so that the assets and the CLI can share it with
threads or worker processes (``assets.drift_runner``) while this package stays pure. The
function and the items given to it pickle (module-level function, per-feature slices of
a profile), and the result does not depend on how they were run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import polars as pl

from checks.drift.categorical import categorical_rows
from checks.drift.exact import exact_numeric_rows
from checks.drift.features import resolve_features, settings_for
from checks.drift.methods import DEFAULT_METHODS, DEFAULT_THRESHOLDS, METHODS, Kind, methods_for
from checks.drift.rows import Row, Settings, decide, rows_frame
from checks.drift.sketch import sketch_feature, sketch_numeric_rows
from checks.errors import InputError
from checks.profile import (
    DEFAULT_BINS,
    BaselineProfile,
    CurrentSketch,
    NumericProfile,
    merge_sketches,
)

if TYPE_CHECKING:
    from checks.contract import Contract, DriftOverride

__all__ = [
    "MapColumns",
    "column_rows",
    "compute_drift",
    "compute_prediction_drift",
    "drifted_features",
    "in_process",
    "sketch_snapshot",
]

Frame = pl.DataFrame | pl.LazyFrame
_R = TypeVar("_R")


class MapColumns(Protocol):
    """Runs ``fn(*item)`` for every item and returns the results in item order.

    Items come costliest first (numeric features before categorical ones), so a mapper
    that hands them out in order balances its workers. ``fn`` is a module-level function
    and the items pickle, so a mapper may run them in other processes.
    """

    def __call__(self, fn: Callable[..., _R], items: Sequence[tuple[Any, ...]]) -> list[_R]: ...


def in_process(fn: Callable[..., _R], items: Sequence[tuple[Any, ...]]) -> list[_R]:
    """The default :class:`MapColumns`: every item in this thread, in order."""
    return [fn(*item) for item in items]


def compute_drift(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    bins: int = DEFAULT_BINS,
    overrides: Mapping[str, DriftOverride] | None = None,
    map_columns: MapColumns = in_process,
) -> pl.DataFrame:
    """Drift of every feature of ``current`` against ``baseline``: one row per feature
    and method, columns :data:`checks.drift.DRIFT_SCHEMA`.

    Parameters
    ----------
    baseline : DataFrame, LazyFrame or BaselineProfile
        Training data (a ``scan_parquet`` LazyFrame is read one column at a time) or a
        precomputed profile (:func:`checks.profile.build_profile`).
    current : DataFrame, LazyFrame or CurrentSketch
        The snapshot; a :class:`~checks.profile.CurrentSketch` selects sketch mode
        (``baseline`` must then be a profile).
    numeric, categorical : sequence of str, optional
        Feature columns. When both are None: the profile's features, or the columns both
        frames share, numeric from integer/float dtypes and categorical from
        String/Categorical/Enum/Boolean (other dtypes are skipped).
    methods : sequence of str
        Subset of ``psi, ks, chi2, js, wasserstein``; each applies to the kinds it is
        defined for (KS and Wasserstein numeric, chi2 categorical).
    bins : int
        B of the PSI rule (cut points at the linspace quantiles).
    overrides : mapping of feature -> DriftOverride, optional
        Per-feature ``methods``, ``threshold`` (effect size per method), ``bins`` and
        ``enabled`` (False: the feature gets no rows).
    map_columns : MapColumns
        Who runs the per-feature work (default: this thread, in order).

    Returns
    -------
    polars.DataFrame
        Sorted by feature then method. ``drifted`` is null for a row that reports without
        deciding (insufficient data, PSI below 1,000 values, JS/Wasserstein without
        threshold).
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise InputError(f"methods: unknown {unknown} (known: {', '.join(METHODS)})")
    if bins < 2:
        raise InputError(f"bins: must be >= 2, not {bins}")
    sketch = isinstance(current, CurrentSketch)
    if sketch and not isinstance(baseline, BaselineProfile):
        raise InputError("baseline: sketch mode (a CurrentSketch) needs a BaselineProfile")
    defaults = Settings(tuple(methods), DEFAULT_THRESHOLDS, bins)
    items: list[tuple[Frame | BaselineProfile, Frame | CurrentSketch, str, Kind, Settings]] = []
    for name, kind in resolve_features(baseline, current, numeric, categorical):
        settings = settings_for(defaults, (overrides or {}).get(name))
        if settings is None:
            continue
        wanted = tuple(m for m in settings.methods if m in methods_for(kind))
        if not wanted:
            continue
        part = (
            feature_profile(baseline, name, sketch=sketch)
            if isinstance(baseline, BaselineProfile)
            else baseline
        )
        items.append((part, current, name, kind, replace(settings, methods=wanted)))
    items.sort(key=lambda item: item[3] != "numeric")  # costliest first, stable
    rows = [row for group in map_columns(column_rows, items) for row in group]
    decide(rows)
    return rows_frame(rows)


def column_rows(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    name: str,
    kind: Kind,
    settings: Settings,
) -> list[Row]:
    """One feature's rows, before the rule (:func:`checks.drift.rows.decide`)."""
    if kind == "categorical":
        return categorical_rows(baseline, current, name, settings)
    if isinstance(current, CurrentSketch):
        assert isinstance(baseline, BaselineProfile)
        return sketch_numeric_rows(baseline.numeric[name], current, name, settings)
    return exact_numeric_rows(baseline, current, name, settings)


def feature_profile(profile: BaselineProfile, name: str, *, sketch: bool) -> BaselineProfile:
    """The part of a profile one feature's work needs (small to pickle): for sketch mode
    the grid without the values, else the values' loader without the grid."""
    numeric: dict[str, NumericProfile] = {}
    if name in profile.numeric and sketch:
        numeric[name] = replace(
            profile.numeric[name], values=None, loader=None, anchor=None, anchor_loader=None
        )
    elif name in profile.numeric:
        # The sketch grid serves sketch mode only; the exact path never reads it.
        empty = np.empty(0, dtype=np.int64)
        numeric[name] = replace(
            profile.numeric[name], grid=np.empty(0), grid_counts=empty, grid_atoms=empty
        )
    categorical = {name: profile.categorical[name]} if name in profile.categorical else {}
    return replace(profile, numeric=numeric, categorical=categorical)


def sketch_snapshot(
    profile: BaselineProfile,
    parts: Sequence[pl.LazyFrame],
    features: Sequence[str] | None = None,
    *,
    map_columns: MapColumns = in_process,
) -> CurrentSketch:
    """Sketch mode's summary of a snapshot stored as ``parts`` (files, lazily scanned):
    :func:`checks.profile.sketch_current` of every part, merged.

    One feature at a time over all parts (so no more than one column of one part is in
    memory per worker), handed to ``map_columns`` like :func:`compute_drift`'s work. The
    result equals the sequential merge of the parts in order.
    """
    names = list(features) if features is not None else profile.features
    if not parts:
        raise InputError("current: no snapshot part to sketch")
    items = [(feature_profile(profile, name, sketch=True), list(parts), name) for name in names]
    items.sort(key=lambda item: profile.kind(item[2]) != "numeric")
    return merge_sketches(map_columns(sketch_feature, items))


def drifted_features(drift: pl.DataFrame) -> list[str]:
    """Features with at least one row ``drifted = true`` (sorted)."""
    return sorted(drift.filter(pl.col("drifted")).get_column("feature").unique().to_list())


def compute_prediction_drift(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    contract: Contract,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    bins: int = DEFAULT_BINS,
    map_columns: MapColumns = in_process,
) -> pl.DataFrame:
    """Drift of the model's outputs: the score (numeric) and the predicted label
    (categorical) named in ``contract.predictions``.

    Why: labels arrive late, but a shift in what the model predicts is visible at once.
    Columns the contract does not name, or that are absent from ``current``, are skipped;
    the result has the same columns as :func:`compute_drift` (empty when nothing applies).
    """
    preds = contract.predictions
    if isinstance(current, CurrentSketch):
        present = set(current.n)
    elif isinstance(current, pl.LazyFrame):
        present = set(current.collect_schema())
    else:
        present = set(current.schema)
    score = [preds.score] if preds.score and preds.score in present else []
    label = (
        [preds.predicted_label]
        if preds.predicted_label and preds.predicted_label in present
        else []
    )
    if not score and not label:
        return rows_frame([])
    return compute_drift(
        baseline,
        current,
        numeric=score,
        categorical=label,
        methods=methods,
        bins=bins,
        map_columns=map_columns,
    )
