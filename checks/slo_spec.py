"""The SLO shape a contract declares (``slos:``): per SLO name, an objective, a target and
whether it blocks; per contract, the error-budget window.

The names and what each SLO means are the vocabulary of :mod:`checks.slo_catalog`; this
module is only the shape the contract loader validates.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from checks.slo_catalog import Comparator

__all__ = ["SloSpec", "Slos"]


class SloSpec(BaseModel):
    """One SLO: the SLI's objective (threshold), how often it must hold, and whether it blocks.

    ``objective`` is the threshold one SLI row is compared with (comparator from the
    catalog unless overridden). ``target`` is the share of evaluations in the error-budget
    window that must meet it, so the budget is ``(1 - target) * evaluations``.
    """

    objective: float
    """The SLI's threshold, in the unit its name says (fractions, ``_seconds``, ``_ms``)."""
    comparator: Comparator | None = None
    """How a value is compared with ``objective``; unset: the SLO catalog's comparator."""
    target: Annotated[float, Field(gt=0, le=1)] = 0.9
    """Share of evaluations in the window that must meet the objective (the error budget
    is ``1 - target``)."""
    blocking: bool = False
    """Whether a breach of this SLO blocks the deployment gate."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Slos(BaseModel):
    """The SLOs a contract declares: the error-budget window (days) and one
    :class:`SloSpec` per SLO name on each track."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    window_days: Annotated[int, Field(ge=1, le=366)] = 28
    """Length of the error-budget window, days (1 to 366)."""
    infra: dict[str, SloSpec] = Field(default_factory=dict)
    """SLOs of the infra track by SLI name (latency, availability, cost, throughput)."""
    model: dict[str, SloSpec] = Field(default_factory=dict)
    """SLOs of the model track by SLI name (data, drift, quality, fairness)."""
