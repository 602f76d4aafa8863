"""The error for bad usage found after argument parsing (one home, imported by the CLI and
by the settings it reads, so neither imports the other)."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """Bad command-line usage detected after parsing (conflicting options...)."""
