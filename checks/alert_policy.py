"""The alert policy: burn-rate windows and thresholds, and the alert level they give.

One home for these numbers: :mod:`checks.error_budget` computes burn rates with them,
the SQL views of ``assets/store/slo_views.py`` are generated from them, and the gate
(:mod:`checks.gate_checks`) words its ``burn_rate_*`` reasons with them.

``burn rate = (bad / evaluations in the window) / (1 - target)``: 1 spends the budget
exactly by the end of the SLO window, 2 spends it in half the window. The SRE workbook
(ch. 5, "Alerting on SLOs") pages when both a long and a short window burn above a
threshold: the long window proves the burn is significant, the short one (1/12 of the
long) proves it is still happening, so the alert resets soon after recovery. Its
thresholds (14.4 over 1 h, 6 over 6 h, 1 over 3 days, for a 30-day SLO) assume
minute-resolution SLIs. A daily batch has one evaluation per day, so by default:

- the short window is **1 day** (the newest partition: its burn is 0 or
  ``1 / (1 - target)``, i.e. "is it still bad today?"), the long window **7 days**;
- ``page`` when both burn rates are ``>= 2`` (:data:`PAGE_BURN_RATE`): at that pace
  a 28-day budget is gone in 14 days, and the last week already spent half of it. At
  target 0.9 that is two bad days in the last seven, today included; at 0.99, one;
- ``ticket`` when both are ``>= 1`` (:data:`TICKET_BURN_RATE`): the workbook's ticket
  threshold, a pace that exhausts the budget exactly at the end of the window. At target
  0.9 that is a bad day today (7-day burn 1/7/0.1 = 1.43);
- otherwise ``none``. A window with no evaluation has no burn rate (``None``) and never
  alerts. Hour-scale thresholds (14.4, 6) cannot be expressed on daily evaluations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "DEFAULT_LONG_WINDOW_DAYS",
    "DEFAULT_POLICY",
    "DEFAULT_SHORT_WINDOW_DAYS",
    "EPSILON",
    "PAGE_BURN_RATE",
    "TICKET_BURN_RATE",
    "AlertLevel",
    "AlertPolicy",
    "alert_level",
    "burn_rate",
    "days_text",
]

DEFAULT_SHORT_WINDOW_DAYS: Final = 1
DEFAULT_LONG_WINDOW_DAYS: Final = 7
PAGE_BURN_RATE: Final = 2.0
TICKET_BURN_RATE: Final = 1.0
#: Tolerance (in bad days) when comparing spent with allowed budget: ``(1 - 0.9) × 10``
#: is ``0.9999999999999998`` in IEEE doubles, and one bad day out of ten at target 0.9
#: must not count as exhausted.
EPSILON: Final = 1e-9


class AlertLevel(StrEnum):
    NONE = "none"
    TICKET = "ticket"
    PAGE = "page"


def days_text(days: int) -> str:
    """``1 day``, ``7 days``: a window's width in words."""
    return f"{days} day" if days == 1 else f"{days} days"


@dataclass(frozen=True)
class AlertPolicy:
    """The two burn-rate windows (days, each ending at the reference day inclusive) and
    the thresholds (dimensionless burn rates) both windows must reach to alert."""

    short_window_days: int = DEFAULT_SHORT_WINDOW_DAYS
    long_window_days: int = DEFAULT_LONG_WINDOW_DAYS
    page_burn_rate: float = PAGE_BURN_RATE
    ticket_burn_rate: float = TICKET_BURN_RATE

    def __post_init__(self) -> None:
        if not 1 <= self.short_window_days <= self.long_window_days:
            raise ValueError("need 1 <= short_window_days <= long_window_days")
        if not 0 < self.ticket_burn_rate <= self.page_burn_rate:
            raise ValueError("need 0 < ticket_burn_rate <= page_burn_rate")

    def describe(self) -> str:
        """The policy in one line, for reports: windows and thresholds."""
        return (
            f"page when the burn rate over {days_text(self.short_window_days)} and over "
            f"{days_text(self.long_window_days)} are both >= {self.page_burn_rate:g}, "
            f"ticket when both are >= {self.ticket_burn_rate:g}"
        )


#: The daily-batch adaptation above: what the store's SQL views and the gate use unless
#: told otherwise.
DEFAULT_POLICY: Final = AlertPolicy()


def burn_rate(bad: int, evaluations: int, target: float) -> float | None:
    """``(bad / evaluations) / (1 - target)``; None without evaluations. At target 1 the
    budget is empty, so any bad day burns infinitely fast (``inf``) and none burns 0."""
    if evaluations <= 0:
        return None
    share = bad / evaluations
    if target >= 1.0:
        return math.inf if bad > 0 else 0.0
    return share / (1.0 - target)


def alert_level(
    burn_short: float | None, burn_long: float | None, policy: AlertPolicy = DEFAULT_POLICY
) -> AlertLevel:
    """``page`` / ``ticket`` when *both* windows burn at or above that level's threshold."""
    if burn_short is None or burn_long is None:
        return AlertLevel.NONE
    if burn_short >= policy.page_burn_rate and burn_long >= policy.page_burn_rate:
        return AlertLevel.PAGE
    if burn_short >= policy.ticket_burn_rate and burn_long >= policy.ticket_burn_rate:
        return AlertLevel.TICKET
    return AlertLevel.NONE
