"""Which SLOs judge a model: the ones its contract declares plus the built-in ones.

A built-in SLO (:data:`checks.slo_templates.BUILT_IN_TEMPLATES`) spends an error budget
and blocks like a declared one, at the target of the contract's tier.
"""

from __future__ import annotations

from checks.contract import Contract
from checks.slo_spec import Slos, SloSpec
from checks.slo_templates import BUILT_IN_TEMPLATES, TIER_TARGETS

__all__ = ["built_in_slos", "slos_in_force"]


def _measurable(contract: Contract, sli: str) -> bool:
    """Whether a built-in SLO has anything to judge in this model."""
    if sli == "unseen_category_rate":
        return bool(contract.categorical_features)
    return True


def built_in_slos(contract: Contract) -> dict[str, SloSpec]:
    """The built-in SLOs the contract does not declare and can measure, at the target of
    its tier (:data:`~checks.slo_templates.TIER_TARGETS`) and blocking on the tiers the
    template names, so they spend an error budget like any declared SLO."""
    target = TIER_TARGETS[contract.tier]
    return {
        template.sli: SloSpec(
            objective=template.objective,
            target=target,
            blocking=contract.tier in template.blocking_tiers,
        )
        for template in BUILT_IN_TEMPLATES
        if contract.slo(template.sli) is None and _measurable(contract, template.sli)
    }


def slos_in_force(contract: Contract) -> Slos:
    """The contract's SLOs plus the built-in ones it does not declare (all model track)."""
    built_in = built_in_slos(contract)
    if not built_in:
        return contract.slos
    return contract.slos.model_copy(update={"model": {**contract.slos.model, **built_in}})
