"""``datasre export alerts --format`` values, apart from :mod:`pipelines.exports.alert_rules`
so that registering the command does not import the contract and metric modules."""

from __future__ import annotations

from typing import Final

__all__ = ["RULE_FORMATS"]

#: A PrometheusRule resource per contract, or one plain rule file.
RULE_FORMATS: Final = ("prometheus-rule", "rules")
