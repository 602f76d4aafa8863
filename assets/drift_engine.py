"""Which drift engine a partition's day gets: exact while it fits the memory budget, the
sketch engine above it.

Why: the exact engine holds whole columns of the day (their float64 values, a sorted
copy and bucket indices) and the profile's sorted training values, so its memory grows
with the day; a 100M-row day needs ~4.5 GiB per column in flight. The sketch engine
(:func:`checks.drift.sketch_snapshot` over :func:`assets.row_groups.row_group_parts`)
holds one column of one part (at most :data:`assets.row_groups.PART_ROWS` rows, cut inside
large row groups) at a time plus the profile's 4,097-point grid, so its
memory does not grow with the day; its PSI and JS are the exact engine's (the same bins)
and its KS and Wasserstein carry a guaranteed error bound (docs/running.md, "Days larger
than memory").

The choice is made before any column is read, from the parquet footers (rows) and the
stored profile (training values per column): :func:`exact_need_bytes` against the
contract's ``drift.memory_budget_mb`` or, unset, :data:`DEFAULT_MEMORY_BUDGET_MB` (or the
memory left now, :func:`assets.memory_budget.available_memory`, when less). A profile
without sorted values (built out of core, :func:`checks.profile.build_profile_in_batches`)
can only serve the sketch engine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from assets.memory_budget import available_memory, files_row_count
from checks.profile import BaselineProfile

if TYPE_CHECKING:
    from checks.contract import Contract  # annotations only: importing it costs ~0.1 s

__all__ = [
    "DEFAULT_MEMORY_BUDGET_MB",
    "EXACT_BYTES_PER_ROW",
    "NO_SORTED_VALUES",
    "PROFILE_BYTES_PER_ROW",
    "EngineChoice",
    "choose_engine",
    "columns_in_flight",
    "exact_need_bytes",
    "lacks_sorted_values",
    "memory_budget",
    "profile_fits_whole",
]

#: Bytes a day's row costs the exact engine per numeric column in flight: the column as
#: read, its float64 copy without nulls, the sorted copy, bucket indices and the KS pass's
#: scratch. Measured (benchmarks/README.md, drift_engine): the drift asset's peak grew by
#: 98 bytes per row of the fraud day from 5M to 20M rows, two columns in flight.
EXACT_BYTES_PER_ROW: Final = 48
#: Bytes a training row costs the whole profile build for the column being profiled
#: (the values as read, their float64 copy, the sorted copy, the bytes hashed, the KS
#: anchor), on top of the 8 bytes a row every numeric feature's kept sorted values take.
#: Measured: 20M rows of the fraud day's 13 numeric features peaked at 2,763 MiB over
#: the imports (104 bytes a row kept, 41 transient); 1 float64 column of 10M rows, 30.
PROFILE_BYTES_PER_ROW: Final = 40
#: Bytes of one stored training value (float64) the exact engine loads per column.
_BASELINE_BYTES_PER_VALUE: Final = 8
_MIB: Final = 1024 * 1024

Engine = Literal["exact", "sketch"]


@dataclass(frozen=True)
class EngineChoice:
    """The engine for one day's drift and why: what the exact engine would need, against
    which budget (bytes; None when the profile decided) from where."""

    engine: Engine
    need_bytes: int
    budget_bytes: int | None
    budget_source: str

    def reason(self) -> str:
        """One clause for each row's detail, e.g. ``sketch engine: the exact engine needs
        ~2,400 MiB, over the budget of 1,024 MiB (drift.memory_budget_mb)``."""
        need = f"~{self.need_bytes / _MIB:,.0f} MiB"
        if self.budget_bytes is None:
            return f"{self.engine} engine: {self.budget_source}"
        budget = f"{self.budget_bytes / _MIB:,.0f} MiB ({self.budget_source})"
        if self.engine == "sketch":
            return f"sketch engine: the exact engine needs {need}, over the budget of {budget}"
        return f"exact engine: needs {need}, within the budget of {budget}"


def columns_in_flight(n_numeric: int, threads: int | None = None) -> int:
    """Numeric columns the exact engine holds at once: one per thread of
    :class:`assets.drift_runner.ColumnRunner` (default ``min(4, cpu count)``), at most
    one per numeric feature, at least one."""
    width = threads if threads is not None else min(4, os.cpu_count() or 1)
    return max(1, min(width, n_numeric))


def exact_need_bytes(
    day_rows: int, profile: BaselineProfile, numeric: Sequence[str], in_flight: int
) -> int:
    """Bytes the exact engine needs for a day of ``day_rows`` rows: per column in flight,
    :data:`EXACT_BYTES_PER_ROW` per row of the day plus the largest numeric feature's
    stored training values (8 bytes each). Categorical features are counted by polars'
    streaming group-by in either engine, so they add nothing here."""
    present = [profile.numeric[name] for name in numeric if name in profile.numeric]
    if not present:
        return 0
    baseline = max(p.n for p in present) * _BASELINE_BYTES_PER_VALUE
    return in_flight * (day_rows * EXACT_BYTES_PER_ROW + baseline)


#: The budget (MiB) when the contract sets none. Why this low: the exact engine's
#: estimate is what it adds to a process that already holds ~0.5 GiB (imports, the
#: profile, a worker process), and the partition job's target is a 5M-row day under
#: 1 GiB (issue 14). 256 MiB keeps days up to ~2.7M rows (two numeric columns in flight)
#: exact; above that the sketch engine's bound is ~3.5e-4 on KS. Raise it per model with
#: ``drift.memory_budget_mb`` to keep bigger days exact.
DEFAULT_MEMORY_BUDGET_MB: Final = 256

#: Why a profile built in batches can serve the sketch engine only.
NO_SORTED_VALUES: Final = "the profile holds no sorted training values"


def lacks_sorted_values(profile: BaselineProfile, numeric: Sequence[str]) -> bool:
    """Whether a numeric feature's profile keeps no sorted values (built in batches), so
    that only the sketch engine can compare it."""
    return any(name in profile.numeric and not profile.numeric[name].has_values for name in numeric)


def memory_budget(contract: Contract) -> tuple[int, str]:
    """(bytes the drift work may use, where that figure comes from): the contract's
    ``drift.memory_budget_mb``, else :data:`DEFAULT_MEMORY_BUDGET_MB` or the memory left
    now when that is less."""
    if contract.drift.memory_budget_mb is not None:
        return int(contract.drift.memory_budget_mb * _MIB), "drift.memory_budget_mb"
    default = DEFAULT_MEMORY_BUDGET_MB * _MIB
    left = available_memory()
    if left is not None and left.bytes_left < default:
        return left.bytes_left, left.source
    return default, "the default: drift.memory_budget_mb unset"


def choose_engine(
    contract: Contract, files: Sequence[str], profile: BaselineProfile, numeric: Sequence[str]
) -> EngineChoice:
    """Exact while :func:`exact_need_bytes` fits the budget, else sketch; sketch whenever
    the profile holds no sorted training values of a numeric feature."""
    day_rows = files_row_count(files)
    need = exact_need_bytes(day_rows, profile, numeric, columns_in_flight(len(numeric)))
    if lacks_sorted_values(profile, numeric):
        return EngineChoice("sketch", need, None, NO_SORTED_VALUES)
    budget, source = memory_budget(contract)
    return EngineChoice("exact" if need <= budget else "sketch", need, budget, source)


def profile_fits_whole(contract: Contract, files: Sequence[str], n_numeric: int) -> bool:
    """Whether the profile can be built whole (:func:`checks.profile.build_profile`, one
    training column at a time, keeping every numeric feature's sorted values for the
    exact engine): the training rows x (8 bytes per numeric feature +
    :data:`PROFILE_BYTES_PER_ROW`) within the budget. Otherwise it is built in batches
    (:func:`checks.profile.build_profile_in_batches`, sketch-only, a few hundred MiB)."""
    budget, _ = memory_budget(contract)
    rows = files_row_count(files)
    kept = n_numeric * _BASELINE_BYTES_PER_VALUE
    return rows * (kept + PROFILE_BYTES_PER_ROW) <= budget
