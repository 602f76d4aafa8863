"""A ranking day's NDCG from sums over query buckets (checks.quality_ranking) equals the
row-level NDCG of the whole-day join, model-wide and per slice.

The reference is the in-memory path (quality_sli_rows without query buckets: one join,
row kernels per slice), which tests/checks/test_quality.py holds equal to scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import quality
from checks.contract import Contract
from checks.quality_join import GROUP
from checks.quality_metrics import RankedRows, ndcg, ndcg_parts, ndcg_result
from checks.quality_ranking import query_bucket_of
from tests.checks.test_quality_tables import assert_same_rows, contract


class MemoryQueryBuckets:
    """The query-bucket store in memory (the asset's keeps files): the same regrouping."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.added: list[pl.DataFrame] = []
        self.sizes: list[int] = []  # rows of each query bucket yielded

    def add(self, rows: pl.DataFrame) -> None:
        self.added.append(rows)

    def buckets(self) -> Iterator[pl.DataFrame]:
        rows = pl.concat(self.added)
        keyed = rows.with_columns(query_bucket_of(self.count, rows.schema[GROUP]).alias("__q"))
        for bucket in range(self.count):
            part = keyed.filter(pl.col("__q") == bucket).drop("__q")
            self.sizes.append(part.height)
            yield part


def ranking_contract(**predictions: Any) -> Contract:
    return contract(
        type="ranking",
        predictions={"score": "score", "target": "rel", "ranking_group": "query", "ndcg_k": 3}
        | predictions,
        sensitive_attributes=[],
    )


def ranking_day(seed: int, n: int = 2000) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Queries of 1 to 12 documents (single-document ones included), tied scores, NaN
    scores, null relevance, repeated prediction ids, restated labels, unlabelled rows,
    a null query, and slice columns from the features (rare and null values)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 13, n)
    query = np.repeat(np.arange(n), sizes)[:n].astype(str).astype(object)
    query[rng.random(n) < 0.01] = None
    ids = np.array([f"d-{i:05d}" for i in range(n)])
    score = rng.choice(np.round(np.linspace(0, 1, 11), 1), n)
    score[rng.random(n) < 0.01] = np.nan
    predictions = pl.DataFrame({"id": ids, "score": score, "query": pl.Series(query)})
    predictions = pl.concat([predictions, predictions.sample(n // 20, seed=seed)])
    labelled = rng.choice(ids, int(n * 0.9), replace=False)
    l_ids = np.concatenate([labelled, rng.choice(labelled, n // 10)])
    rel = rng.integers(0, 4, l_ids.size).astype(float).tolist()
    for i in rng.choice(l_ids.size, n // 50, replace=False):
        rel[i] = None
    labels = pl.DataFrame({"id": l_ids, "rel": pl.Series(rel, dtype=pl.Float64)})
    country = np.array(["DE", "FR", "US", None], dtype=object)[rng.integers(0, 4, n)]
    country[:2] = "rare"
    features = pl.DataFrame(
        {"id": ids, "country": pl.Series(country.tolist(), dtype=pl.String)}
    ).with_columns(gender=pl.lit("f"))
    return predictions, labels, features


@pytest.mark.parametrize(("seed", "buckets"), [(1, 2), (2, 3), (3, 7)])
def test_query_buckets_equal_the_in_memory_rows(seed: int, buckets: int) -> None:
    c = ranking_contract()
    predictions, labels, features = ranking_day(seed)
    expected = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert {"ndcg", "slice_ndcg"} == set(expected["sli"])
    overall = expected.filter(pl.col("sli") == "ndcg")
    assert overall["status"][0] == "ok"
    assert "single-document queries left out" in overall["detail"][0]
    assert "country=rare" in set(expected.filter(pl.col("status") == "skipped")["slice"])
    queries = MemoryQueryBuckets(buckets)
    got = quality.quality_sli_rows(
        c,
        predictions.lazy(),
        labels.lazy(),
        features=features.lazy(),
        buckets=buckets,
        queries=queries,
    )
    assert_same_rows(got, expected)
    assert sum(size > 0 for size in queries.sizes) == buckets  # the queries were spread


def test_query_group_from_the_labels_and_errors_as_on_rows() -> None:
    c = ranking_contract()
    predictions, labels, features = ranking_day(4, n=600)
    # The query column in the labels, not the predictions.
    queries = predictions.unique("id").select("id", "query")
    labels = labels.join(queries, on="id", how="left", maintain_order="left")
    predictions = predictions.drop("query")
    expected = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert expected.filter(pl.col("sli") == "ndcg")["status"][0] == "ok"
    got = quality.quality_sli_rows(
        c, predictions, labels, features=features, buckets=4, queries=MemoryQueryBuckets(4)
    )
    assert_same_rows(got, expected)
    # An infinite score, a negative relevance, a relevance whose DCG overflows float64:
    # error rows, as the row kernel says.
    for column, value in (("score", np.inf), ("rel", -1.0), ("rel", 1.5e308)):
        frame = predictions if column == "score" else labels
        first = labels.filter(pl.col("rel").is_not_null())["id"][0]
        # One row broken, or every relevance huge (a query's DCG then overflows).
        broken_rows = pl.col("id") == first if value != 1.5e308 else pl.lit(value=True)
        broken = frame.with_columns(
            pl.when(broken_rows).then(value).otherwise(pl.col(column)).alias(column)
        )
        pair = (broken, labels) if column == "score" else (predictions, broken)
        expected = quality.quality_sli_rows(c, *pair, features=features)
        assert expected.filter(pl.col("sli") == "ndcg")["status"][0] == "error"
        assert expected.filter(pl.col("sli") == "ndcg")["n_rows"][0] > 500
        got = quality.quality_sli_rows(
            c, *pair, features=features, buckets=3, queries=MemoryQueryBuckets(3)
        )
        assert_same_rows(got, expected)


@pytest.mark.parametrize("column", ["score", "query"])
def test_a_day_without_the_score_or_query_column_says_so(column: str) -> None:
    c = ranking_contract()
    predictions, labels, features = ranking_day(5, n=300)
    predictions = predictions.drop(column)
    expected = quality.quality_sli_rows(c, predictions, labels, features=features)
    got = quality.quality_sli_rows(
        c, predictions, labels, features=features, buckets=3, queries=MemoryQueryBuckets(3)
    )
    assert_same_rows(got, expected)
    assert got["status"].to_list() == ["error"]
    assert column in got["detail"][0]


def test_a_float_query_of_zero_and_negative_zero_is_one_query() -> None:
    c = ranking_contract()
    n = 40
    predictions = pl.DataFrame(
        {
            "id": [f"d{i}" for i in range(n)],
            "score": np.linspace(0, 1, n),
            "query": [0.0, -0.0] * (n // 4) + [float(i) for i in range(1, n // 4 + 1)] * 2,
        }
    )
    labels = pl.DataFrame({"id": predictions["id"], "rel": [float(i % 4) for i in range(n)]})
    features = predictions.select("id", country=pl.lit("DE"), gender=pl.lit("f"))
    expected = quality.quality_sli_rows(c, predictions, labels, features=features)
    assert expected.filter(pl.col("sli") == "ndcg")["detail"][0].startswith("11 queries")
    for buckets in (2, 3, 5):
        got = quality.quality_sli_rows(
            c,
            predictions,
            labels,
            features=features,
            buckets=buckets,
            queries=MemoryQueryBuckets(buckets),
        )
        assert_same_rows(got, expected)


@st.composite
def split_queries(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Queries split in two sides; sometimes a negative or huge relevance (DCG overflows)
    or an infinite score on either side."""
    n = draw(st.integers(1, 60))
    relevances = st.integers(0, 3) | st.sampled_from([-1.0, 1.5e308])
    rel = np.array(draw(st.lists(relevances, min_size=n, max_size=n)), dtype=float)
    scores = st.integers(0, 5) | st.just(np.inf)
    score = np.array(draw(st.lists(scores, min_size=n, max_size=n)), dtype=float)
    group = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)))
    side = np.array(draw(st.lists(st.booleans(), min_size=9, max_size=9)))
    return rel, score, group, side[group]


@settings(max_examples=300, deadline=None)
@given(split_queries(), st.integers(1, 5))
def test_parts_of_disjoint_queries_add_up_to_the_whole(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], k: int
) -> None:
    rel, score, group, side = case
    whole = ndcg(rel, score, group, k=k)
    left = ndcg_parts(rel[side], score[side], group[side], k=k)
    right = ndcg_parts(rel[~side], score[~side], group[~side], k=k)
    added = ndcg_result(left + right)
    assert (added.status, added.n_rows, added.detail) == (whole.status, whole.n_rows, whole.detail)
    assert np.isnan(whole.value) == np.isnan(added.value)
    if not np.isnan(whole.value):
        assert added.value == pytest.approx(whole.value, rel=1e-12, abs=1e-15)


@st.composite
def labelled_rows(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of a few queries with a label each (a slice value, not tied to the query);
    ties, a NaN or infinite score, negative or huge relevance now and then."""
    n = draw(st.integers(0, 60))
    relevances = st.integers(0, 3) | st.sampled_from([-1.0, 1.5e308, np.nan])
    rel = np.array(draw(st.lists(relevances, min_size=n, max_size=n)), dtype=float)
    scores = st.integers(0, 5) | st.just(np.inf)
    score = np.array(draw(st.lists(scores, min_size=n, max_size=n)), dtype=float)
    group = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), dtype=np.int64)
    label = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.uint16)
    return rel, score, group, label


@settings(max_examples=300, deadline=None)
@given(labelled_rows(), st.integers(1, 5))
def test_each_label_is_scored_as_its_own_rows(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], k: int
) -> None:
    """RankedRows sorts all rows once; each label's parts equal those of its rows alone
    (sorted on their own), and the whole equals ndcg_parts of every row."""
    rel, score, group, label = case
    ranked = RankedRows(rel, score, group, k=k)
    assert ranked.parts() == ndcg_parts(rel, score, group, k=k)
    by_label = ranked.parts_by(label, 4)
    assert len(by_label) == 4
    for value, got in enumerate(by_label):
        mine = label == value
        alone = ndcg_parts(rel[mine], score[mine], group[mine], k=k)
        assert (got.rows, got.non_finite, got.negative, got.queries) == (
            alone.rows,
            alone.non_finite,
            alone.negative,
            alone.queries,
        )
        assert (got.query_rows, got.single, got.overflowed) == (
            alone.query_rows,
            alone.single,
            alone.overflowed,
        )
        assert got.ndcg_sum == pytest.approx(alone.ndcg_sum, rel=1e-12, abs=1e-15)
        if got.queries and not (got.non_finite or got.negative or got.overflowed):
            expected = ndcg(rel[mine], score[mine], group[mine], k=k)
            assert ndcg_result(got).value == pytest.approx(expected.value, rel=1e-12)


def test_text_and_float_queries_are_grouped_by_value() -> None:
    """A text query and a float query of -0.0 and 0.0 group as values, not as objects or
    bit patterns: the same parts as integer codes of the same queries."""
    rel = np.array([3.0, 1.0, 0.0, 2.0, 1.0, 0.0])
    score = np.array([0.1, 0.9, 0.5, 0.3, 0.2, 0.8])
    codes = np.array([0, 0, 1, 1, 1, 0])
    text = np.array(["a", "a", "b", "b", "b", "a"], dtype=object)
    floats = np.array([0.0, -0.0, 1.0, 1.0, 1.0, 0.0])
    expected = ndcg_parts(rel, score, codes, k=2)
    assert expected.queries == 2
    assert ndcg_parts(rel, score, text, k=2) == expected
    assert ndcg_parts(rel, score, floats, k=2) == expected
