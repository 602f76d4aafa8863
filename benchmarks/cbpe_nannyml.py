"""datasre's CBPE (checks/estimated_performance.py) against NannyML's own CBPE.

Generated data (numpy, seed ``--seed``): a latent risk ``z``; the true probability of a
positive is sigmoid(z); the model's score is over-confident, sigmoid(1.5 z + 0.3), so
calibration matters; labels are Bernoulli(sigmoid(z)); the predicted label is
score >= 0.5. The reference has ``--reference-rows`` rows with z ~ N(-2, 1.5); the
analysis period has ``--chunks`` chunks of ``--chunk`` rows whose z mean moves from -2
to -0.5 (covariate shift: the prevalence and every metric change, P(label | z) does not,
which is what CBPE assumes).

Both sides calibrate on the reference with isotonic regression and estimate accuracy,
precision, recall, F1 and ROC AUC per chunk. NannyML runs in its own venv
(``--nannyml-python``, default ``.venv-nannyml/bin/python``; ``make bench-nannyml``
builds it) through benchmarks/nannyml_cbpe_runner.py. The script prints, per chunk and
metric, datasre's estimate, NannyML's, their difference and the realized value, and exits
1 when a difference exceeds ``--tolerance`` (default 1e-6: NannyML rounds the cumulative
counts of its ROC curve to 5 decimals, which moves its AUC by ~1e-9 here; the other
metrics are the same sums and agree exactly).
Usage: ``python benchmarks/cbpe_nannyml.py [--nannyml-python PATH] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from checks.estimated_performance import ESTIMATED_METRICS, estimate_performance, fit_calibration

ROOT = Path(__file__).resolve().parent.parent


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-x))
    return result


def generate(rng: np.random.Generator, rows: int, z_mean: float) -> pl.DataFrame:
    """``rows`` rows of score, predicted label and label at latent mean ``z_mean``."""
    z = rng.normal(z_mean, 1.5, rows)
    score = _sigmoid(1.5 * z + 0.3)
    label = rng.uniform(size=rows) < _sigmoid(z)
    return pl.DataFrame(
        {"score": score, "pred": (score >= 0.5).astype(np.int64), "label": label.astype(np.int64)}
    )


def realized(chunk: pl.DataFrame) -> dict[str, float]:
    y, predicted, score = chunk["label"].to_numpy(), chunk["pred"].to_numpy(), chunk["score"]
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision_score(y, predicted)),
        "recall": float(recall_score(y, predicted)),
        "f1": float(f1_score(y, predicted)),
        "roc_auc": float(roc_auc_score(y, score.to_numpy())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nannyml-python", default=str(ROOT / ".venv-nannyml/bin/python"))
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--reference-rows", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    reference = generate(rng, args.reference_rows, -2.0)
    means = np.linspace(-2.0, -0.5, args.chunks)
    analysis = pl.concat([generate(rng, args.chunk, float(m)) for m in means])

    calibration = fit_calibration(
        reference["score"].to_numpy(), reference["label"].to_numpy().astype(bool)
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / name for name in ("reference.parquet", "analysis.parquet", "out.json")]
        reference.write_parquet(paths[0])
        analysis.write_parquet(paths[1])
        runner = ROOT / "benchmarks" / "nannyml_cbpe_runner.py"
        command = [args.nannyml_python, str(runner), *map(str, paths[:2]), str(args.chunk)]
        # NannyML sends usage statistics unless told not to.
        quiet = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}
        subprocess.run([*command, str(paths[2])], check=True, env=quiet)
        theirs = json.loads(paths[2].read_text(encoding="utf-8"))

    print(
        f"NannyML {theirs['version']} (needs_calibration={theirs['needs_calibration']}); "
        f"reference {args.reference_rows} rows, {args.chunks} chunks of {args.chunk}, "
        f"seed {args.seed}"
    )
    columns = ("datasre", "nannyml", "|diff|", "realized")
    print(f"{'chunk':>5} {'metric':<9} " + " ".join(f"{c:>9}" for c in columns) + " in band")
    worst = 0.0
    for index in range(args.chunks):
        chunk = analysis.slice(index * args.chunk, args.chunk)
        ours = {
            e.metric: e
            for e in estimate_performance(
                calibration, chunk["score"].to_numpy(), chunk["pred"].to_numpy() == 1
            )
        }
        truth = realized(chunk)
        for metric in ESTIMATED_METRICS:
            nannyml = theirs["chunks"][index][metric]["value"]
            diff = abs(ours[metric].value - nannyml)
            worst = max(worst, diff)
            band = ours[metric].lower <= truth[metric] <= ours[metric].upper
            print(
                f"{index:>5} {metric:<9} {ours[metric].value:>9.5f} {nannyml:>9.5f} "
                f"{diff:>9.2e} {truth[metric]:>9.5f} {'yes' if band else 'NO'}"
            )
    verdict = "within" if worst <= args.tolerance else "EXCEEDS"
    print(f"largest |datasre - NannyML| = {worst:.3e}, {verdict} the tolerance {args.tolerance:g}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
