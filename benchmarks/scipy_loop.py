"""Reference for the drift benchmark: a per-column scipy loop computing docs/design.md's statistics.

The straightforward implementation a team would write first: read both files, then for
each column call scipy directly (``ks_2samp``, ``chi2_contingency``, ``jensenshannon``)
and numpy for PSI, then Benjamini-Hochberg. Same methods as ``datasre drift``'s default
(psi, ks, chi2, with JS as chi2's effect size). Prints the number of drifted features.
Usage: ``python benchmarks/scipy_loop.py BASELINE CURRENT``.
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
from scipy import stats
from scipy.spatial.distance import jensenshannon


def _psi(b: np.ndarray, c: np.ndarray) -> float:
    bp = b / b.sum()
    cp = c / c.sum()
    bp = np.where(bp == 0, 1e-4, bp)
    cp = np.where(cp == 0, 1e-4, cp)
    return float(np.sum((cp - bp) * np.log(cp / bp)))


def main() -> int:
    base = pl.read_parquet(sys.argv[1])
    cur = pl.read_parquet(sys.argv[2])
    tests: list[tuple[str, float, float]] = []  # (feature, p, effect)
    psi_drift: set[str] = set()
    for name in base.columns:
        if name not in cur.columns:
            continue
        if base.schema[name].is_numeric():
            a = base[name].cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
            b = cur[name].cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
            if min(len(a), len(b)) < 30:
                continue
            fa = a[np.isfinite(a)]
            cuts = np.unique(np.quantile(fa, np.linspace(0, 1, 11)[1:-1]))
            bc = np.bincount(np.searchsorted(cuts, a, side="left"), minlength=len(cuts) + 1)
            cc = np.bincount(np.searchsorted(cuts, b, side="left"), minlength=len(cuts) + 1)
            if min(len(a), len(b)) >= 1000 and _psi(bc, cc) > 0.2:
                psi_drift.add(name)
            res = stats.ks_2samp(a, b)
            tests.append((name, float(res.pvalue), float(res.statistic)))
        else:
            vb = base[name].cast(pl.String).drop_nulls().value_counts()
            vc = cur[name].cast(pl.String).drop_nulls().value_counts()
            both = vb.join(vc, on=name, how="full", coalesce=True).fill_null(0).sort(name)
            bc = both.get_column("count").to_numpy()
            cc = both.get_column("count_right").to_numpy()
            if min(bc.sum(), cc.sum()) < 30:
                continue
            if min(bc.sum(), cc.sum()) >= 1000 and _psi(bc, cc) > 0.2:
                psi_drift.add(name)
            chi = stats.chi2_contingency(np.array([bc, cc]), correction=False)
            tests.append((name, float(chi.pvalue), float(jensenshannon(bc, cc, base=2))))
    q = stats.false_discovery_control([p for _, p, _ in tests], method="bh")
    drifted = {n for (n, _, e), qv in zip(tests, q, strict=True) if qv < 0.05 and e > 0.1}
    print(len(drifted | psi_drift))
    return 0


if __name__ == "__main__":
    sys.exit(main())
