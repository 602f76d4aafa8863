"""Model quality once labels arrive: a day's predictions and labels as quality SLI rows.

Drift says the inputs moved; quality says the model got worse. The metric kernels (and
their exact definitions, equal to scikit-learn 1.9) are in :mod:`checks.quality_metrics`;
this module joins predictions with labels, derives labels from scores where needed and
turns each applicable metric (per model type, per slice) into SLI rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks import fairness
from checks.contract import Contract, ModelType, slice_slo_name
from checks.distinct_ids import ids_are_distinct
from checks.ids import is_id_dtype
from checks.quality_counts import COUNTED
from checks.quality_join import (
    DECISION_THRESHOLD,
    FEATURES,
    GROUP,
    LABELS,
    P_LABEL,
    P_NUM,
    P_POS,
    SCORE,
    WHOLE_DAY,
    Y_LABEL,
    Y_NUM,
    Y_POS,
    Bucket,
    BucketSnapshots,
    JoinedDay,
    Snapshot,
    join_day,
    working_columns,
)
from checks.quality_metrics import (
    CALIBRATION_BINS,
    STATUS_ERROR,
    STATUS_INSUFFICIENT,
    STATUS_OK,
    STATUS_SKIPPED,
    MetricResult,
    accuracy,
    calibration_error,
    f1,
    log_loss,
    mae,
    mape,
    ndcg,
    precision,
    recall,
    rmse,
    roc_auc,
)
from checks.quality_ranking import RANKED, RANKED_ROW_COLUMNS, QueryBuckets, ranking_tables
from checks.quality_sums import SUMMED, finest_sums
from checks.quality_tables import (
    COUNT,
    CountTables,
    count_tables,
    finest_counts,
    merge_tables,
)
from checks.sli import SliRow, sli_frame, slo_row
from checks.slices import (
    SliceMetric,
    measure,
    measurement_row,
    slice_metric,
    slice_sli_rows,
    usable_rows,
)
from checks.slo_templates import default_objective

__all__ = [
    "BINARY_ONLY",
    "BUCKETED_TYPES",
    "DECISION_THRESHOLD",
    "METRICS_BY_MODEL_TYPE",
    "binary_only_unjudged",
    "quality_sli_rows",
    "target_classes",
]

#: Model types whose quality is computed bucket by bucket from mergeable tables (ranking
#: when its rows can be regrouped by query, :mod:`checks.quality_ranking`).
BUCKETED_TYPES: Final = frozenset(
    {ModelType.CLASSIFICATION, ModelType.REGRESSION, ModelType.RANKING}
)
#: Each bucketed metric's kernel on the tables: count tables, regression or NDCG sums.
_FROM_TABLES: Final = {**COUNTED, **SUMMED, **RANKED}

#: SLIs emitted per model type (the names are those of ``SLO_CATALOG``).
METRICS_BY_MODEL_TYPE: Final[Mapping[ModelType, tuple[str, ...]]] = {
    ModelType.CLASSIFICATION: (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "calibration_error",
    ),
    ModelType.REGRESSION: ("rmse", "mae", "mape"),
    ModelType.RANKING: ("ndcg",),
}

AnyArray = npt.NDArray[np.generic]
#: A metric over column arrays (``positive_label`` keyword for the binary ones).
SliceMetricFn = Callable[..., MetricResult]
BinaryFn = Callable[..., MetricResult]


# --- SLI rows ---------------------------------------------------------------------------


def _default_objective(contract: Contract, sli: str) -> float | None:
    """The template objective, only when the contract declares no SLO of that name."""
    if contract.slo(sli) is not None:
        return None
    return default_objective(contract.type, sli)


def _unmeasurable_rows(contract: Contract, frame: pl.DataFrame, measured: set[str]) -> list[SliRow]:
    """``error`` rows (a breach) for applicable metrics that could not be computed because
    a prediction column the contract names is absent: silence would read as "not
    evaluated", and an SLO on it would never burn."""
    pc = contract.predictions
    named = [c for c in (pc.score, pc.predicted_label, pc.ranking_group) if c is not None]
    absent = [c for c in named if c not in frame.schema]
    if not absent:
        return []
    detail = f"prediction column(s) {', '.join(absent)} named by the contract are missing"
    unmeasured = [s for s in METRICS_BY_MODEL_TYPE[contract.type] if s not in measured]
    return _error_rows(contract, unmeasured, detail)


def _error_rows(contract: Contract, slis: Sequence[str], detail: str) -> list[SliRow]:
    """One judged ``error`` row (a breach) per SLI that could not be computed, and why."""
    return [
        slo_row(
            contract,
            sli,
            "quality",
            None,
            0,
            objective=_default_objective(contract, sli),
            status=STATUS_ERROR,
            detail=detail,
        )
        for sli in slis
    ]


def _metric_specs(
    contract: Contract, frame: pl.DataFrame, *, counted: bool = False
) -> list[SliceMetric]:
    """The applicable metrics, with their objective (contract SLO, else default template);
    ``counted``: computed from count tables (:data:`COUNTED`) or sums
    (:data:`checks.quality_sums.SUMMED`) instead of rows."""
    pc = contract.predictions
    k = pc.ndcg_k
    thresholded = pc.predicted_label is None or pc.predicted_label not in frame.schema
    label_rule = f"score>={DECISION_THRESHOLD:g}" if thresholded else None
    positive = f"positive={pc.positive_label}"
    methods: dict[str, str | None] = {
        "accuracy": label_rule,
        "precision": "; ".join(filter(None, (positive, label_rule))),
        "recall": "; ".join(filter(None, (positive, label_rule))),
        "f1": "; ".join(filter(None, (positive, label_rule))),
        "roc_auc": positive,
        "log_loss": positive,
        "calibration_error": f"{positive}; {CALIBRATION_BINS} equal-width bins",
        "ndcg": f"ndcg@{k}",
    }

    def spec(sli: str, columns: tuple[str, ...], compute: SliceMetricFn) -> SliceMetric:
        objective = _default_objective(contract, sli)
        return SliceMetric(
            sli,
            columns,
            compute,
            category="quality",
            objective=objective,
            detail="default objective (no SLO in the contract)" if objective is not None else None,
            method=methods.get(sli),
        )

    def ndcg_at_k(rel: AnyArray, score: AnyArray, groups: AnyArray) -> MetricResult:
        return ndcg(rel, score, groups, k=k)

    def binary(fn: BinaryFn) -> SliceMetricFn:
        def compute(y: AnyArray, p: AnyArray) -> MetricResult:
            return fn(y, p, positive_label=True)

        return compute

    candidates: dict[str, tuple[tuple[str, ...], SliceMetricFn]] = {
        "accuracy": ((Y_LABEL, P_LABEL), accuracy),
        "precision": ((Y_POS, P_POS), binary(precision)),
        "recall": ((Y_POS, P_POS), binary(recall)),
        "f1": ((Y_POS, P_POS), binary(f1)),
        "roc_auc": ((Y_POS, SCORE), binary(roc_auc)),
        "log_loss": ((Y_POS, SCORE), binary(log_loss)),
        "calibration_error": ((Y_POS, SCORE), binary(calibration_error)),
        "rmse": ((Y_NUM, P_NUM), rmse),
        "mae": ((Y_NUM, P_NUM), mae),
        "mape": ((Y_NUM, P_NUM), mape),
        "ndcg": ((Y_NUM, SCORE, GROUP), ndcg_at_k),
    }
    specs: list[SliceMetric] = []
    for sli in METRICS_BY_MODEL_TYPE[contract.type]:
        columns, compute = candidates[sli]
        if all(c in frame.schema for c in columns):
            if counted:
                columns, compute = _FROM_TABLES[sli]
            specs.append(spec(sli, columns, compute))
    return specs


def _missing_slice_rows(
    contract: Contract, column: str, why: str, metrics: Sequence[SliceMetric]
) -> list[SliRow]:
    """One ``error`` row per slice SLO when the slice column is unavailable, and why."""
    return [
        slo_row(
            contract,
            sliced.sli,
            "quality",
            None,
            0,
            slice=f"{column}=?",
            objective=sliced.objective,
            method=sliced.method,
            status=STATUS_ERROR,
            detail=why,
        )
        for sliced in (slice_metric(contract, metric) for metric in metrics)
    ]


def quality_sli_rows(
    contract: Contract,
    predictions: Snapshot,
    labels: Snapshot,
    *,
    features: Snapshot | None = None,
    buckets: int = 1,
    split: BucketSnapshots | None = None,
    queries: QueryBuckets | None = None,
) -> pl.DataFrame:
    """Quality (and fairness) SLI rows of one prediction day whose labels have arrived.

    Labels join predictions on ``contract.sources.id_column`` (inner join: only labelled
    predictions are scored; a repeated label id keeps its last row, the newest
    restatement). Slice and sensitive-attribute columns come from ``features`` (joined by
    id), or from ``predictions`` when it carries them. Each input may be a lazy scan: the
    join then reads only the columns it uses, in one streaming collect. Emits, for the
    contract's model type:

    - every applicable metric of :data:`METRICS_BY_MODEL_TYPE` model-wide (``slice``
      NULL) and per value of each ``contract.slices`` column (``"<column>=<value>"``),
      category ``quality``; a metric whose input column the contract does not name is not
      emitted (no ``score`` column: no ROC AUC, log loss or calibration error; no
      ``predicted_label``: labels are ``score >= DECISION_THRESHOLD``);
    - for classification, ``demographic_parity_difference`` and
      ``equal_opportunity_difference`` per ``contract.sensitive_attributes`` column
      (category ``fairness``, the attribute in ``feature``), groups smaller than
      ``contract.min_slice_rows`` left out.

    For ranking, a slice keeps the slice's rows and scores each query on those rows (for a
    query-level attribute such as the user's country that is the query's own NDCG).
    ``method`` says how a value was defined (``positive=1``, ``score>=0.5`` when labels come
    from the score, ``ndcg@10``, the calibration bins).

    ``n_rows`` is the number of labelled rows the value is based on. Objectives come from
    the contract's SLO of the same name, else the template's
    (:data:`checks.slo_templates.DEFAULT_OBJECTIVES`). A column the contract names but the
    frames lack gives ``error`` rows (judged: a breach), not an exception.

    At scale (classification, regression): the join runs in ``buckets`` hash buckets of
    the id (:class:`checks.quality_join.Bucket`), each reduced to count tables
    (classification) or per-slice sums of errors (regression, :mod:`checks.quality_sums`)
    that are summed (:mod:`checks.quality_tables`); the metrics come from the summed
    counts (:mod:`checks.quality_counts`) or sums, so memory is one bucket plus tables as
    large as the distinct scores (or slice values), and the values equal the whole-day
    row-level metrics (exactly for the counts and ROC AUC; log loss, calibration and the
    regression errors up to float summation order). A ranking day of more than one bucket
    is bucketed when ``queries`` is given: its joined rows are regrouped there by query
    and each query bucket reduced to NDCG sums (:mod:`checks.quality_ranking`); otherwise
    it is computed on the joined rows in memory: NDCG needs each query's rows together.
    ``split``, when given, yields buckets 1.. of the day already split (bucket 0 is always
    filtered from the whole snapshots: it also gives each slice column's values over the
    whole day); without it each bucket filters the whole snapshots by id hash.
    """
    ranked = contract.type == ModelType.RANKING
    if not ranked or (queries is not None and buckets > 1):
        snapshots = (predictions, labels, features)
        rows = _counted_rows(contract, snapshots, buckets, split, queries)
        rows = too_few_labels_unjudged(contract, rows)
        if contract.type != ModelType.CLASSIFICATION:
            return rows  # no binary-only metric: the labels' classes are not counted
        return binary_only_unjudged(contract, rows, target_classes(contract, labels))
    return too_few_labels_unjudged(contract, _ranked_rows(contract, predictions, labels, features))


#: Metrics that read the score as the probability of ``positive_label``: defined for a
#: binary target only (precision, recall and f1 are one-vs-rest for that label, and
#: accuracy compares labels, so those hold for any number of classes).
BINARY_ONLY: Final = ("roc_auc", "log_loss", "calibration_error")


def target_classes(contract: Contract, labels: Snapshot) -> int:
    """Distinct non-null values of the labels' target (0 when it has no such column)."""
    target = contract.predictions.target
    scan = labels.lazy()
    if target is None or target not in scan.collect_schema():
        return 0
    counted = scan.select(pl.col(target).drop_nulls().n_unique()).collect(engine="streaming")
    return int(counted.item())


def binary_only_unjudged(contract: Contract, rows: pl.DataFrame, classes: int) -> pl.DataFrame:
    """``rows`` with the :data:`BINARY_ONLY` metrics (model-wide and per slice) of a
    classifier whose labels hold more than two classes made ``skipped`` (no value, ``ok``
    NULL, the detail saying why): no verdict, so a declared SLO on them gets the gate's
    ``no_evidence``, with this detail to say why.

    Why: a 3-class model's ROC AUC of 0.39 and calibration error of 0.65 were judged
    ``ok`` (its score, the top class's probability, read as P(positive_label)): numbers
    that mean nothing, shown as passing (found by a new user)."""
    if contract.type != ModelType.CLASSIFICATION or classes <= 2 or rows.height == 0:
        return rows
    names = [*BINARY_ONLY, *(slice_slo_name(m) for m in BINARY_ONLY)]
    wrong = (pl.col("category") == "quality") & pl.col("sli").is_in(names)
    why = (
        f"not measured: the labels hold {classes} classes and this metric reads the score "
        f"as the probability of positive_label ({contract.predictions.positive_label}), "
        "so it needs a binary target; drop its SLO for a multiclass model (accuracy, and "
        "precision, recall and f1 one-vs-rest for positive_label, still hold)"
    )
    return rows.with_columns(
        value=pl.when(wrong).then(None).otherwise(pl.col("value")),
        ok=pl.when(wrong).then(None).otherwise(pl.col("ok")),
        status=pl.when(wrong).then(pl.lit(STATUS_SKIPPED)).otherwise(pl.col("status")),
        detail=pl.when(wrong).then(pl.lit(why)).otherwise(pl.col("detail")),
    )


def too_few_labels_unjudged(contract: Contract, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with each model-wide quality measurement on fewer than the contract's
    ``min_labelled_rows`` labelled rows made ``insufficient_data`` (``ok`` NULL; the value
    kept, the detail saying why): no verdict, so the gate's ``no_evidence`` speaks.

    Why: a small slice is left out as too noisy to judge (``min_slice_rows``), yet the
    whole model's accuracy on 2 labelled rows was judged ``ok`` and the gate said READY (a
    label feed that delivered almost nothing is not labels overdue: some arrived)."""
    if rows.height == 0:
        return rows
    floor = contract.min_labelled_rows
    thin = (
        (pl.col("category") == "quality")
        & pl.col("slice").is_null()
        & (pl.col("status") == STATUS_OK)
        & (pl.col("n_rows") < floor)
    )
    why = pl.format(
        "{} labelled rows, fewer than min_labelled_rows ({}): too few to judge",
        pl.col("n_rows"),
        pl.lit(floor),
    )
    return rows.with_columns(
        ok=pl.when(thin).then(None).otherwise(pl.col("ok")),
        status=pl.when(thin).then(pl.lit(STATUS_INSUFFICIENT)).otherwise(pl.col("status")),
        detail=pl.when(thin)
        .then(pl.concat_str([pl.col("detail"), why], separator="; ", ignore_nulls=True))
        .otherwise(pl.col("detail")),
    )


def _ranked_rows(
    contract: Contract, predictions: Snapshot, labels: Snapshot, features: Snapshot | None
) -> pl.DataFrame:
    """:func:`quality_sli_rows` of a ranking day joined in memory."""
    joined = join_day(contract, predictions, labels, features)
    applicable = METRICS_BY_MODEL_TYPE[contract.type]
    rows: list[SliRow]
    fatal = ("__target", contract.sources.id_column)
    reasons = [why for column, why in joined.missing.items() if column in fatal]
    if reasons:
        rows = _error_rows(contract, applicable, "; ".join(dict.fromkeys(reasons)))
        return sli_frame(rows)

    frame = working_columns(contract, joined.frame)
    metrics = _metric_specs(contract, frame)
    rows = [measurement_row(contract, metric, measure(frame, metric)) for metric in metrics]
    rows += _unmeasurable_rows(contract, joined.frame, {m.sli for m in metrics})
    for column in contract.slices:
        if column in joined.missing:
            rows += _missing_slice_rows(contract, column, joined.missing[column], metrics)
            continue
        rows += slice_sli_rows(
            contract, frame, column, metrics, all_values=joined.universes.get(column)
        )
    if contract.type == ModelType.CLASSIFICATION and P_POS in frame.schema:
        for attribute in contract.sensitive_attributes:
            rows += fairness.fairness_sli_rows(
                contract,
                frame,
                attribute,
                y_true=Y_POS,
                y_pred=P_POS,
                missing=joined.missing.get(attribute),
            )
    return sli_frame(rows)


def _groupings(contract: Contract, joined: pl.LazyFrame) -> list[str]:
    """The slice and sensitive-attribute columns the joined rows have."""
    schema = joined.collect_schema()
    wanted = dict.fromkeys((*contract.slices, *contract.sensitive_attributes))
    return [column for column in wanted if column in schema]


def _distinct_snapshots(
    contract: Contract, labels: Snapshot, features: Snapshot | None
) -> frozenset[str]:
    """The snapshots the join would de-duplicate whose ids do not repeat (checked once for
    the day, or once per bucket of a day split on disk, whose buckets are de-duplicated
    one by one: :func:`checks.distinct_ids.ids_are_distinct`); the features only when
    slice or sensitive-attribute columns come from them. An unreadable snapshot is not
    one: the join reports it."""
    grouping = (*contract.slices, *contract.sensitive_attributes)
    id_column = contract.sources.id_column
    found: set[str] = set()
    for name, snapshot in ((LABELS, labels), (FEATURES, features)):
        if snapshot is None:
            continue
        lazy = snapshot.lazy()
        try:
            schema = lazy.collect_schema()
            if id_column not in schema or not is_id_dtype(schema[id_column]):
                continue
            if name == FEATURES and not any(column in schema for column in grouping):
                continue
            if ids_are_distinct(lazy, id_column):
                found.add(name)
        except pl.exceptions.PolarsError:
            continue
    return frozenset(found)


def _count_day(
    contract: Contract,
    snapshots: tuple[Snapshot, Snapshot, Snapshot | None],
    buckets: int,
    split: BucketSnapshots | None,
    queries: QueryBuckets | None,
) -> tuple[JoinedDay, CountTables]:
    """The day's count tables (:mod:`checks.quality_tables`), bucket by bucket: each
    bucket's join is reduced to counts inside its streaming collect, so only one bucket's
    rows are ever in flight; and bucket 0's :class:`JoinedDay` (universes, what is missing,
    the joined schema). A ranking day's buckets give rows, regrouped by query in
    ``queries`` (none: one bucket, reduced as it is), then reduced to NDCG sums."""
    predictions, labels, features = snapshots
    groupings: list[str] = []
    ranked = contract.type == ModelType.RANKING
    # An id bucket splits queries: a ranking day's buckets must be regrouped first.
    assert not ranked or queries is not None or buckets == 1

    # The working columns a reduction reads; without one (a prediction column the contract
    # names is absent) there is nothing to reduce, and _unmeasurable_rows says why.
    needed = {
        ModelType.RANKING: RANKED_ROW_COLUMNS,
        ModelType.REGRESSION: (Y_NUM, P_NUM),
    }.get(contract.type, ())
    absent: list[str] = []  # of those, the ones the joined rows lack

    def reduce(joined: pl.LazyFrame) -> pl.LazyFrame:
        groupings[:] = _groupings(contract, joined)
        rows = working_columns(contract, joined)
        present = rows.collect_schema()
        absent[:] = [c for c in needed if c not in present]
        if absent:
            return rows.select(c for c in needed if c in present).head(0)
        if ranked:
            return rows.select(*RANKED_ROW_COLUMNS, *groupings)
        if contract.type == ModelType.REGRESSION:
            return finest_sums(rows, [pl.col(c).cast(pl.String) for c in groupings])
        return finest_counts(rows, groupings)

    def tables_of(frame: pl.DataFrame) -> CountTables:
        if ranked:
            return ranking_tables(frame, groupings, contract.predictions.ndcg_k)
        return count_tables(frame, groupings)

    # A split day's ids are checked bucket by bucket (each bucket is de-duplicated on its
    # own): ~0.08 s a 1M-row bucket and snapshot against ~0.27 s to de-duplicate it, and
    # not bounded by CHECK_MAX_ROWS as the whole day's check is.
    if split is None:
        first_rows, distinct = None, _distinct_snapshots(contract, labels, features)
    else:
        first_rows = split(0)
        distinct = _distinct_snapshots(contract, first_rows[1], first_rows[2])
    # Bucket 0 also says what is missing and the universes, from the whole snapshots.
    first = join_day(
        contract,
        predictions,
        labels,
        features,
        bucket=Bucket(0, buckets) if split is None else WHOLE_DAY,
        reduce=reduce,
        distinct_ids=distinct,
        rows=first_rows,
    )
    if first.missing.keys() & {"__target", contract.sources.id_column}:
        return first, {}
    if absent:
        return first, {}  # nothing to score (_unmeasurable_rows says why)
    regroup = queries if ranked else None
    tables: CountTables = {}

    def take(frame: pl.DataFrame) -> None:
        """One bucket's reduced rows: regrouped by query, or merged into the tables."""
        nonlocal tables
        if regroup is not None:
            regroup.add(usable_rows(frame, RANKED_ROW_COLUMNS))
        else:
            tables = merge_tables(tables, tables_of(frame))

    take(first.frame)
    for index in range(1, buckets):
        if split is not None:
            more_snapshots, bucket = split(index), WHOLE_DAY
            more_distinct = _distinct_snapshots(contract, more_snapshots[1], more_snapshots[2])
        else:
            more_snapshots, bucket, more_distinct = snapshots, Bucket(index, buckets), distinct
        more = join_day(
            contract,
            *more_snapshots,
            bucket=bucket,
            with_universes=False,
            reduce=reduce,
            distinct_ids=more_distinct,
        )
        take(more.frame)
    if regroup is not None:
        for rows in regroup.buckets():
            tables = merge_tables(tables, tables_of(rows))
    return first, tables


def _counted_rows(
    contract: Contract,
    snapshots: tuple[Snapshot, Snapshot, Snapshot | None],
    buckets: int,
    split: BucketSnapshots | None,
    queries: QueryBuckets | None = None,
) -> pl.DataFrame:
    """The rows of :func:`quality_sli_rows` for a bucketed model type, from the day's
    count tables (classification) or sums (regression, ranking)."""
    joined, tables = _count_day(contract, snapshots, buckets, split, queries)
    fatal = ("__target", contract.sources.id_column)
    reasons = [why for column, why in joined.missing.items() if column in fatal]
    if reasons:
        applicable = METRICS_BY_MODEL_TYPE[contract.type]
        return sli_frame(_error_rows(contract, applicable, "; ".join(dict.fromkeys(reasons))))
    rows_schema = pl.DataFrame(schema=joined.schema)
    metrics = _metric_specs(contract, working_columns(contract, rows_schema), counted=True)
    rows = _unmeasurable_rows(contract, rows_schema, {m.sli for m in metrics})
    if not metrics:
        return sli_frame(rows)  # nothing to score, per slice or per group either
    overall = tables[None]
    rows[:0] = [
        measurement_row(contract, metric, measure(overall, metric, weight=COUNT))
        for metric in metrics
    ]
    for column in contract.slices:
        if column in joined.missing:
            rows += _missing_slice_rows(contract, column, joined.missing[column], metrics)
            continue
        rows += slice_sli_rows(
            contract,
            tables.get(column, overall),
            column,
            metrics,
            all_values=joined.universes.get(column),
            weight=COUNT,
        )
    if P_POS in overall.schema:
        for attribute in contract.sensitive_attributes:
            rows += fairness.fairness_sli_rows(
                contract,
                tables.get(attribute, overall),
                attribute,
                y_true=Y_POS,
                y_pred=P_POS,
                missing=joined.missing.get(attribute),
                weight=COUNT,
            )
    return sli_frame(rows)
