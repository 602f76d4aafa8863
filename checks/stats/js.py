"""Jensen-Shannon distance between two binned distributions, base 2.

docs/design.md: ``scipy.spatial.distance.jensenshannon(b, c, base=2)`` on the PSI bins (or the
category union), raw proportions without PSI's 1e-4 floor. In base 2 the distance lies in
[0, 1] (1 = disjoint supports), which is why chi2's effect-size rule can use a fixed 0.1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from checks.stats.special import rel_entr

__all__ = ["js_distance"]


def js_distance(p: npt.ArrayLike, q: npt.ArrayLike, base: float = 2.0) -> float:
    """Jensen-Shannon distance of two count (or probability) vectors, unitless.

    Preconditions: same length, non-negative, each with a positive sum. Same operations
    as scipy's ``jensenshannon`` (normalise, mixture m, ``rel_entr`` sums, divide by
    ``log(base)``, square root of half), without importing ``scipy.spatial`` or
    ``scipy.special`` (:func:`checks.stats.special.rel_entr` is the same formula).
    """
    pa = np.asarray(p, dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    pa = pa / np.sum(pa)
    qa = qa / np.sum(qa)
    m = (pa + qa) / 2.0
    js = np.sum(rel_entr(pa, m)) + np.sum(rel_entr(qa, m))
    js /= np.log(base)
    return float(np.sqrt(js / 2.0))
