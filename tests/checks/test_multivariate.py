"""Multivariate drift: each piece against an independent reference (scikit-learn), and
the methods on data whose drift is only in how features move together."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from checks.multivariate.domain_classifier import (
    MAX_ITER,
    MAX_LEAF_NODES,
    NULL_STD_MULTIPLIER,
    NullCalibration,
    calibrate_null,
    cross_validated_auc,
    roc_auc,
)
from checks.multivariate.encoding import frequency_matrix, learn_codes, ordinal_matrix
from checks.multivariate.pca_reconstruction import fit_reconstruction, reconstruction_bounds
from checks.multivariate.sampling import capped_sample
from checks.multivariate.sli_rows import calibration_rows


def _correlated(n: int, rho: float, seed: int) -> np.ndarray:
    """Two standard normal columns with correlation ``rho`` and three independent ones."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rho * a + math.sqrt(1 - rho**2) * rng.normal(size=n)
    return np.column_stack([a, b, rng.normal(size=(n, 3))])


def test_reconstruction_error_equals_scikit_learn_scaler_pca_and_inverse_transform() -> None:
    baseline = _correlated(3000, 0.9, seed=1) * [1, 5, 0.1, 3, 2] + [0, 10, -3, 7, 1]
    current = _correlated(500, -0.2, seed=2) * [1, 5, 0.1, 3, 2] + [0, 10, -3, 7, 1]
    model = fit_reconstruction(baseline)
    scaler = StandardScaler().fit(baseline)
    pca = PCA(n_components=0.65, svd_solver="full").fit(scaler.transform(baseline))
    scaled = scaler.transform(current)
    expected = np.linalg.norm(scaled - pca.inverse_transform(pca.transform(scaled)), axis=1)
    assert model.components.shape[0] == pca.n_components_
    np.testing.assert_allclose(model.row_errors(current), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(model.explained_variance_ratio, pca.explained_variance_ratio_)


def test_reconstruction_error_grows_when_a_correlation_breaks_but_not_on_a_fresh_sample() -> None:
    baseline = _correlated(8000, 0.9, seed=3)
    model = fit_reconstruction(baseline[:4000])
    bounds = reconstruction_bounds(model, baseline[4000:], chunk_rows=1000)
    assert bounds is not None
    same = model.error(_correlated(1000, 0.9, seed=4))
    broken = model.error(_correlated(1000, -0.9, seed=5))  # same marginals
    assert bounds.lower <= same <= bounds.upper
    assert broken > bounds.upper
    # the bounds' spread is the standard error of a 1,000-row mean of held-out errors
    errors = model.row_errors(baseline[4000:])
    assert bounds.std == pytest.approx(errors.std(ddof=1) / math.sqrt(1000))
    assert reconstruction_bounds(model, baseline[4000:], chunk_rows=2000) is None  # < 3 chunks


def test_roc_auc_equals_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500).astype(np.int8)
    scores = np.round(rng.normal(labels * 0.7, 1.0), 1)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert math.isnan(roc_auc(np.ones(5, np.int8), np.arange(5.0)))


def test_cross_validated_auc_equals_scikit_learn_cross_val_score() -> None:
    baseline = _correlated(600, 0.9, seed=6)
    current = _correlated(400, 0.3, seed=7)
    mask = np.zeros(5, dtype=bool)
    result = cross_validated_auc(
        baseline, current, [f"f{i}" for i in range(5)], mask, seed=3, importance=False
    )
    matrix = np.vstack([baseline, current])
    labels = np.r_[np.zeros(600), np.ones(400)]
    classifier = HistGradientBoostingClassifier(
        max_iter=MAX_ITER, max_leaf_nodes=MAX_LEAF_NODES, early_stopping=False, random_state=3
    )
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=3)
    reference = cross_val_score(classifier, matrix, labels, cv=folds, scoring="roc_auc")
    np.testing.assert_allclose(result.fold_aucs, reference, rtol=1e-12)
    assert result.auc == pytest.approx(reference.mean())


def test_permutation_importance_equals_one_scikit_learn_prediction_per_column() -> None:
    # Reference: each fold's classifier fitted by scikit-learn, each column shuffled in
    # turn (the same seeded permutations, fold by fold) and scored by its own
    # predict_proba call and roc_auc_score; the AUC drops averaged over the folds.
    rng = np.random.default_rng(11)
    baseline = np.column_stack([_correlated(900, 0.9, seed=12), rng.integers(0, 4, 900)])
    current = np.column_stack([_correlated(600, -0.4, seed=13), rng.integers(0, 4, 600)])
    columns = ["a", "b", "n1", "n2", "n3", "code"]
    mask = np.array([False] * 5 + [True])
    result = cross_validated_auc(baseline, current, columns, mask, seed=5)
    matrix = np.vstack([baseline, current])
    labels = np.r_[np.zeros(900), np.ones(600)].astype(np.int8)
    permutations = np.random.default_rng(5)
    drops = np.zeros(len(columns))
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=5)
    for train, test in folds.split(matrix, labels):
        classifier = HistGradientBoostingClassifier(
            max_iter=MAX_ITER, max_leaf_nodes=MAX_LEAF_NODES, early_stopping=False,
            categorical_features=mask, random_state=5,
        ).fit(matrix[train], labels[train])  # fmt: skip
        auc = roc_auc_score(labels[test], classifier.predict_proba(matrix[test])[:, 1])
        for index in range(len(columns)):
            shuffled = matrix[test].copy()
            shuffled[:, index] = permutations.permutation(shuffled[:, index])
            score = roc_auc_score(labels[test], classifier.predict_proba(shuffled)[:, 1])
            drops[index] += auc - score
    assert result.auc > 0.6  # drifted: the importances were computed
    expected = dict(zip(columns, drops / 3, strict=True))
    assert result.importance == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert max(expected, key=lambda name: expected[name]) in {"a", "b"}


def test_the_domain_classifier_finds_a_correlation_change_and_names_its_features() -> None:
    baseline = _correlated(3000, 0.9, seed=8)
    columns = ["a", "b", "noise1", "noise2", "noise3"]
    mask = np.zeros(5, dtype=bool)
    null = calibrate_null(baseline, columns, mask, rows=1000, seed=0, repeats=4)
    threshold = null.threshold(3000, 1000)
    assert 0.5 < threshold < 0.6
    clean = cross_validated_auc(baseline, _correlated(1000, 0.9, seed=9), columns, mask, seed=0)
    drifted = cross_validated_auc(baseline, _correlated(1000, -0.5, seed=10), columns, mask, seed=0)
    assert clean.auc <= threshold < drifted.auc
    assert {name for name, _ in drifted.top_features(2)} == {"a", "b"}


def test_the_threshold_is_rescaled_to_the_compared_sample_sizes() -> None:
    null = NullCalibration(rows=1000, aucs=(0.49, 0.5, 0.51, 0.5))
    assert null.threshold(1000, 1000) == pytest.approx(null.mean + NULL_STD_MULTIPLIER * null.std)
    # four times the rows on both sides: half the spread
    wide = null.threshold(1000, 1000) - null.mean
    assert null.threshold(4000, 4000) - null.mean == pytest.approx(wide / 2, rel=1e-3)
    assert calibration_rows(20_000, 2500) == 3000
    assert calibration_rows(20_000, 2425) == calibration_rows(20_000, 2500)
    assert calibration_rows(2000, 400) == 512
    assert calibration_rows(600, 400) == 300


def test_encodings_handle_nulls_unseen_categories_and_missing_columns() -> None:
    baseline = pl.DataFrame({"x": [1.0, 2.0, None, 3.0], "c": ["a", "a", "b", None]})
    codes = learn_codes(baseline, ["x"], ["c"])
    assert codes.categories["c"] == ("a", "b")
    assert codes.numeric_means["x"] == pytest.approx(2.0)
    current = pl.DataFrame({"x": [None, 5.0, float("nan")], "c": ["b", "zzz", None]})
    ordinal = ordinal_matrix(current, codes)
    np.testing.assert_array_equal(np.isnan(ordinal[:, 0]), [True, False, True])
    assert ordinal[0, 1] == 1.0 and ordinal[1, 1] == 2.0 and np.isnan(ordinal[2, 1])
    # NannyML's PCA input: mean / most frequent imputation, then category frequency
    frequency = frequency_matrix(current, codes)
    np.testing.assert_allclose(frequency, [[2.0, 1 / 3], [5.0, 0.0], [2.0, 2 / 3]])
    missing = ordinal_matrix(current.drop("c"), codes)
    assert np.isnan(missing[:, 1]).all()


def test_infinities_read_as_missing_in_both_encodings() -> None:
    """±inf made the PCA reconstruction error NaN: a breach with no value (found by a new
    user); in training they made the imputation mean infinite."""
    baseline = pl.DataFrame({"x": [1.0, 2.0, float("inf"), 3.0]})
    codes = learn_codes(baseline, ["x"], [])
    assert codes.numeric_means["x"] == pytest.approx(2.0)
    current = pl.DataFrame({"x": [float("inf"), float("-inf"), 4.0]})
    assert np.isnan(ordinal_matrix(current, codes)[:2, 0]).all()
    np.testing.assert_allclose(frequency_matrix(current, codes)[:, 0], [2.0, 2.0, 4.0])


def test_capped_sample_is_seeded_and_bounded() -> None:
    frame = pl.DataFrame({"i": range(10_000)})
    assert capped_sample(frame, 20_000) is frame
    first, second = capped_sample(frame, 500), capped_sample(frame, 500)
    assert first.height == 500 and first.equals(second)
    assert first["i"].is_sorted() and first["i"].n_unique() == 500
