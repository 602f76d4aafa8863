"""CBPE: the estimate against scikit-learn where the answer is known, the expectation by
enumeration, and the band's coverage on simulated days."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from checks.estimated_performance import (
    IsotonicCalibration,
    estimate_performance,
    expected_metrics,
    fit_calibration,
)


def _identity(points: int = 101) -> IsotonicCalibration:
    grid = np.linspace(0.0, 1.0, points)
    return IsotonicCalibration(grid, grid, reference_rows=points, reference_positive_rate=0.5)


def test_calibration_equals_scikit_learn_isotonic_regression() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.05, 0.95, 3000)
    labels = rng.uniform(size=3000) < scores**2  # scores over-state the positives
    calibration = fit_calibration(scores, labels)
    reference = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(scores, labels)
    new = np.r_[0.0, 0.01, rng.uniform(0, 1, 500), 0.99, 1.0]  # incl. out of bounds
    np.testing.assert_allclose(calibration.calibrate(new), reference.predict(new), atol=1e-12)
    with pytest.raises(ValueError, match="both classes"):
        fit_calibration(scores, np.zeros(3000, dtype=bool))


def test_with_certain_probabilities_the_estimate_is_the_realized_metric() -> None:
    # Calibrated probabilities of exactly 0 or 1 are the labels: the expected confusion
    # matrix is the realized one, so every metric equals scikit-learn's.
    rng = np.random.default_rng(1)
    labels = rng.uniform(size=400) < 0.3
    scores = np.clip(labels * 0.4 + rng.uniform(0, 0.6, 400), 0, 1)
    predicted = scores >= 0.5
    order = np.argsort(-scores, kind="stable")
    got = expected_metrics(labels.astype(float)[:, None], predicted, order)
    assert got["accuracy"][0] == pytest.approx(accuracy_score(labels, predicted))
    assert got["precision"][0] == pytest.approx(precision_score(labels, predicted))
    assert got["recall"][0] == pytest.approx(recall_score(labels, predicted))
    assert got["f1"][0] == pytest.approx(f1_score(labels, predicted))
    assert got["roc_auc"][0] == pytest.approx(roc_auc_score(labels, scores))


def test_estimated_accuracy_is_the_exact_expectation_over_all_label_vectors() -> None:
    probabilities = np.array([0.1, 0.35, 0.5, 0.62, 0.8, 0.97, 0.03, 0.44])
    predicted = probabilities >= 0.5
    estimate = {
        e.metric: e for e in estimate_performance(_identity(10_001), probabilities, predicted)
    }
    expectation = 0.0
    for outcome in itertools.product([0, 1], repeat=probabilities.size):
        y = np.array(outcome, dtype=bool)
        weight = np.prod(np.where(y, probabilities, 1 - probabilities))
        expectation += weight * accuracy_score(y, predicted)
    assert estimate["accuracy"].value == pytest.approx(expectation, abs=1e-12)


def test_the_band_covers_the_realized_metric_when_the_scores_are_calibrated() -> None:
    rng = np.random.default_rng(2)
    covered = {metric: 0 for metric in ("accuracy", "precision", "recall", "f1", "roc_auc")}
    days = 40
    for day in range(days):
        scores = rng.beta(0.6, 3.0, 2000)
        labels = rng.uniform(size=2000) < scores  # calibrated by construction
        predicted = scores >= 0.5
        estimates = estimate_performance(_identity(10_001), scores, predicted, seed=day)
        realized = {
            "accuracy": accuracy_score(labels, predicted),
            "precision": precision_score(labels, predicted),
            "recall": recall_score(labels, predicted),
            "f1": f1_score(labels, predicted),
            "roc_auc": roc_auc_score(labels, scores),
        }
        for estimate in estimates:
            inside = estimate.lower <= realized[estimate.metric] <= estimate.upper
            covered[estimate.metric] += inside
    # ± 3 sd: ~99.7% in theory; 40 days leave room for one miss per metric
    assert all(count >= days - 1 for count in covered.values()), covered


def test_rows_without_a_score_are_left_out_and_no_scores_give_no_estimate() -> None:
    scores = np.array([0.9, np.nan, 0.1, 0.8])
    predicted = np.array([True, False, False, True])
    estimates = estimate_performance(_identity(), scores, predicted)
    assert {e.rows for e in estimates} == {3}
    assert estimate_performance(_identity(), np.array([np.nan]), np.array([False])) == []
