"""Which SLI store a location is: the embedded DuckDB file or the shared parquet lake.

``DATASRE_STORE`` (``pipelines.settings``) names the backend; ``DATASRE_DB`` (``--db``)
is then the DuckDB file or the lake's root directory. Both give an :class:`SliStore`
(the lake subclasses it), so the writer asset, the gate and ad-hoc tools need no branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from assets.store.store import SliStore

__all__ = ["STORE_BACKENDS", "open_store"]

#: ``duckdb``: one file, one writer process at a time (the default, ``make run``);
#: ``lake``: committed parquet files under a shared directory, any number of writers.
STORE_BACKENDS: Final = ("duckdb", "lake")


def open_store(
    location: str | Path, backend: str = "duckdb", *, lock_timeout_s: float | None = None
) -> SliStore:
    """The store of ``backend`` at ``location`` (nothing is opened or created yet).

    The store modules are imported here, not at the top, so that reading
    :data:`STORE_BACKENDS` does not import DuckDB."""
    from assets.store.lake import LakeStore
    from assets.store.store import SliStore

    if backend == "duckdb":
        return SliStore(location, lock_timeout_s=lock_timeout_s)
    if backend == "lake":
        return LakeStore(location, lock_timeout_s=lock_timeout_s)
    raise ValueError(f"unknown SLI store backend {backend!r} (one of {', '.join(STORE_BACKENDS)})")
