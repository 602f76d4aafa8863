"""Drift results as SLI rows (row contract v2, docs/design.md "SLI rows").

For a drift row ``value`` is the effect size the rule judges (KS D for ``ks``, the JS
distance base 2 for ``chi2``, PSI for ``psi``, the normalised Wasserstein distance for
``wasserstein``), ``statistic`` the raw test statistic where a test ran (KS D, the chi-square
value), ``significant`` the q-value decision (NULL where no test ran), ``objective`` the
effect threshold with the comparator the registry derives (``<=``). So for every judged
row ``ok = (value comparator objective) OR significant IS FALSE``: an SRE's own SQL over
the columns agrees with the tool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from checks.drift.methods import REGISTRY, ok_comparator

if TYPE_CHECKING:
    from checks.contract import Contract
    from checks.sli import SliRow

__all__ = ["drift_sli_rows"]


def drift_sli_rows(
    drift: pl.DataFrame, contract: Contract, unmeasured: Sequence[str] = ()
) -> pl.DataFrame:
    """SLI rows (:data:`checks.sli.SLI_SCHEMA`) for a :func:`compute_drift` result.

    One row per feature and method (track ``model``, category ``drift``, ``sli`` = the
    method; ``ok`` = not drifted, null when the row does not decide) plus one model-wide
    ``drifted_feature_share`` row judged against the contract's SLO of that name: the
    share of features with a verdict whose rule fired. ``unmeasured`` are declared drift
    features the day lacks or types otherwise (``schema_valid``'s breach): the share row's
    detail names them, so that "0 of 18" does not read as every declared feature checked.
    """
    # Imported here: checks.sli loads the contract models (pydantic), which the drift CLI
    # would otherwise pay for on every run without a contract.
    from checks.sli import SliRow, sli_frame, slo_row

    rows: list[SliRow] = [
        SliRow(
            track="model",
            category="drift",
            sli=r["method"],
            feature=r["feature"],
            method=r["method"],
            value=r["effect"],
            statistic=r["statistic"] if REGISTRY[r["method"]].is_test else None,
            p_value=r["p_value"],
            q_value=r["q_value"],
            significant=r["significant"],
            objective=r["threshold"],
            comparator=ok_comparator(r["method"]) if r["threshold"] is not None else None,
            ok=None if r["drifted"] is None else not r["drifted"],
            n_rows=int(r["n_current"]),
            status=r["status"],
            detail=_sli_detail(r),
        )
        for r in drift.iter_rows(named=True)
    ]
    not_measured = (
        f"; not measured (absent or mistyped, see schema_valid): {', '.join(unmeasured)}"
        if unmeasured
        else ""
    )
    judged = drift.filter(pl.col("drifted").is_not_null())
    n_judged = judged.get_column("feature").n_unique()
    n_drifted = judged.filter(pl.col("drifted")).get_column("feature").n_unique()
    if n_judged:
        share_row = slo_row(
            contract,
            "drifted_feature_share",
            "drift",
            n_drifted / n_judged,
            n_judged,
            detail=f"{n_drifted} of {n_judged} features with a verdict drifted{not_measured}",
        )
    else:
        share_row = slo_row(
            contract,
            "drifted_feature_share",
            "drift",
            None,
            0,
            status="insufficient_data",
            detail=f"no feature had enough data for a verdict{not_measured}",
        )
    rows.append(share_row)
    return sli_frame(rows)


def _sli_detail(r: Mapping[str, Any]) -> str:
    parts = [f"{r['method']} via {r['binning']}"]
    if r["effect_name"] and r["effect"] is not None and r["threshold"] is not None:
        rule = f"{r['effect_name']}={r['effect']:.4g} {r['comparator']} {r['threshold']:g}"
        if r["alpha"] is not None:
            rule += f" and q < {r['alpha']:g}"
        parts.append("rule: " + rule)
    if r["detail"]:
        parts.append(str(r["detail"]))
    return "; ".join(parts)
