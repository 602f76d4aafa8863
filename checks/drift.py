"""Feature drift against a baseline: PSI, KS, chi-square, Jensen-Shannon, Wasserstein.

:func:`compute_drift` is docs/design.md's stable API. It does the whole-column work (one column
of each input at a time, nulls and NaN dropped in polars, counting with numpy), hands small
arrays to the kernels of :mod:`checks.stats`, puts every KS and chi2 p-value of the call in
one Benjamini-Hochberg family, and applies the drift rule:

* KS drifts when q < 0.05 and the statistic > 0.1;
* chi2 drifts when q < 0.05 and the Jensen-Shannon distance (base 2) > 0.1;
* PSI drifts when PSI > 0.2, decided only when both sides have >= 1,000 values;
* JS and Wasserstein are reported and decide only when the contract gives a threshold;
* fewer than 30 non-null values on either side: status ``insufficient_data``, no verdict.

Each part is overridable per feature (:class:`checks.contract.DriftOverride`: methods,
thresholds, bins, enabled). A feature drifts when any of its rows has ``drifted = true``.

Infinite values (a deliberate choice, tested): ``±inf`` count as non-null values and are
kept as the most extreme values for KS (exactly as ``scipy.stats.ks_2samp`` orders them)
and for PSI/JS (they fall in the open end bins); they are excluded from the PSI cut points
(numpy's interpolation would make them NaN), from Wasserstein and from the baseline
standard deviation (moments of infinite values are undefined). Rows report how many were
excluded in ``detail``.

Sketch mode: pass a :class:`checks.profile.CurrentSketch` (mergeable per-file summaries)
as ``current`` and a profile as ``baseline``. PSI, JS and chi2 are then exact; KS and
Wasserstein are computed on the profile's quantile grid (4,096 levels) and every such row
carries a guaranteed ``error_bound``: the true KS statistic lies in
``[statistic, statistic + error_bound]`` (the grid gives the exact ECDF difference at each
grid point and the largest possible difference between them; at most the baseline share
plus the current share of one grid cell, ~2.5e-4 for continuous data), and the true
normalised Wasserstein distance lies within ``statistic ± error_bound``.
"""

from __future__ import annotations

import math
import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.errors import InputError
from checks.profile import (
    DEFAULT_BINS,
    BaselineProfile,
    CategoricalProfile,
    CurrentSketch,
    NumericProfile,
    categorical_counts_and_missing,
    is_categorical_dtype,
    is_numeric_dtype,
    merge_sketches,
    numeric_values,
    sketch_current,
)
from checks.stats.chi2 import chi2_homogeneity
from checks.stats.ecdf import BucketedPair, SortedBaselinePair, compare_ecdfs
from checks.stats.js import js_distance
from checks.stats.ks import ks_pvalue
from checks.stats.multitest import bh_qvalues
from checks.stats.psi import PSI_FLOOR, binned_counts, psi_cut_points, psi_from_counts
from checks.stats.wasserstein import STD_FLOOR, normalised_wasserstein

if TYPE_CHECKING:
    from checks.contract import Contract, DriftOverride
    from checks.drift_workers import DriftWorkers

__all__ = [
    "ALPHA",
    "DEFAULT_METHODS",
    "DEFAULT_THRESHOLDS",
    "DRIFT_SCHEMA",
    "METHODS",
    "MIN_VALUES",
    "PROCESS_MIN_CELLS",
    "PSI_MIN_VALUES",
    "compute_drift",
    "compute_prediction_drift",
    "drift_sli_rows",
    "drifted_features",
    "sketch_snapshot",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Methods docs/design.md runs by default.
DEFAULT_METHODS: Final = ("psi", "ks", "chi2")
#: Every method the engine knows.
METHODS: Final = ("psi", "ks", "chi2", "js", "wasserstein")
_NUMERIC_METHODS: Final = frozenset({"psi", "ks", "js", "wasserstein"})
_CATEGORICAL_METHODS: Final = frozenset({"psi", "chi2", "js"})
_TESTS: Final = frozenset({"ks", "chi2"})
#: Effect-size thresholds of the default rule (unitless). js and wasserstein have none:
#: they report unless a contract sets one.
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = {"ks": 0.1, "chi2": 0.1, "psi": 0.2}
#: q-value below which a test counts as significant.
ALPHA: Final = 0.05
#: Fewer non-null values than this on either side: insufficient_data, no verdict.
MIN_VALUES: Final = 30
#: PSI decides only with at least this many values on both sides (below, it is noise).
PSI_MIN_VALUES: Final = 1000
#: Work size (rows of the larger input x features) from which :func:`compute_drift` and
#: :func:`sketch_snapshot` share the per-column work with a second process by default.
#: One process already keeps ~1.5 of 2 cores busy (polars decodes the next column in
#: one thread while numpy counts in another; numpy's ``bincount`` and ``ufunc.at`` hold
#: the GIL, so more threads do not help), and a worker costs ~0.45 s of CPU to start
#: (interpreter, polars, numpy) that competes for the same two cores. Measured
#: here (benchmarks/README.md), 1M rows: 5-30 features no gain or up to 10% slower,
#: 50 features 5-10% faster in exact mode and ~45% faster in sketch mode (pure numpy).
PROCESS_MIN_CELLS: Final = 40_000_000
#: A pickled input larger than this holds data (an in-memory frame), not a reference to
#: files; sending it to another process would copy it, so such inputs use threads.
_MAX_SHARED_PICKLE: Final = 1 << 20

_EFFECT_NAME: Final[Mapping[str, str]] = {
    "psi": "psi",
    "ks": "ks_statistic",
    "chi2": "js_distance",
    "js": "js_distance",
    "wasserstein": "wasserstein_normalised",
}
_LOG_BASE: Final[Mapping[str, float | None]] = {
    "psi": math.e,
    "js": 2.0,
    "chi2": None,
    "ks": None,
    "wasserstein": None,
}

#: Output columns of :func:`compute_drift`, in order.
DRIFT_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "feature": pl.String(),
    "kind": pl.String(),
    "method": pl.String(),
    "statistic": pl.Float64(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "effect": pl.Float64(),
    "effect_name": pl.String(),
    "threshold": pl.Float64(),
    "comparator": pl.String(),
    "alpha": pl.Float64(),
    "drifted": pl.Boolean(),
    "status": pl.String(),
    "n_baseline": pl.Int64(),
    "n_current": pl.Int64(),
    "n_missing_baseline": pl.Int64(),
    "n_missing_current": pl.Int64(),
    "p_method": pl.String(),
    "binning": pl.String(),
    "log_base": pl.Float64(),
    "error_bound": pl.Float64(),
    "detail": pl.String(),
}

Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class _Settings:
    methods: tuple[str, ...]
    thresholds: Mapping[str, float]
    bins: int


@dataclass
class _Row:
    feature: str
    kind: str
    method: str
    statistic: float | None
    effect: float | None
    n_baseline: int
    n_current: int
    n_missing_baseline: int
    n_missing_current: int
    binning: str
    threshold: float | None = None
    p_value: float | None = None
    p_method: str | None = None
    error_bound: float | None = None
    decides: bool = True
    status: str = "ok"
    detail: str | None = None
    q_value: float | None = None
    drifted: bool | None = None


# --- public API -----------------------------------------------------------------------


def compute_drift(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    bins: int = DEFAULT_BINS,
    overrides: Mapping[str, DriftOverride] | None = None,
    workers: int | None = None,
    processes: int | None = None,
    pool: DriftWorkers | None = None,
) -> pl.DataFrame:
    """Drift of every feature of ``current`` against ``baseline``: one row per feature
    and method, columns :data:`DRIFT_SCHEMA`.

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
    workers : int, optional
        Threads for the per-column work within one process (polars releases the GIL
        while reading, numpy's counting does not); default ``min(4, cpu count)``.
    processes : int, optional
        Processes sharing the per-column work, this one included (1: this process only).
        Default: ``min(2, cpu count)`` when the work has at least
        :data:`PROCESS_MIN_CELLS` cells (rows of the larger input x features), else 1.
        Worker processes are spawned and each reads its own columns, so this applies
        only when both inputs are references to files (parquet scans, a stored profile):
        in-memory frames and sketches always stay in this process. Results are identical
        either way.
    pool : checks.drift_workers.DriftWorkers, optional
        Worker processes to use instead of starting ``processes - 1`` here (e.g. started
        early, so that their start-up overlaps the caller's own imports); not closed
        here. Used only when the rule above chooses processes.

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
    features = _resolve_features(baseline, current, numeric, categorical)
    defaults = _Settings(tuple(methods), DEFAULT_THRESHOLDS, bins)
    jobs: list[_Job] = []
    for name, kind in features:
        settings = _settings_for(defaults, (overrides or {}).get(name))
        if settings is None:
            continue
        wanted = [m for m in settings.methods if m in _methods_for(kind)]
        if not wanted:
            continue
        jobs.append((name, kind, replace(settings, methods=tuple(wanted))))

    def work(job: _Job) -> list[_Row]:
        return _job_rows(baseline, current, job)

    shared = _shareable_inputs(baseline, current, jobs, processes)
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if shared is not None:
        n_procs, payloads = shared
        results = _run_with_processes(work, jobs, payloads, n_procs, pool)
    elif n_workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as threads:
            results = list(threads.map(work, jobs))
    else:
        results = [work(job) for job in jobs]
    rows = [row for group in results for row in group]
    _decide(rows)
    return _frame(rows)


# --- per-column jobs, in this process or shared with worker processes -----------------

_Job = tuple[str, str, _Settings]
_T = TypeVar("_T")


def _job_rows(
    baseline: Frame | BaselineProfile, current: Frame | CurrentSketch, job: _Job
) -> list[_Row]:
    name, kind, settings = job
    if kind == "numeric":
        return _numeric_rows(baseline, current, name, settings)
    return _categorical_rows(baseline, current, name, settings)


def _n_rows(data: Frame | BaselineProfile) -> int:
    """Rows of an input, cheaply (parquet metadata for a scan); 0 when unknown."""
    if isinstance(data, BaselineProfile):
        sizes = [p.n + p.n_missing for p in data.numeric.values()]
        sizes += [c.n + c.n_missing for c in data.categorical.values()]
        return max([data.n_rows, *sizes])
    if isinstance(data, pl.DataFrame):
        return data.height
    try:
        return int(data.select(pl.len()).collect().item())
    except pl.exceptions.PolarsError:
        return 0  # unreadable: the per-column work reports it


def _shareable_inputs(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    jobs: Sequence[_Job],
    processes: int | None,
) -> tuple[int, list[tuple[bytes, bytes]]] | None:
    """(processes, pickled (baseline, current) per job) when the work should be shared
    with worker processes, else None (this process only)."""
    if processes is not None and processes < 2:
        return None
    if len(jobs) < 2 or isinstance(current, CurrentSketch):
        return None
    if isinstance(baseline, pl.DataFrame) or isinstance(current, pl.DataFrame):
        return None
    if processes is None:
        cores = os.cpu_count() or 1
        if cores < 2:
            return None
        cells = max(_n_rows(baseline), _n_rows(current)) * len(jobs)
        if cells < PROCESS_MIN_CELLS:
            return None
        processes = 2
    current_blob = pickle.dumps(current)
    if len(current_blob) > _MAX_SHARED_PICKLE:
        return None
    if isinstance(baseline, BaselineProfile):
        if any(p.values is not None and p.loader is None for p in baseline.numeric.values()):
            return None  # sorted values held in memory (a freshly built profile)
        blobs = [pickle.dumps(_feature_profile(baseline, name)) for name, _, _ in jobs]
    else:
        blobs = [pickle.dumps(baseline)] * len(jobs)
    if max(len(b) for b in blobs) > _MAX_SHARED_PICKLE:
        return None
    return processes, [(b, current_blob) for b in blobs]


def _feature_profile(
    profile: BaselineProfile, name: str, *, sketch: bool = False
) -> BaselineProfile:
    """The part of a profile one feature's job needs (small to send to a worker): for
    sketch mode the grid without the values, else the values' loader without the grid."""
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


def _job_cost(job: _Job) -> int:
    """Relative cost for scheduling (largest first): numeric columns cost the most."""
    return 2 if job[1] == "numeric" else 1


def _run_with_processes(
    work: Callable[[_Job], list[_Row]],
    jobs: Sequence[_Job],
    payloads: Sequence[tuple[bytes, bytes]],
    n_procs: int,
    pool: DriftWorkers | None,
) -> list[list[_Row]]:
    """compute_drift's jobs shared with worker processes (see :func:`_share_work`)."""
    return _share_work(
        lambda i: work(jobs[i]),
        lambda i: ("checks.drift", "_worker_job", (*payloads[i], jobs[i])),
        [_job_cost(job) for job in jobs],
        n_procs,
        pool,
    )


def _share_work(
    local: Callable[[int], _T],
    remote: Callable[[int], tuple[str, str, tuple[Any, ...]]],
    costs: Sequence[int],
    n_procs: int,
    pool: DriftWorkers | None,
) -> list[_T]:
    """Items ``0..len(costs)-1`` done by this thread (``local(i)``) and by worker
    processes (the call ``remote(i)``): ``pool``'s workers, or ``n_procs - 1`` started
    here and ended afterwards.

    All sides take the next item from one queue (costliest first), so the work balances
    whatever the workers' start-up time: a worker gets items only once it is ready, at
    most two in flight. A worker that dies has its unanswered items put back for the
    others, unless it died of memory exhaustion (aborted or killed: see
    :class:`checks.drift_workers.WorkerCrashError`), which is raised here as a
    ``MemoryError`` at once; an exception raised by an item is raised here.
    """
    from checks.drift_workers import DriftWorker, DriftWorkers, WorkerCrashError

    own = pool is None
    workers: DriftWorkers = pool if pool is not None else DriftWorkers(n_procs - 1)
    queue = deque(sorted(range(len(costs)), key=lambda i: -costs[i]))
    lock = threading.Lock()
    results: list[_T | None] = [None] * len(costs)
    errors: list[BaseException] = []
    took = [threading.Event() for _ in workers.workers]

    def take(mark: threading.Event | None = None) -> int | None:
        with lock:
            if errors or not queue:
                return None
            if mark is not None:
                mark.set()  # under the lock: whoever sees an empty queue sees this
            return queue.popleft()

    def feed(worker: DriftWorker, mark: threading.Event) -> None:
        if not queue or not worker.wait_ready():
            return
        pending: deque[int] = deque()
        try:
            while True:
                while len(pending) < 2:
                    i = take(mark)
                    if i is None:
                        break
                    pending.append(i)
                    worker.send(*remote(i))
                if not pending:
                    return
                results[pending[0]] = worker.receive()
                pending.popleft()
        except WorkerCrashError as crash:
            with lock:
                if crash.out_of_memory:  # redoing it here would run out of memory too
                    errors.append(MemoryError(f"a drift worker process ran out of memory: {crash}"))
                else:
                    queue.extendleft(reversed(pending))  # this thread or another redoes them
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [
        threading.Thread(target=feed, args=(w, e), name="drift-feeder", daemon=True)
        for w, e in zip(workers.workers, took, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            while (i := take()) is not None:
                try:
                    results[i] = local(i)
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
            # Wait for the workers that took items; one still starting gets no more.
            for thread, mark in zip(threads, took, strict=True):
                if mark.is_set():
                    thread.join()
            with lock:
                if errors or not queue:
                    break
    finally:
        if own:
            workers.close()
    if errors:
        raise errors[0]
    done: list[_T] = []
    for got in results:
        assert got is not None
        done.append(got)
    return done


def sketch_snapshot(
    profile: BaselineProfile,
    parts: Sequence[pl.LazyFrame],
    features: Sequence[str] | None = None,
    *,
    processes: int | None = None,
    pool: DriftWorkers | None = None,
) -> CurrentSketch:
    """Sketch mode's summary of a snapshot stored as ``parts`` (files, lazily scanned):
    :func:`checks.profile.sketch_current` of every part, merged.

    One feature at a time over all parts (so no more than one column of one part is in
    memory per process), shared with worker processes like :func:`compute_drift`
    (``processes``: default 2 from :data:`PROCESS_MIN_CELLS` cells, rows of all parts x
    features). The result equals the sequential merge of the parts in order.
    """
    names = list(features) if features is not None else profile.features
    if not parts:
        raise InputError("current: no snapshot part to sketch")

    def one(i: int) -> CurrentSketch:
        return _sketch_feature(profile, parts, names[i])

    n_procs = processes if processes is not None else 1
    if processes is None and len(names) > 1 and (os.cpu_count() or 1) >= 2:
        cells = sum(_n_rows(part) for part in parts) * len(names)
        n_procs = 2 if cells >= PROCESS_MIN_CELLS else 1
    parts_blob = pickle.dumps(list(parts))
    if n_procs < 2 or len(names) < 2 or len(parts_blob) > _MAX_SHARED_PICKLE:
        return merge_sketches(one(i) for i in range(len(names)))
    blobs = [pickle.dumps(_feature_profile(profile, name, sketch=True)) for name in names]
    sketches = _share_work(
        one,
        lambda i: ("checks.drift", "_worker_sketch", (blobs[i], parts_blob, names[i])),
        [2 if profile.kind(name) == "numeric" else 1 for name in names],
        n_procs,
        pool,
    )
    return merge_sketches(sketches)


def _sketch_feature(
    profile: BaselineProfile, parts: Sequence[pl.LazyFrame], name: str
) -> CurrentSketch:
    return merge_sketches(sketch_current(profile, part, [name]) for part in parts)


def _worker_sketch(profile_blob: bytes, parts_blob: bytes, name: str) -> CurrentSketch:
    """One feature's sketch over all parts in a worker process."""
    return _sketch_feature(_worker_input(profile_blob), _worker_input(parts_blob), name)


def _worker_job(base_blob: bytes, cur_blob: bytes, job: _Job) -> list[_Row]:
    """One job in a worker process (see :mod:`checks.drift_workers`)."""
    return _job_rows(_worker_input(base_blob), _worker_input(cur_blob), job)


_INPUTS: dict[bytes, Any] = {}


def _worker_input(blob: bytes) -> Any:
    """Unpickle an input in a worker, once per distinct small input (a scan's plan)."""
    got = _INPUTS.get(blob)
    if got is None:
        got = pickle.loads(blob)
        if len(blob) <= 64 * 1024:
            if len(_INPUTS) >= 16:
                _INPUTS.clear()
            _INPUTS[blob] = got
    return got


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
) -> pl.DataFrame:
    """Drift of the model's outputs: the score (numeric) and the predicted label
    (categorical) named in ``contract.predictions``.

    Why: labels arrive late, but a shift in what the model predicts is visible at once.
    Columns the contract does not name, or that are absent from ``current``, are skipped;
    the result has the same columns as :func:`compute_drift` (empty when nothing applies).
    """
    preds = contract.predictions
    present = set(current.n) if isinstance(current, CurrentSketch) else set(_schema(current))
    score = [preds.score] if preds.score and preds.score in present else []
    label = (
        [preds.predicted_label]
        if preds.predicted_label and preds.predicted_label in present
        else []
    )
    if not score and not label:
        return _frame([])
    return compute_drift(
        baseline, current, numeric=score, categorical=label, methods=methods, bins=bins
    )


def drift_sli_rows(drift: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """SLI rows (:data:`checks.sli.SLI_SCHEMA`) for a :func:`compute_drift` result.

    One row per feature and method (track ``model``, category ``drift``, ``sli`` = the
    method, ``value`` = the statistic, ``objective`` = the effect threshold, comparator
    ``<=``, ``ok`` = not drifted, null when the row does not decide) plus one model-wide
    ``drifted_feature_share`` row judged against the contract's SLO of that name: the
    share of features with a verdict whose rule fired.
    """
    from checks.sli import SliRow, sli_frame, slo_row

    rows: list[SliRow] = [
        SliRow(
            track="model",
            category="drift",
            sli=r["method"],
            feature=r["feature"],
            method=r["method"],
            value=r["statistic"],
            p_value=r["p_value"],
            q_value=r["q_value"],
            objective=r["threshold"],
            comparator="<=" if r["threshold"] is not None else None,
            ok=None if r["drifted"] is None else not r["drifted"],
            n_rows=int(r["n_current"]),
            status=r["status"],
            detail=_sli_detail(r),
        )
        for r in drift.iter_rows(named=True)
    ]
    judged = drift.filter(pl.col("drifted").is_not_null())
    n_judged = judged.get_column("feature").n_unique()
    n_drifted = judged.filter(pl.col("drifted")).get_column("feature").n_unique()
    if n_judged:
        share_row = slo_row(
            contract,
            "drifted_feature_share",
            "drift",
            n_drifted / n_judged,
            n_judged,
            detail=f"{n_drifted} of {n_judged} features with a verdict drifted",
        )
    else:
        share_row = slo_row(
            contract,
            "drifted_feature_share",
            "drift",
            None,
            0,
            status="insufficient_data",
            detail="no feature had enough data for a verdict",
        )
    rows.append(share_row)
    return sli_frame(rows)


def _sli_detail(r: Mapping[str, Any]) -> str:
    parts = [f"{r['method']} via {r['binning']}"]
    if r["effect_name"] and r["effect"] is not None and r["threshold"] is not None:
        rule = f"{r['effect_name']}={r['effect']:.4g} > {r['threshold']:g}"
        if r["alpha"] is not None:
            rule += f" and q < {r['alpha']:g}"
        parts.append("rule: " + rule)
    if r["detail"]:
        parts.append(str(r["detail"]))
    return "; ".join(parts)


# --- feature resolution and settings ---------------------------------------------------


def _schema(frame: Frame) -> Mapping[str, pl.DataType]:
    if isinstance(frame, pl.LazyFrame):
        return frame.collect_schema()
    return frame.schema


def _resolve_features(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> list[tuple[str, str]]:
    if isinstance(current, CurrentSketch):
        cur_cols: Mapping[str, pl.DataType | None] = dict.fromkeys(
            [*current.n, *current.categories], None
        )
    else:
        cur_cols = dict(_schema(current))
    if isinstance(baseline, BaselineProfile):
        base_kinds: dict[str, str] = {n: "numeric" for n in baseline.numeric}
        base_kinds.update({n: "categorical" for n in baseline.categorical})
    else:
        base_kinds = {}
        for name, dtype in _schema(baseline).items():
            if is_numeric_dtype(dtype):
                base_kinds[name] = "numeric"
            elif is_categorical_dtype(dtype):
                base_kinds[name] = "categorical"
    if numeric is None and categorical is None:
        chosen = [(n, k) for n, k in base_kinds.items() if n in cur_cols]
        if not chosen:
            raise InputError("current: no feature column in common with the baseline")
        return chosen
    chosen = [(n, "numeric") for n in numeric or []] + [
        (n, "categorical") for n in categorical or []
    ]
    for name, kind in chosen:
        if isinstance(baseline, BaselineProfile):
            if baseline.kind(name) is None:
                raise InputError(f"baseline: column {name!r}: not in the profile")
            if baseline.kind(name) != kind:
                raise InputError(
                    f"baseline: column {name!r}: profiled as {baseline.kind(name)}, not {kind}"
                )
        elif name not in _schema(baseline):
            raise InputError(f"baseline: column {name!r}: not found")
        if name not in cur_cols:
            raise InputError(f"current: column {name!r}: not found")
    return chosen


def _methods_for(kind: str) -> frozenset[str]:
    return _NUMERIC_METHODS if kind == "numeric" else _CATEGORICAL_METHODS


def _settings_for(defaults: _Settings, override: DriftOverride | None) -> _Settings | None:
    if override is None:
        return defaults
    if not override.enabled:
        return None
    thresholds = dict(defaults.thresholds)
    thresholds.update({str(k): float(v) for k, v in override.threshold.items()})
    methods = tuple(override.methods) if override.methods is not None else defaults.methods
    return _Settings(methods, thresholds, override.bins or defaults.bins)


# --- numeric features -------------------------------------------------------------------


def _numeric_rows(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    name: str,
    settings: _Settings,
) -> list[_Row]:
    if isinstance(current, CurrentSketch):
        assert isinstance(baseline, BaselineProfile)
        return _numeric_sketch_rows(baseline.numeric[name], current, name, settings)
    b_values, missing_b = numeric_values(current, name)
    profile: NumericProfile | None = None
    if isinstance(baseline, BaselineProfile):
        profile = baseline.numeric[name]
        a_sorted = profile.sorted_values()
        if a_sorted is None:
            raise InputError(
                f"baseline: column {name!r}: the profile is sketch-only; pass a CurrentSketch"
            )
        a_values: FloatArray = a_sorted
        missing_a = profile.n_missing
    else:
        a_values, missing_a = numeric_values(baseline, name)
    n1, n2 = a_values.shape[0], b_values.shape[0]
    base: dict[str, Any] = {
        "feature": name,
        "kind": "numeric",
        "n_baseline": n1,
        "n_current": n2,
        "n_missing_baseline": missing_a,
        "n_missing_current": missing_b,
    }
    methods = settings.methods
    status = "ok" if min(n1, n2) >= MIN_VALUES else "insufficient_data"
    if min(n1, n2) == 0:
        side = "baseline" if n1 == 0 else "current"
        return [
            _Row(
                **base,
                method=m,
                statistic=None,
                effect=None,
                binning=_binning(m, settings.bins, None),
                threshold=_threshold(m, settings),
                status="insufficient_data",
                detail=f"no non-null values on the {side} side",
            )
            for m in methods
        ]
    rows: list[_Row] = []
    pair: BucketedPair | SortedBaselinePair | None = None
    if profile is None:
        pair = BucketedPair(a_values, b_values)
    elif "ks" in methods:
        # Stored values are sorted: bucket counts by binary search, no pass over them.
        pair = SortedBaselinePair(a_values, b_values, anchor=profile.ks_anchor())
    if "psi" in methods or "js" in methods:
        if profile is not None:
            got = profile.cuts_for(settings.bins)
            assert got is not None  # exact profiles can always recompute cut points
            cuts, base_counts = got
        else:
            assert isinstance(pair, BucketedPair)
            finite_a = pair.fa
            cuts = (
                psi_cut_points(
                    finite_a, settings.bins, order_statistic=pair.finite_order_statistics
                )
                if finite_a.shape[0]
                else np.empty(0)
            )
            base_counts = binned_counts(a_values, cuts)
        cur_counts = binned_counts(b_values, cuts)
        rows += _binned_rows(
            base,
            methods=methods,
            settings=settings,
            base_counts=base_counts,
            cur_counts=cur_counts,
            status=status,
            cuts=cuts,
        )
    if "ks" in methods:
        assert pair is not None
        d, p, p_method = ks_pvalue(pair.ks_statistic(), n1, n2)
        rows.append(
            _Row(
                **base,
                method="ks",
                statistic=d,
                effect=d,
                p_value=p,
                p_method=p_method,
                binning=_binning("ks", settings.bins, None),
                threshold=_threshold("ks", settings),
                status=status,
            )
        )
    if "wasserstein" in methods:
        cmp = compare_ecdfs(a_values, b_values, a_sorted=profile is not None)
        inf_note = None
        if cmp.n_inf_a or cmp.n_inf_b:
            inf_note = (
                f"{cmp.n_inf_a} baseline and {cmp.n_inf_b} current infinite values "
                "excluded from Wasserstein"
            )
        if profile is not None:
            std = profile.std
        else:
            finite_a = a_values[np.isfinite(a_values)]
            std = float(np.std(finite_a)) if finite_a.shape[0] else float("nan")
        w = (
            normalised_wasserstein(cmp.wasserstein, std)
            if math.isfinite(cmp.wasserstein) and math.isfinite(std)
            else None
        )
        rows.append(
            _Row(
                **base,
                method="wasserstein",
                statistic=w,
                effect=w,
                binning=_binning("wasserstein", settings.bins, None),
                threshold=_threshold("wasserstein", settings),
                status=status,
                detail=inf_note if w is not None else _wasserstein_missing(cmp.wasserstein, std),
            )
        )
    return rows


def _wasserstein_missing(distance: float, std: float) -> str:
    """Why a Wasserstein row has no statistic: NaN means a side had no finite value,
    inf that the distance or the baseline's standard deviation overflowed float64."""
    if math.isnan(distance) or math.isnan(std):
        return "no finite values on one side (infinite values only)"
    return "the distance or the baseline standard deviation overflows float64"


def _binned_rows(
    base: Mapping[str, Any],
    *,
    methods: Sequence[str],
    settings: _Settings,
    base_counts: IntArray,
    cur_counts: IntArray,
    status: str,
    cuts: FloatArray | None,
) -> list[_Row]:
    """PSI and JS rows from aligned counts (numeric bins or category union)."""
    rows: list[_Row] = []
    n_cells = base_counts.shape[0]
    if "psi" in methods:
        psi = psi_from_counts(base_counts, cur_counts).statistic
        small = min(int(base["n_baseline"]), int(base["n_current"])) < PSI_MIN_VALUES
        rows.append(
            _Row(
                **base,
                method="psi",
                statistic=psi,
                effect=psi,
                binning=_binning("psi", settings.bins, n_cells, categorical=cuts is None),
                threshold=_threshold("psi", settings),
                status=status,
                decides=not small,
                detail=f"fewer than {PSI_MIN_VALUES} values on a side: reported, not decided"
                if small and status == "ok"
                else None,
            )
        )
    if "js" in methods:
        js = js_distance(base_counts, cur_counts)
        rows.append(
            _Row(
                **base,
                method="js",
                statistic=js,
                effect=js,
                binning=_binning("js", settings.bins, n_cells, categorical=cuts is None),
                threshold=_threshold("js", settings),
                status=status,
            )
        )
    return rows


def _numeric_sketch_rows(
    profile: NumericProfile, sketch: CurrentSketch, name: str, settings: _Settings
) -> list[_Row]:
    n1, n2 = profile.n, sketch.n[name]
    base: dict[str, Any] = {
        "feature": name,
        "kind": "numeric",
        "n_baseline": n1,
        "n_current": n2,
        "n_missing_baseline": profile.n_missing,
        "n_missing_current": sketch.n_missing[name],
    }
    status = "ok" if min(n1, n2) >= MIN_VALUES else "insufficient_data"
    methods = settings.methods
    if min(n1, n2) == 0:
        return [
            _Row(
                **base,
                method=m,
                statistic=None,
                effect=None,
                binning=_binning(m, settings.bins, None, sketch=True),
                threshold=_threshold(m, settings),
                status="insufficient_data",
                detail="no non-null values on one side",
            )
            for m in methods
        ]
    if settings.bins != profile.bins and ("psi" in methods or "js" in methods):
        raise InputError(
            f"baseline: column {name!r}: sketch profile was built for bins={profile.bins}, "
            f"not {settings.bins}"
        )
    rows = _binned_rows(
        base,
        methods=methods,
        settings=settings,
        base_counts=profile.counts,
        cur_counts=sketch.psi_counts[name],
        status=status,
        cuts=profile.cuts,
    )
    if "ks" in methods or "wasserstein" in methods:
        ks_lo, ks_bound, w_est, w_bound = _sketch_ecdf(profile, sketch, name)
        if "ks" in methods:
            d, p, p_method = ks_pvalue(ks_lo, n1, n2)
            rows.append(
                _Row(
                    **base,
                    method="ks",
                    statistic=d,
                    effect=d,
                    p_value=p,
                    p_method=p_method,
                    error_bound=ks_bound,
                    binning=_binning("ks", settings.bins, len(profile.grid), sketch=True),
                    threshold=_threshold("ks", settings),
                    status=status,
                    detail=f"sketch: the exact statistic lies in [{d:.6g}, {d + ks_bound:.6g}]",
                )
            )
        if "wasserstein" in methods:
            std = profile.std
            ok = math.isfinite(w_est) and math.isfinite(std)
            w = normalised_wasserstein(w_est, std) if ok else None
            bound = w_bound / max(std, STD_FLOOR) if ok else None
            rows.append(
                _Row(
                    **base,
                    method="wasserstein",
                    statistic=w,
                    effect=w,
                    error_bound=bound,
                    binning=_binning("wasserstein", settings.bins, len(profile.grid), sketch=True),
                    threshold=_threshold("wasserstein", settings),
                    status=status,
                )
            )
    return rows


def _sketch_ecdf(
    profile: NumericProfile, sketch: CurrentSketch, name: str
) -> tuple[float, float, float, float]:
    """(KS lower bound, KS bound width, Wasserstein estimate, its half-width) from the
    grid counts. Every bound is a guaranteed interval, not a statistical one.

    Grid points g_0 < ... < g_k are baseline quantiles. Both ECDFs are known exactly at
    each g_i (cumulative counts) and, inside an open cell (g_{i-1}, g_i), lie between
    F(g_{i-1}) and F(g_i) minus the mass exactly at g_i. The KS statistic is therefore at
    least the largest difference at the grid points and at most the largest difference
    the cells allow; Wasserstein is bracketed cell by cell, and the parts below g_0 (the
    baseline minimum) and above g_k (its maximum) are exact from the sums of distances.
    """
    n1, n2 = profile.n, sketch.n[name]
    bc, cc = profile.grid_counts, sketch.grid_counts[name]
    ba, ca = profile.grid_atoms, sketch.grid_atoms[name]
    neg_b, neg_c = profile.n_neg_inf, sketch.n_neg_inf[name]
    pos_b, pos_c = profile.n_pos_inf, sketch.n_pos_inf[name]
    # KS over all values (-inf in the first cell, +inf in the last).
    cum_b, cum_c = np.cumsum(bc), np.cumsum(cc)
    lo = max(
        float(np.abs(cum_b[:-1] / n1 - cum_c[:-1] / n2).max(initial=0.0)),
        abs(neg_b / n1 - neg_c / n2),
    )
    prev_b = np.concatenate([[neg_b], cum_b[:-1]])
    prev_c = np.concatenate([[neg_c], cum_c[:-1]])
    inner_b = cum_b - np.concatenate([ba, [pos_b]])
    inner_c = cum_c - np.concatenate([ca, [pos_c]])
    hi = float(np.maximum(inner_b / n1 - prev_c / n2, inner_c / n2 - prev_b / n1).max())
    hi = max(hi, lo)
    # Wasserstein over finite values.
    grid = profile.grid
    m1, m2 = n1 - neg_b - pos_b, n2 - neg_c - pos_c
    if m1 == 0 or m2 == 0 or grid.shape[0] == 0:
        return lo, hi - lo, float("nan"), float("nan")
    fb = bc.astype(np.float64)
    fc = cc.astype(np.float64)
    fb[0] -= neg_b
    fb[-1] -= pos_b
    fc[0] -= neg_c
    fc[-1] -= pos_c
    # F at each grid point g_i, i = 0..k (the last entry, 1, is past g_k).
    gb = np.cumsum(fb)[:-1] / m1
    gc = np.cumsum(fc)[:-1] / m2
    # Inner cells (g_{i-1}, g_i), i = 1..k: F from F(g_{i-1}) up to F(g_i) - atom_i.
    width = np.diff(grid)
    pb, pc = gb[:-1], gc[:-1]
    qb = gb[1:] - ba[1:] / m1
    qc = gc[1:] - ca[1:] / m2
    upper = np.maximum(qb - pc, qc - pb)
    lower = np.maximum(np.maximum(pb - qc, pc - qb), 0.0)
    w_lo = float(np.sum(lower * width))
    w_hi = float(np.sum(upper * width))
    tails = (sketch.below_sum[name] + sketch.above_sum[name]) / m2
    return lo, hi - lo, (w_lo + w_hi) / 2 + tails, (w_hi - w_lo) / 2


# --- categorical features ---------------------------------------------------------------


def _categorical_rows(
    baseline: Frame | BaselineProfile,
    current: Frame | CurrentSketch,
    name: str,
    settings: _Settings,
) -> list[_Row]:
    if isinstance(baseline, BaselineProfile):
        prof: CategoricalProfile = baseline.categorical[name]
        base_frame = prof.frame()
        missing_a = prof.n_missing
    else:
        base_frame, missing_a = categorical_counts_and_missing(baseline, name)
    if isinstance(current, CurrentSketch):
        cur_frame = current.categories[name]
        missing_b = current.n_missing[name]
    else:
        cur_frame, missing_b = categorical_counts_and_missing(current, name)
    joined = (
        base_frame.join(cur_frame, on="category", how="full", coalesce=True, suffix="_current")
        .fill_null(0)
        .sort("category")
    )
    bc = joined.get_column("count").to_numpy().astype(np.int64)
    cc = joined.get_column("count_current").to_numpy().astype(np.int64)
    n1, n2 = int(bc.sum()), int(cc.sum())
    base: dict[str, Any] = {
        "feature": name,
        "kind": "categorical",
        "n_baseline": n1,
        "n_current": n2,
        "n_missing_baseline": missing_a,
        "n_missing_current": missing_b,
    }
    methods = settings.methods
    if min(n1, n2) == 0:
        side = "baseline" if n1 == 0 else "current"
        return [
            _Row(
                **base,
                method=m,
                statistic=None,
                effect=None,
                binning=_binning(m, settings.bins, None, categorical=True),
                threshold=_threshold(m, settings),
                status="insufficient_data",
                detail=f"no non-null values on the {side} side",
            )
            for m in methods
        ]
    status = "ok" if min(n1, n2) >= MIN_VALUES else "insufficient_data"
    unseen = int(np.count_nonzero(bc == 0))
    note = f"{unseen} categories unseen in the baseline" if unseen else None
    rows = _binned_rows(
        base,
        methods=methods,
        settings=settings,
        base_counts=bc,
        cur_counts=cc,
        status=status,
        cuts=None,
    )
    if "chi2" in methods:
        res = chi2_homogeneity(bc, cc)
        js = js_distance(bc, cc)
        rows.append(
            _Row(
                **base,
                method="chi2",
                statistic=res.statistic,
                effect=js,
                p_value=res.pvalue,
                p_method=f"chi2 dof={res.dof}",
                binning=_binning("chi2", settings.bins, bc.shape[0], categorical=True),
                threshold=_threshold("chi2", settings),
                status=status,
                detail=note,
            )
        )
    elif note:
        for row in rows:
            row.detail = note if row.detail is None else f"{row.detail}; {note}"
    return rows


# --- rule, q-values and output ----------------------------------------------------------


def _threshold(method: str, settings: _Settings) -> float | None:
    value = settings.thresholds.get(method)
    return None if value is None else float(value)


def _binning(
    method: str,
    bins: int,
    cells: int | None,
    *,
    categorical: bool = False,
    sketch: bool = False,
) -> str:
    """How a row's number was produced, so it is comparable across tools."""
    floor = f"zero proportion -> {PSI_FLOOR:g}"
    if method == "psi":
        if categorical:
            return f"category union ({cells} categories); {floor}; ln"
        got = f" ({cells} after ties)" if cells is not None else ""
        return f"quantile bins B={bins}{got}, linear rule, right-closed; {floor}; ln"
    if method == "js":
        if categorical:
            return f"category union ({cells} categories); raw proportions; log2"
        got = f" ({cells} after ties)" if cells is not None else ""
        return f"PSI bins B={bins}{got}; raw proportions; log2"
    if method == "chi2":
        return f"2x{cells} contingency table, no continuity correction"
    if method == "ks":
        return f"sketch grid of {cells} baseline quantiles" if sketch else "exact ECDFs"
    if method == "wasserstein":
        where = f"sketch grid of {cells} baseline quantiles" if sketch else "exact ECDFs"
        return f"{where}; / max(std(baseline), {STD_FLOOR:g}); finite values"
    return "-"


def _decide(rows: list[_Row]) -> None:
    """BH q-values over the KS and chi2 rows with data, then each row's rule."""
    family = [r for r in rows if r.method in _TESTS and r.status == "ok" and r.p_value is not None]
    q = bh_qvalues([r.p_value for r in family if r.p_value is not None])
    for row, qv in zip(family, q, strict=True):
        row.q_value = float(qv)
    for row in rows:
        if row.status != "ok" or row.effect is None or row.threshold is None or not row.decides:
            row.drifted = None
            continue
        fired = row.effect > row.threshold
        if row.method in _TESTS:
            fired = fired and row.q_value is not None and row.q_value < ALPHA
        row.drifted = bool(fired)


def _frame(rows: list[_Row]) -> pl.DataFrame:
    records = [
        {
            "feature": r.feature,
            "kind": r.kind,
            "method": r.method,
            "statistic": r.statistic,
            "p_value": r.p_value,
            "q_value": r.q_value,
            "effect": r.effect,
            "effect_name": _EFFECT_NAME[r.method],
            "threshold": r.threshold,
            "comparator": ">",
            "alpha": ALPHA if r.method in _TESTS else None,
            "drifted": r.drifted,
            "status": r.status,
            "n_baseline": r.n_baseline,
            "n_current": r.n_current,
            "n_missing_baseline": r.n_missing_baseline,
            "n_missing_current": r.n_missing_current,
            "p_method": r.p_method,
            "binning": r.binning,
            "log_base": _LOG_BASE[r.method],
            "error_bound": r.error_bound,
            "detail": r.detail,
        }
        for r in rows
    ]
    frame = pl.DataFrame(records, schema=dict(DRIFT_SCHEMA))
    return frame.sort(["feature", "method"])
