"""NannyML's CBPE on the two parquet files benchmarks/cbpe_nannyml.py writes; run by the
interpreter of the NannyML venv (``.venv-nannyml``; NannyML is not a datasre dependency).

Usage: ``python nannyml_cbpe_runner.py REFERENCE.parquet ANALYSIS.parquet CHUNK OUT.json``.
Writes, per analysis chunk and metric, NannyML's estimate and confidence band, and
whether NannyML decided the scores need calibration.
"""

from __future__ import annotations

import json
import sys
import warnings

import nannyml as nml  # type: ignore[import-not-found]
import pandas as pd

METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]


def main(reference_path: str, analysis_path: str, chunk: int, out: str) -> None:
    warnings.simplefilter("ignore")
    reference = pd.read_parquet(reference_path)
    analysis = pd.read_parquet(analysis_path).drop(columns=["label"])
    estimator = nml.CBPE(
        y_pred_proba="score",
        y_pred="pred",
        y_true="label",
        metrics=METRICS,
        chunk_size=chunk,
        problem_type="classification_binary",
    )
    estimator.fit(reference)
    frame = estimator.estimate(analysis).filter(period="analysis").to_df()
    chunks = [
        {
            metric: {
                "value": float(frame[(metric, "value")].iloc[i]),
                "lower": float(frame[(metric, "lower_confidence_boundary")].iloc[i]),
                "upper": float(frame[(metric, "upper_confidence_boundary")].iloc[i]),
            }
            for metric in METRICS
        }
        for i in range(len(frame))
    ]
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "version": nml.__version__,
                "needs_calibration": bool(estimator.needs_calibration),
                "chunks": chunks,
            },
            handle,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
