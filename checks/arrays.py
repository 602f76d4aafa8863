"""The numpy array types the pure layer passes around: one home for the aliases.

``FloatArray`` holds values in a feature's unit (or proportions), ``CountArray`` integer
counts (bins, categories, grid cells), ``IndexArray`` positions and bucket numbers
(``numpy.intp``, what ``searchsorted`` and indexing return).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["CountArray", "FloatArray", "IndexArray"]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.intp]
