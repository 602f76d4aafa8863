"""The numpy special functions of checks.stats.special against scipy.special."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from checks.stats.special import chi2_sf, log_factorial, rel_entr


def _close(ours: float, ref: float, rel: float = 1e-9) -> bool:
    return abs(ours - ref) <= rel * max(abs(ref), 1e-300)


@settings(max_examples=300, deadline=None)
@given(
    dof=st.one_of(st.integers(1, 40), st.integers(41, 20_000)),
    ratio=st.floats(0.0, 8.0, allow_nan=False),
    jitter=st.floats(-3.0, 3.0, allow_nan=False),
)
def test_chi2_sf_equals_chdtrc(dof: int, ratio: float, jitter: float) -> None:
    """Around the distribution's bulk (x near dof) and far into both tails."""
    x = max(0.0, ratio * dof + jitter * np.sqrt(2.0 * dof))
    assert _close(chi2_sf(x, dof), float(special.chdtrc(dof, x)))


@pytest.mark.parametrize(
    ("dof", "x"),
    [
        (1, 1e-12),
        (1, 0.5),
        (1, 3.841458820694124),  # the 5% critical value
        (2, 5.991464547107979),
        (3, 1400.0),  # p ~ 1e-300: still normal, still relative
        (4, 1e-3),
        (199, 250.0),
        (199, 5000.0),  # underflows to 0 like scipy
        (10_000, 9_500.0),
        (10_001, 10_500.0),
    ],
)
def test_chi2_sf_fixed_points(dof: int, x: float) -> None:
    assert _close(chi2_sf(x, dof), float(special.chdtrc(dof, x)))


def test_chi2_sf_edges() -> None:
    assert chi2_sf(0.0, 3) == 1.0
    assert chi2_sf(-1.0, 3) == 1.0
    assert chi2_sf(float("inf"), 3) == 0.0
    assert np.isnan(chi2_sf(float("nan"), 3))
    with pytest.raises(ValueError, match="dof"):
        chi2_sf(1.0, 0)


def test_log_factorial_equals_gammaln() -> None:
    m = np.concatenate([np.arange(0, 200.0), np.array([1e3, 12_345.0, 1e6, 3e9])])
    ref = special.gammaln(m + 1)
    got = log_factorial(m)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)


def test_rel_entr_equals_scipy() -> None:
    x = np.array([0.0, 0.0, 0.5, 0.5, 1.0, -1.0, 0.25, np.nan, 0.3])
    y = np.array([0.0, 0.5, 0.0, 0.25, 1.0, 0.5, -0.5, 0.5, np.nan])
    np.testing.assert_array_equal(rel_entr(x, y), special.rel_entr(x, y))


def test_large_sample_drift_does_not_import_scipy() -> None:
    """Importing scipy.special costs ~0.33 s of CPU per process; the asymptotic KS,
    chi2, PSI and JS paths must not pay it (a regression guard, not a timing)."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import polars as pl
        from checks.drift import compute_drift

        rng = np.random.default_rng(0)
        n = 20_000
        frame = lambda shift: pl.DataFrame({
            "x": rng.normal(shift, 1.0, n),
            "c": rng.choice(["a", "b", "c"], n),
        })
        out = compute_drift(frame(0.0), frame(0.05), methods=["psi", "ks", "chi2", "js"])
        assert out.height == 6, out
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "scipy")
        print(loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout
