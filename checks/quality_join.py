"""Quality inputs: a day's predictions joined with its labels (and features), by id.

The join :mod:`checks.quality` computes metrics on: ids compared across dtypes
(:mod:`checks.ids`), duplicates dropped, positive labels derived (from the predicted label,
else from the score at :data:`DECISION_THRESHOLD`), and what is missing said per column,
so that a missing column becomes ``error`` rows rather than an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar

import polars as pl

from checks.contract import Contract, ModelType
from checks.ids import ID_TYPES, is_id_dtype
from checks.slices import never_given

__all__ = [
    "DECISION_THRESHOLD",
    "FEATURES",
    "GROUP",
    "ID_KEY",
    "LABELS",
    "P_LABEL",
    "P_NUM",
    "P_POS",
    "SCORE",
    "WHOLE_DAY",
    "Y_LABEL",
    "Y_NUM",
    "Y_POS",
    "Bucket",
    "BucketSnapshots",
    "JoinedDay",
    "Snapshot",
    "bucket_of",
    "id_fingerprint",
    "ids_hash_as_text",
    "join_day",
    "working_columns",
]

#: Score at or above which a row counts as a predicted positive when the contract names no
#: ``predicted_label`` column (classification only).
DECISION_THRESHOLD: Final[float] = 0.5

# Working columns of the joined frame (prefixed so they cannot clash with user columns).
Y_LABEL, P_LABEL = "__y_label", "__p_label"
Y_POS, P_POS = "__y_pos", "__p_pos"
SCORE, Y_NUM, P_NUM, GROUP = "__score", "__y_num", "__p_num", "__group"


def _positive_expr(name: str, dtype: pl.DataType, positive_label: str) -> pl.Expr:
    """Whether a label column equals the contract's ``positive_label`` (a string).

    Booleans are positive when ``positive_label`` is ``1``/``true`` (any case) and the value
    is true; numeric labels compare numerically (``"1"`` matches 1 and 1.0); anything else
    compares as strings.
    """
    column = pl.col(name)
    if dtype == pl.Boolean:
        wanted = positive_label.strip().lower() in {"1", "true"}
        return column == wanted
    if dtype.is_numeric():
        try:
            number = float(positive_label)
        except ValueError:
            return pl.when(column.is_not_null()).then(pl.lit(False))
        return column.cast(pl.Float64) == number
    return column.cast(pl.String) == positive_label


def _label_exprs(
    target: str, predicted: str, schema: Mapping[str, pl.DataType]
) -> tuple[pl.Expr, pl.Expr]:
    """Comparable forms of the true and predicted labels (for accuracy)."""
    t, p = schema[target], schema[predicted]
    if t.is_numeric() and p.is_numeric():
        return pl.col(target).cast(pl.Float64, strict=False), pl.col(predicted).cast(pl.Float64)
    if t == pl.Boolean and p == pl.Boolean:
        return pl.col(target), pl.col(predicted)
    return pl.col(target).cast(pl.String), pl.col(predicted).cast(pl.String)


def _dedupe(
    frame: pl.LazyFrame, keys: list[str], *, ordered: bool = True, skip: bool = False
) -> pl.LazyFrame:
    """One row per id (``keys``: the id column, or its fingerprint), the last one in file
    order: a repeated label is a restatement. ``ordered``: the rows kept stay in file
    order (the last row per id is kept either way). ``skip``: the ids are known distinct,
    ``frame`` is already that."""
    if skip:
        return frame
    return frame.unique(subset=keys, keep="last", maintain_order=ordered)


#: Names of the snapshots :func:`join_day` may be told have distinct ids.
LABELS, FEATURES = "labels", "features"


def _comparable(
    left: pl.LazyFrame,
    left_schema: Mapping[str, pl.DataType],
    right: pl.LazyFrame,
    right_schema: Mapping[str, pl.DataType],
    id_column: str,
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.DataType]:
    """:func:`checks.ids.comparable_ids` on lazy frames: both ids as ``String`` when their
    types differ (integers print without padding), else unchanged; and the id type."""
    if left_schema[id_column] == right_schema[id_column]:
        return left, right, left_schema[id_column]
    as_text = pl.col(id_column).cast(pl.String)
    return left.with_columns(as_text), right.with_columns(as_text), pl.String()


def _find_column(name: str, *schemas: Mapping[str, pl.DataType] | None) -> int | None:
    for index, schema in enumerate(schemas):
        if schema is not None and name in schema:
            return index
    return None


#: A day's snapshot: collected, or a lazy scan that only the join's one collect reads.
Snapshot = pl.DataFrame | pl.LazyFrame

#: Seed of the id hash that assigns rows to buckets (any fixed value: it only has to be the
#: same for the three snapshots within one run).
_BUCKET_SEED: Final[int] = 0x5EED


def _needs_fingerprint(id_dtypes: list[pl.DataType]) -> bool:
    """Whether ids of these dtypes join by fingerprint, and hash into buckets as text: any
    text id, or mixed types (compared as text). Ids that are one integer type join, and
    hash, as themselves."""
    return not (id_dtypes[0].is_integer() and all(d == id_dtypes[0] for d in id_dtypes))


def _id_dtypes(
    id_column: str,
    p_schema: Mapping[str, pl.DataType],
    l_schema: Mapping[str, pl.DataType],
    f_schema: Mapping[str, pl.DataType] | None,
) -> list[pl.DataType]:
    """The id dtypes the join compares: the predictions', the labels', and the features'
    when it has a usable id column."""
    dtypes = [p_schema[id_column], l_schema[id_column]]
    if f_schema is not None and is_id_dtype(f_schema.get(id_column, pl.Null())):
        dtypes.append(f_schema[id_column])
    return dtypes


def ids_hash_as_text(
    id_column: str,
    p_schema: Mapping[str, pl.DataType],
    l_schema: Mapping[str, pl.DataType],
    f_schema: Mapping[str, pl.DataType] | None,
) -> bool:
    """Whether a day's ids are hashed into buckets as text (:func:`bucket_of`): unless
    they are one integer type in every snapshot, so that an id falls in the same bucket
    whichever file it is read from. Whoever splits a day must use this, as the join does."""
    return _needs_fingerprint(_id_dtypes(id_column, p_schema, l_schema, f_schema))


#: The column of a text id's fingerprint (:func:`_fingerprinted`): one 128-bit integer.
ID_KEY: Final = "__id_key"
#: The seeds of the fingerprint's two 64-bit hashes.
_KEY_SEEDS: Final = (0xA11CE, 0xF1D0)
#: 2^64, as the fingerprint's type: the high hash is scaled by it.
_HIGH: Final = pl.lit(2**64, dtype=pl.Int128)


def _id_hashes(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The two independent 64-bit hashes of ids as text that make a fingerprint."""
    first, second = (text.hash(seed) for seed in _KEY_SEEDS)
    return first, second


def _fingerprinted(frame: pl.LazyFrame, id_column: str) -> pl.LazyFrame:
    """``frame`` with :data:`ID_KEY`: two independent 64-bit hashes of the id as text, as
    one ``Int128`` (the first hash's bits high, the second's low; null for a null id, which
    then joins nothing, as a null id does).

    Why: a join on text ids hashes and compares strings in the build side's table; a
    numeric key is faster and smaller (the 5M-row day's three files, joined and
    de-duplicated whole: 2.7 s -> 2.0 s with two ``UInt64`` columns), and one ``Int128``
    column joins about twice as fast as those two (a 1M-row join: 0.51 -> 0.28 s): polars
    encodes a key of several columns row by row before hashing it. Two
    different ids get the same pair of hashes with probability 2^-128 per pair: for a day
    of n distinct ids, about n^2 / 2^129 (1.5e-23 at 100M ids), far below a disk's or
    memory's undetected error rates. Text ids are cast first, so the integer 7 and the
    text ``"7"`` are one id (:mod:`checks.ids`)."""
    return frame.with_columns(id_fingerprint(id_column).alias(ID_KEY))


def id_fingerprint(id_column: str) -> pl.Expr:
    """The fingerprint of each row's id (:func:`_fingerprinted`): an ``Int128``, null for
    a null id. Whoever splits a day with text ids may store this instead of the ids."""
    text = pl.col(id_column).cast(pl.String)
    first, second = _id_hashes(text)
    # The first hash read as signed and shifted up, plus the second: every pair of 64-bit
    # values maps to a distinct Int128, with no overflow.
    key = first.reinterpret(signed=True).cast(pl.Int128) * _HIGH + second.cast(pl.Int128)
    return pl.when(text.is_not_null()).then(key)


@dataclass(frozen=True)
class Bucket:
    """The rows whose id falls in bucket ``index`` of ``count``: ``hash(id) % count``.

    Why: a join's memory is its build side. Every copy of an id (a repeated prediction, the
    restatements of a label, the features row) hashes to the same bucket, so joining and
    de-duplicating bucket by bucket gives exactly the rows of the whole-day join, split into
    ``count`` disjoint parts, each needing ~1/``count`` of the memory. The hash is of the id
    as a string when ids are compared as strings across dtypes (:func:`_comparable`), so
    that they agree on their bucket; integer ids of one type hash as integers (5x faster
    than formatting and hashing text: each bucket hashes every id of the three files).
    Rows with a null id never join.
    """

    index: int = 0
    count: int = 1

    def keep(self, frame: pl.LazyFrame, id_column: str, *, as_text: bool) -> pl.LazyFrame:
        """``frame`` restricted to this bucket's ids (unchanged for a single bucket);
        ``as_text``: :func:`ids_hash_as_text` of the day."""
        if self.count == 1:
            return frame
        return frame.filter(bucket_of(id_column, self.count, as_text=as_text) == self.index)


def bucket_of(id_column: str, count: int, *, as_text: bool) -> pl.Expr:
    """The bucket (0 .. ``count`` - 1) of each row's id, as :class:`Bucket` assigns it;
    ``as_text``: :func:`ids_hash_as_text` of the day."""
    ids = pl.col(id_column).cast(pl.String) if as_text else pl.col(id_column)
    return ids.hash(_BUCKET_SEED) % count


#: Bucket ``index``'s rows of (predictions, labels, features), already split from the day
#: (e.g. written once per bucket by the asset), so that a bucket is not found by scanning
#: the whole day again.
BucketSnapshots = Callable[[int], tuple[Snapshot, Snapshot, Snapshot | None]]

#: One bucket holding the whole day.
WHOLE_DAY: Final = Bucket()


@dataclass(frozen=True)
class JoinedDay:
    frame: pl.DataFrame
    # slice/sensitive column -> the distinct values it takes in the day's data (for empty
    # slices)
    universes: dict[str, pl.Series]
    missing: dict[str, str]  # column -> why it is unavailable
    # the joined rows' columns (``frame``'s unless a ``reduce`` turned the rows into counts)
    schema: dict[str, pl.DataType] = field(default_factory=dict)


#: What :func:`join_day` may do to the joined rows inside the same streaming collect (e.g.
#: reduce them to counts, so the rows themselves are never held).
Reduce = Callable[[pl.LazyFrame], pl.LazyFrame]


def _never_given(
    contract: Contract,
    predictions: pl.LazyFrame,
    p_schema: pl.Schema,
    labels: pl.LazyFrame,
    l_schema: pl.Schema,
) -> dict[str, str]:
    """The join's inputs that are present but hold no value on any row of a non-empty
    snapshot (the labels' target, null or NaN; either file's ids), as :class:`JoinedDay`'s
    ``missing`` says them: as good as absent. Without this every metric said it had no row
    to score (no verdict), and a day of labels whose target was never filled in passed."""
    id_column, target = contract.sources.id_column, contract.predictions.target
    assert target is not None  # checked by join_day
    found: dict[str, str] = {}
    for name, frame, schema, columns in (
        ("labels", labels, l_schema, [target, id_column]),
        ("predictions", predictions, p_schema, [id_column]),
    ):
        for column in never_given(frame, schema, columns):
            key, what = ("__target", "target") if column == target else (column, "id")
            found.setdefault(key, f"{what} column {column!r} of {name} is null on every row")
    return found


def join_day(
    contract: Contract,
    predictions: Snapshot,
    labels: Snapshot,
    features: Snapshot | None,
    *,
    bucket: Bucket = WHOLE_DAY,
    with_universes: bool = True,
    reduce: Reduce | None = None,
    distinct_ids: frozenset[str] = frozenset(),
    rows: tuple[Snapshot, Snapshot, Snapshot | None] | None = None,
) -> JoinedDay:
    """Labelled predictions with their slice columns, as one lazy plan collected once by
    the streaming engine (given scans, only the columns used are read, and the joins never
    hold the three files whole: at 5M rows ~1.4 GiB instead of ~2.1 GiB eagerly).

    ``bucket`` restricts the join to one hash bucket of the ids (:class:`Bucket`); the
    buckets' frames are disjoint and together are the whole-day frame (up to row order).
    ``universes`` (each slice column's distinct values over the whole snapshot, not the
    bucket) are only computed when ``with_universes``. ``reduce`` is applied to the joined
    plan before the collect; ``schema`` is then still the joined rows' schema.
    ``distinct_ids`` names the snapshots (``labels``, ``features``) whose ids are known not to
    repeat (:func:`checks.distinct_ids.ids_are_distinct`): they are not de-duplicated.
    ``rows``: one bucket's rows of the three snapshots, already split from the day (e.g.
    :data:`BucketSnapshots`), joined instead of the snapshots filtered by ``bucket``; the
    snapshots are then read only for what is missing and the universes."""
    id_column = contract.sources.id_column
    pc = contract.predictions
    predictions, labels = predictions.lazy(), labels.lazy()
    features = features.lazy() if features is not None else None
    whole_predictions, whole_features = predictions, features
    p_schema, l_schema = predictions.collect_schema(), labels.collect_schema()
    f_schema = features.collect_schema() if features is not None else None
    missing: dict[str, str] = {}
    for schema, name in ((p_schema, "predictions"), (l_schema, "labels")):
        if id_column not in schema:
            missing[id_column] = f"id column {id_column!r} missing from {name}"
        elif not is_id_dtype(schema[id_column]):
            missing[id_column] = (
                f"id column {id_column!r} of {name} is {schema[id_column]}, not {ID_TYPES}"
            )
    if pc.target is None or pc.target not in l_schema:
        missing["__target"] = f"target column {pc.target!r} missing from labels"
    if not missing and with_universes:
        missing.update(_never_given(contract, predictions, p_schema, labels, l_schema))
    if missing:
        return JoinedDay(pl.DataFrame(), {}, missing)
    if rows is not None:
        predictions, labels = rows[0].lazy(), rows[1].lazy()
        features = rows[2].lazy() if rows[2] is not None else None
        p_schema, l_schema = predictions.collect_schema(), labels.collect_schema()
        f_schema = features.collect_schema() if features is not None else None
    # Reduced to counts, the rows' order is immaterial: the joins need not keep it, and
    # text ids join by fingerprint (_fingerprinted).
    ordered = reduce is None
    as_text = _needs_fingerprint(_id_dtypes(id_column, p_schema, l_schema, f_schema))
    keyed = not ordered and as_text
    keys = [ID_KEY] if keyed else [id_column]
    join_order: Literal["left", "none"] = "left" if ordered else "none"
    predictions = bucket.keep(predictions, id_column, as_text=as_text)
    labels = bucket.keep(labels, id_column, as_text=as_text)
    if keyed:
        predictions = _fingerprinted(predictions, id_column)
        labels = _fingerprinted(labels, id_column)

    pred_columns = [
        c
        for c in (pc.score, pc.predicted_label, pc.ranking_group)
        if c is not None and c in p_schema and c != id_column
    ]
    label_columns = [pc.target] if pc.target is not None else []
    if pc.ranking_group is not None and pc.ranking_group not in p_schema:
        label_columns.append(pc.ranking_group)
    label_columns = [c for c in dict.fromkeys(label_columns) if c in l_schema]
    # e.g. Int64 ids in one file and String in the other: compared as strings.
    joined_id: pl.DataType = p_schema[id_column]
    if not keyed:
        predictions, labels, joined_id = _comparable(
            predictions, p_schema, labels, l_schema, id_column
        )
    joined = predictions.select(*keys, *pred_columns).join(
        _dedupe(
            labels.select(*keys, *label_columns), keys, ordered=ordered, skip=LABELS in distinct_ids
        ),
        on=keys,
        how="inner",
        maintain_order=join_order,
    )
    joined_columns = {id_column, *keys, *pred_columns, *label_columns}
    values: dict[str, pl.LazyFrame] = {}
    extra = [c for c in dict.fromkeys((*contract.slices, *contract.sensitive_attributes))]
    from_features: list[str] = []
    sources: dict[str, str] = {}  # slice column -> the snapshot it is read from
    for column in extra:
        where = _find_column(column, f_schema, p_schema)
        if where is None:
            missing[column] = f"column {column!r} missing from features and predictions"
        elif where == 0 and features is not None and whole_features is not None:
            if column not in joined_columns:
                from_features.append(column)
            values[column] = whole_features.select(pl.col(column).unique())
            sources[column] = "features"
        else:
            if column not in joined_columns:
                joined = joined.join(
                    _dedupe(predictions.select(*keys, column), keys, ordered=ordered),
                    on=keys,
                    how="left",
                    maintain_order=join_order,
                )
                joined_columns.add(column)
            values[column] = whole_predictions.select(pl.col(column).unique())
            sources[column] = "predictions"
    feature_ids = f_schema.get(id_column) if f_schema is not None else None
    if features is not None and from_features and feature_ids and is_id_dtype(feature_ids):
        assert f_schema is not None
        features = bucket.keep(features, id_column, as_text=as_text)
        if keyed:
            features = _fingerprinted(features, id_column)
        else:
            joined_schema = {id_column: joined_id}
            joined, features, _ = _comparable(joined, joined_schema, features, f_schema, id_column)
        joined = joined.join(
            _dedupe(
                features.select(*keys, *from_features),
                keys,
                ordered=ordered,
                skip=FEATURES in distinct_ids,
            ),
            on=keys,
            how="left",
            maintain_order=join_order,
        )
    elif from_features:
        why = (
            f"id column {id_column!r} missing from features"
            if feature_ids is None
            else f"id column {id_column!r} of features is {feature_ids}, not {ID_TYPES}"
        )
        for column in from_features:
            missing[column] = why
            values.pop(column, None)
    if not with_universes:
        values = {}
    names = list(values)
    rows_schema = dict(joined.collect_schema())
    if reduce is not None:
        joined = reduce(joined)
    # Two collects, not one: collected together, the scan the join filters and the one
    # the universes read whole are one shared subplan, cached whole (6.3 GiB at 100M rows).
    frame = joined.collect(engine="streaming")
    distinct = pl.collect_all(list(values.values()), engine="streaming") if values else []
    universes = {name: part.to_series() for name, part in zip(names, distinct, strict=True)}
    if with_universes:
        unjoinable = (
            bool(from_features)
            and whole_features is not None
            and f_schema is not None
            and id_column in f_schema
            and bool(never_given(whole_features, f_schema, [id_column]))
        )
        for name in list(universes):
            unmeasured = _slice_never_given(
                name, sources[name], universes[name], id_column, unjoinable
            )
            if unmeasured is not None:
                missing[name] = unmeasured
                del universes[name]
    return JoinedDay(frame, universes, missing, rows_schema)


def _slice_never_given(
    column: str, source: str, universe: pl.Series, id_column: str, feature_ids_never_given: bool
) -> str | None:
    """Why a slice or sensitive-attribute column, present, says nothing of any row, as
    :class:`JoinedDay`'s ``missing`` says it; None when it does.

    Why: a column null on every row made one ``<null>`` slice of every row, judged ok; a
    features file whose ids are all null gave every joined row a null slice the same way.
    Either way no slice was measured, which an absent column already says."""
    if source == "features" and feature_ids_never_given:
        return (
            f"id column {id_column!r} of features is null on every row: "
            f"its {column!r} values cannot be matched to predictions"
        )
    if never_given(universe.to_frame().lazy(), pl.Schema({column: universe.dtype}), [column]):
        return f"column {column!r} of {source} is null on every row"
    return None


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def working_columns(contract: Contract, frame: Frame) -> Frame:
    """Add the normalised columns the metrics read (labels, positives, scores, groups);
    lazily when ``frame`` is lazy."""
    pc = contract.predictions
    schema = frame.collect_schema()
    target = pc.target
    assert target is not None  # checked by join_day
    has_score = pc.score is not None and pc.score in schema
    has_pred = pc.predicted_label is not None and pc.predicted_label in schema
    exprs: list[pl.Expr] = []
    if contract.type == ModelType.CLASSIFICATION:
        y_pos = _positive_expr(target, schema[target], pc.positive_label)
        exprs.append(y_pos.alias(Y_POS))
        if has_score:
            assert pc.score is not None
            exprs.append(pl.col(pc.score).cast(pl.Float64, strict=False).alias(SCORE))
        if has_pred:
            assert pc.predicted_label is not None
            y_label, p_label = _label_exprs(target, pc.predicted_label, schema)
            p_pos = _positive_expr(
                pc.predicted_label, schema[pc.predicted_label], pc.positive_label
            )
            exprs += [y_label.alias(Y_LABEL), p_label.alias(P_LABEL), p_pos.alias(P_POS)]
        elif has_score:
            assert pc.score is not None
            p_pos = pl.col(pc.score).cast(pl.Float64, strict=False) >= DECISION_THRESHOLD
            exprs += [y_pos.alias(Y_LABEL), p_pos.alias(P_LABEL), p_pos.alias(P_POS)]
    else:
        exprs.append(pl.col(target).cast(pl.Float64, strict=False).alias(Y_NUM))
        prediction = pc.score if has_score else (pc.predicted_label if has_pred else None)
        if prediction is not None:
            exprs.append(pl.col(prediction).cast(pl.Float64, strict=False).alias(P_NUM))
            exprs.append(pl.col(prediction).cast(pl.Float64, strict=False).alias(SCORE))
        if pc.ranking_group is not None and pc.ranking_group in schema:
            exprs.append(pl.col(pc.ranking_group).alias(GROUP))
    return frame.with_columns(exprs)
