"""The fault classes of a chaos drill (``datasre chaos``): their names and order.

Apart from :mod:`checks.faults` (how each fault is injected, with numpy and polars) so
that the CLI can list them in its help without importing those.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FAULT_CLASSES"]

#: Every fault class, in the order a drill injects them (labels first: they must be
#: overdue by the drill's end; concept change last: it moves later days' calibration).
FAULT_CLASSES: Final = (
    "labels_withheld",
    "covariate_shift",
    "category_mix",
    "dropped_feature",
    "null_burst",
    "new_category",
    "corrupt_file",
    "schema_change",
    "late_snapshot",
    "concept_change",
)
