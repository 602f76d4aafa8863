"""Evidently's DataDriftPreset on the benchmark files, for the side-by-side timing.

What a team would run instead of datasre: both parquet files read whole into pandas
(Evidently works on pandas frames), ``Report([DataDriftPreset()]).run(current, reference)``
with Evidently's own defaults (its test per column chosen by type and size), and the
result materialised as a dict (so nothing is left lazy). Prints the drifted-column share.
Needs the optional ``bench`` extra (``pip install -e '.[bench]'``) or any interpreter
with ``evidently`` and ``pyarrow`` (``benchmarks/drift.py --evidently-python PATH``).
Usage: ``python benchmarks/evidently_preset.py BASELINE CURRENT``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any


def _drift_share(result: dict[str, Any]) -> str:
    """The preset's dataset-level drifted-column count, found by name in the result."""
    for metric in result.get("metrics", []):
        value = metric.get("value")
        if "DriftedColumnsCount" in str(metric.get("metric_name", "")) and isinstance(value, dict):
            return f"{value.get('count')} drifted columns (share {value.get('share')})"
    return "drifted columns: not found in the result"


def main() -> int:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    warnings.simplefilter("ignore")  # pandas' nanops warnings on ±inf, once per column
    reference = pd.read_parquet(sys.argv[1])
    current = pd.read_parquet(sys.argv[2])
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    print(_drift_share(snapshot.dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
