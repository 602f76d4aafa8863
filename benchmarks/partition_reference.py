"""The partition job as a user writes it by hand: pandas + pandera + scipy, per column.

The comparison for ``benchmarks/partition.py``: the same day's files, the same contract,
and the same measurements datasre makes for it (schema and ranges with pandera, null and
duplicate-id rates, drift per feature against training with scipy: KS and PSI for
numeric features, chi-square for categorical ones, KS on the score against the
prediction baseline, accuracy overall and per slice once labels are joined). Prints one
JSON object with the values so a reader can compare them.
Usage: ``python benchmarks/partition_reference.py CONTRACT.yaml DAY``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from scipy import stats

DTYPES = {"Float64": "float64", "Int64": "int64", "String": "str"}  # pandas 3 strings


def _schema(features: dict[str, dict[str, Any]]) -> pa.DataFrameSchema:
    columns = {}
    for name, spec in features.items():
        checks = []
        if "min" in spec or "max" in spec:
            checks.append(pa.Check.in_range(spec.get("min"), spec.get("max")))
        if "allowed_values" in spec:
            checks.append(pa.Check.isin(spec["allowed_values"]))
        dtype = DTYPES[spec["dtype"]]
        if spec.get("nullable", False) and dtype == "int64":
            dtype = "float64"  # pandas turns an integer column with nulls into floats
        columns[name] = pa.Column(dtype, checks=checks, nullable=spec.get("nullable", False))
    return pa.DataFrameSchema(columns, strict=False)


def _psi(base: np.ndarray, cur: np.ndarray, bins: int = 10) -> float:
    edges = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1)[1:-1]))
    p = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    p = np.clip(p / p.sum(), 1e-6, None)
    q = np.clip(q / q.sum(), 1e-6, None)
    return float(np.sum((q - p) * np.log(q / p)))


def main() -> int:
    contract_path, day = Path(sys.argv[1]), sys.argv[2]
    contract = yaml.safe_load(contract_path.read_text())
    sources = contract["sources"]
    id_column = sources["id_column"]
    features = pd.read_parquet(sources["features"].replace("{date}", day))
    predictions = pd.read_parquet(sources["predictions"].replace("{date}", day))
    labels = pd.read_parquet(sources["labels"].replace("{date}", day))
    training = pd.read_parquet(sources["training"])
    reference = pd.read_parquet(sources["prediction_baseline"])
    out: dict[str, Any] = {}
    try:
        _schema(contract["features"]).validate(features, lazy=True)
        out["schema_failures"] = 0
    except pa.errors.SchemaErrors as exc:
        out["schema_failures"] = len(exc.failure_cases)
    out["null_rate"] = {c: float(features[c].isna().mean()) for c in contract["features"]}
    out["duplicate_id_rate"] = float(1 - features[id_column].nunique() / len(features))
    drift: dict[str, dict[str, float]] = {}
    for name, spec in contract["features"].items():
        base, cur = training[name].dropna(), features[name].dropna()
        if spec["dtype"] == "String":
            counts = pd.concat(
                [base.value_counts().rename("base"), cur.value_counts().rename("cur")], axis=1
            ).fillna(0)
            chi2, p, _, _ = stats.chi2_contingency(counts.T.to_numpy())
            drift[name] = {"chi2": float(chi2), "p": float(p)}
        else:
            ks = stats.ks_2samp(base.to_numpy(float), cur.to_numpy(float))
            psi = _psi(base.to_numpy(float), cur.to_numpy(float))
            drift[name] = {"ks": float(ks.statistic), "p": float(ks.pvalue), "psi": psi}
    out["drift"] = drift
    score = contract["predictions"]["score"]
    out["score_ks"] = float(
        stats.ks_2samp(reference[score].dropna(), predictions[score].dropna()).statistic
    )
    target = contract["predictions"]["target"]
    predicted = contract["predictions"]["predicted_label"]
    joined = predictions.merge(labels, on=id_column).merge(
        features[[id_column, *contract.get("slices", [])]], on=id_column
    )
    joined = joined.dropna(subset=[predicted])
    hit = joined[predicted] == joined[target]
    out["accuracy"] = float(hit.mean())
    out["slice_accuracy"] = {
        s: hit.groupby(joined[s]).mean().to_dict() for s in contract.get("slices", [])
    }
    print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
