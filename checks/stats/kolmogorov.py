"""The Kolmogorov distribution's survival function, ``scipy.stats.kstwo.sf(x, n)``, in the
same arithmetic as ``scipy/stats/_ksstats.py`` for the regimes the drift engine meets at
large ``n`` (closed forms, the Smirnov sum, the Pelz-Good series); the remaining small-``n``
regimes call ``kstwo.sf`` itself. Used by :func:`checks.stats.ks.ks_pvalue`."""

from __future__ import annotations

import math

import numpy as np

from checks.stats.special import stirling_error

__all__ = ["kolmogorov_smirnov_sf"]

_LOG_2PI = math.log(2 * math.pi)
_SQRT2PI = math.sqrt(2 * math.pi)
_MIN_LOG = -708
_SQRT3 = math.sqrt(3)
_PI_SQUARED = math.pi**2
_PI_FOUR = math.pi**4
_PI_SIX = math.pi**6
_STIRLING_COEFFS = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
]


def kolmogorov_smirnov_sf(x: float, n: float) -> float:
    """``scipy.stats.kstwo.sf(x, n)``: P(D_n >= x) for the one-sample statistic D_n.

    Precondition: ``n`` a positive integer value. Follows the branch structure of
    ``scipy.stats._ksstats._kolmogn(n, x, cdf=False)`` (Simard & L'Ecuyer 2011); the
    small-``n`` matrix methods (Durbin, Pomeranz) are delegated to scipy itself.
    """
    if x <= 0.0:
        return 1.0
    if x >= 1.0:
        return 0.0
    nn = int(n)
    t = nn * x
    if t <= 1.0:  # Ruben-Gambino: 1/2n <= x <= 1/n
        if t <= 0.5:
            return 1.0
        if nn <= 140:
            return _scipy_kstwo_sf(x, nn)
        prob = float(np.exp(_log_nfactorial_div_n_pow_n(nn) + nn * np.log(2 * t - 1)))
        return _clip(1.0 - prob)
    if t >= nn - 1:  # Ruben-Gambino
        return _clip(2 * (1.0 - x) ** nn)
    if x >= 0.5:  # exact: 2 * smirnov
        from scipy import special

        return _clip(2 * float(special.smirnov(nn, x)))
    nxsquared = t * x
    if nn <= 140:
        return _scipy_kstwo_sf(x, nn)
    if nxsquared >= 370.0:
        return 0.0
    if nxsquared >= 2.2:
        return _clip(2 * _smirnov_sf(nn, x))
    if nxsquared >= 18.0:  # pragma: no cover - unreachable below 2.2, kept for parity
        cdfprob = 1.0
    elif nn <= 100000 and nn * x**1.5 <= 1.4:
        return _scipy_kstwo_sf(x, nn)  # Durbin matrix (DMTW) regime
    else:
        cdfprob = _pelz_good_cdf(nn, x)
    return _clip(1.0 - cdfprob)


#: scipy's ``MINLOG`` (log of the smallest normal double): ``smirnov`` returns 0 below it.
_MINLOG = -7.08396418532264106224e2
#: Above this n, ``scipy.special.smirnov`` switches to a closed-form approximation.
_SMIRNOV_MAX_COMPUTE_N = 1_000_000


def _smirnov_sf(n: int, x: float) -> float:
    """``scipy.special.smirnov(n, x)`` (P(D_n+ >= x)) for 2.2 <= n x^2 and x < 0.5.

    Why: for large n scipy evaluates the Birnbaum-Tingey sum term by term in double-double
    arithmetic, 0.3-0.6 s per call at n = 500,000 (a mildly drifted feature at 1M rows).
    The same sum, ``x * sum_{j < n(1-x)} C(n,j) (x + j/n)^(j-1) (1 - x - j/n)^(n-j)``, is
    evaluated here in one vectorised pass in log space, with the large parts cancelled
    analytically (Stirling's series for the binomial coefficient, ``log1p`` for the
    powers), so each term keeps ~1e-12 relative accuracy; tests hold it to 1e-9 of scipy.
    Outside the regime where this pays (huge n, tiny results), scipy is called.
    """
    if -2 * n * x * x < _MINLOG:
        return 0.0
    if n > _SMIRNOV_MAX_COMPUTE_N or x >= 0.5:
        from scipy import special

        return float(special.smirnov(n, x))
    nx = n * x
    last = math.ceil(n * (1 - x)) - 1
    j = np.arange(1, last + 1, dtype=np.float64)
    nj = n - j
    logs = (
        0.5 * np.log(n / (2 * math.pi * j * nj))
        + stirling_error(np.array([float(n)]))[0]
        - stirling_error(j)
        - stirling_error(nj)
        + j * np.log1p(nx / j)
        + nj * np.log1p(-nx / nj)
        - np.log(x + j / n)
        + math.log(x)
    )
    first = n * math.log1p(-x)  # the j = 0 term times x: (1 - x)^n
    top = max(first, float(logs.max()))
    return float(math.exp(top) * (math.exp(first - top) + np.exp(logs - top).sum()))


def _clip(p: float) -> float:
    return float(np.clip(p, 0.0, 1.0))


def _scipy_kstwo_sf(x: float, n: int) -> float:
    from scipy import stats

    return float(stats.kstwo.sf(x, n))


def _log_nfactorial_div_n_pow_n(n: int) -> float:
    """log(n! / n**n) by Stirling's series (as scipy, to avoid cancellation)."""
    rn = 1.0 / n
    return float(np.log(n) / 2 - n + _LOG_2PI / 2 + rn * np.polyval(_STIRLING_COEFFS, rn / n))


def _pelz_good_cdf(n: int, x: float) -> float:
    """Pelz-Good (1976) approximation of P(D_n <= x); scipy's arithmetic, operation by
    operation, so that the survival function ``1 - cdf`` matches scipy to rounding."""
    z = np.sqrt(n) * x
    zsquared, zthree, zfour, zsix = z**2, z**3, z**4, z**6
    qlog = -_PI_SQUARED / 8 / zsquared
    if qlog < _MIN_LOG:
        return 0.0
    q = np.exp(qlog)
    k1a = -zsquared
    k1b = _PI_SQUARED / 4
    k2a = 6 * zsix + 2 * zfour
    k2b = (2 * zfour - 5 * zsquared) * _PI_SQUARED / 4
    k2c = _PI_FOUR * (1 - 2 * zsquared) / 16
    k3d = _PI_SIX * (5 - 30 * zsquared) / 64
    k3c = _PI_FOUR * (-60 * zsquared + 212 * zfour) / 16
    k3b = _PI_SQUARED * (135 * zfour - 96 * zsix) / 4
    k3a = -30 * zsix - 90 * z**8
    k0to3 = np.zeros(4)
    maxk = int(np.ceil(16 * z / np.pi))
    for k in range(maxk, 0, -1):  # a few terms of a series, not a loop over data
        m = 2 * k - 1
        msquared, mfour, msix = m**2, m**4, m**6
        qpower = np.power(q, 8 * k)
        coeffs = np.array(
            [
                1.0,
                k1a + k1b * msquared,
                k2a + k2b * msquared + k2c * mfour,
                k3a + k3b * msquared + k3c * mfour + k3d * msix,
            ]
        )
        k0to3 *= qpower
        k0to3 += coeffs
    k0to3 *= q
    k0to3 *= _SQRT2PI
    k0to3 /= np.array([z, 6 * zfour, 72 * z**7, 6480 * z**10])
    q = np.exp(-_PI_SQUARED / 2 / zsquared)
    ks = np.arange(maxk, 0, -1)
    ksquared = ks**2
    sqrt3z = _SQRT3 * z
    kspi = np.pi * ks
    qpwers = q**ksquared
    k2extra = np.sum(ksquared * qpwers)
    k2extra *= _PI_SQUARED * _SQRT2PI / (-36 * zthree)
    k0to3[2] += k2extra
    k3extra = np.sum((sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwers)
    k3extra *= _PI_SQUARED * _SQRT2PI / (216 * zsix)
    k0to3[3] += k3extra
    powers_of_n = np.power(n * 1.0, np.arange(len(k0to3)) / 2.0)
    k0to3 /= powers_of_n
    return float(sum(k0to3))
