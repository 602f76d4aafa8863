"""The DuckDB SLI store (no Dagster import: the CLI gate reuses it)."""

from assets.store.errors import StoreError, StoreLockedError
from assets.store.store import RunRecord, SliStore

__all__ = ["RunRecord", "SliStore", "StoreError", "StoreLockedError"]
