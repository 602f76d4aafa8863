"""The one SLI row shape every check produces and the DuckDB store persists.

Checks return polars frames with :data:`SLI_SCHEMA`; the store adds ``run_id``, ``model``,
``model_version``, ``partition`` and ``measured_at``. Keeping one shape means one table,
one view family and one gate for every kind of measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Final

import polars as pl

from checks.contract import SLO_CATALOG, Comparator, Contract, Track
from checks.runbooks import incident_class, runbook_for
from checks.slo import built_in_slos, slos_in_force

__all__ = [
    "SLI_SCHEMA",
    "SliRow",
    "attach_runbooks",
    "empty_sli_frame",
    "judge",
    "row_runbook",
    "sli_frame",
    "slo_definitions_frame",
    "slo_row",
]

#: Columns a check emits (the store adds run/model/partition/measured_at).
SLI_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "track": pl.String(),
    "category": pl.String(),
    "sli": pl.String(),
    "feature": pl.String(),
    "slice": pl.String(),
    "method": pl.String(),
    "value": pl.Float64(),
    "statistic": pl.Float64(),
    "p_value": pl.Float64(),
    "q_value": pl.Float64(),
    "significant": pl.Boolean(),
    "objective": pl.Float64(),
    "comparator": pl.String(),
    "ok": pl.Boolean(),
    "blocking": pl.Boolean(),
    "n_rows": pl.Int64(),
    "status": pl.String(),
    "runbook": pl.String(),
    "detail": pl.String(),
}


@dataclass(frozen=True)
class SliRow:
    """One measurement (row contract v2, docs/design.md "SLI rows").

    ``value`` is what the objective is compared with (for drift: the effect size the rule
    judges); ``statistic`` the raw test statistic and ``significant`` the q-value
    decision, both None where no test ran. ``ok`` is None when no objective applies or
    there is no verdict, else ``(value comparator objective) or significant is False``.
    ``status`` is ``ok`` for a measurement, ``insufficient_data`` or ``skipped`` when the
    SLI could not be judged, ``error`` when its input could not be read; ``runbook`` is
    set for the whole run by :func:`attach_runbooks`; ``detail`` is a one-line human
    explanation (the failing columns, the unreadable file...).
    """

    track: str
    category: str
    sli: str
    value: float | None
    n_rows: int
    feature: str | None = None
    slice: str | None = None
    method: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    significant: bool | None = None
    objective: float | None = None
    comparator: str | None = None
    ok: bool | None = None
    blocking: bool = False
    status: str = "ok"
    runbook: str | None = None
    detail: str | None = None


def judge(value: float | None, objective: float | None, comparator: str | None) -> bool | None:
    """Whether ``value`` meets ``objective`` under ``comparator``; None if nothing to judge.

    A missing or NaN value with an objective is a breach (False): a measurement that could
    not be made does not meet its SLO.
    """
    if objective is None or comparator is None:
        return None
    if value is None or math.isnan(value):
        return False
    if comparator == "<=":
        return value <= objective
    if comparator == ">=":
        return value >= objective
    if comparator == "<":
        return value < objective
    if comparator == ">":
        return value > objective
    raise ValueError(f"unknown comparator {comparator!r}")


def slo_row(
    contract: Contract,
    sli: str,
    category: str,
    value: float | None,
    n_rows: int,
    *,
    feature: str | None = None,
    slice: str | None = None,
    objective: float | None = None,
    comparator: Comparator | None = None,
    status: str = "ok",
    detail: str | None = None,
    method: str | None = None,
    p_value: float | None = None,
    q_value: float | None = None,
) -> SliRow:
    """An SLI row judged against the contract's SLO of the same name, if it declares one
    or it is built in.

    ``objective``/``comparator`` given here win over the contract's (per-feature limits).
    The track comes from :data:`checks.contract.SLO_CATALOG`.
    """
    entry = SLO_CATALOG[sli]
    # A built-in SLO (checks.slo.BUILT_IN_TEMPLATES) judges and blocks like a declared one.
    spec = contract.slo(sli) or built_in_slos(contract).get(sli)
    if objective is None and spec is not None:
        objective = spec.objective
    if comparator is None:
        comparator = contract.comparator(sli)
    # A measurement that errored breaches its objective; insufficient data is not judged.
    if status == "error":
        ok: bool | None = False if objective is not None else None
    elif status == "ok":
        ok = judge(value, objective, comparator)
    else:
        ok = None
    return SliRow(
        track=Track(entry.track).value,
        category=category,
        sli=sli,
        feature=feature,
        slice=slice,
        method=method,
        value=value,
        p_value=p_value,
        q_value=q_value,
        objective=objective,
        comparator=comparator if objective is not None else None,
        ok=ok,
        blocking=bool(spec.blocking) if spec is not None else False,
        n_rows=n_rows,
        status=status,
        detail=detail,
    )


def row_runbook(contract: Contract, category: str, sli: str, status: str = "ok") -> str | None:
    """The runbook of a row's incident class (:mod:`checks.runbooks`): the contract's page
    for that class when it names one, else the shipped catalog's; the contract's own
    ``runbook`` only for an SLI no class covers. The one place that decides it."""
    incident = incident_class(category, sli, status)
    if incident is None:
        return contract.runbook
    return runbook_for(incident, contract)


def attach_runbooks(slis: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """``slis`` with each row's ``runbook`` (:func:`row_runbook` of its category, SLI and
    status) where the row has none: one lookup per distinct key, then a join."""
    keys = ["category", "sli", "status"]
    classes = slis.select(keys).unique()
    books = classes.with_columns(
        pl.Series(
            "runbook_of_class",
            [row_runbook(contract, c, s, st or "ok") for c, s, st in classes.iter_rows()],
            dtype=pl.String(),
        )
    )
    return (
        slis.join(books, on=keys, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(pl.coalesce("runbook", "runbook_of_class").alias("runbook"))
        .select(list(SLI_SCHEMA))
    )


def empty_sli_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(SLI_SCHEMA))


def sli_frame(rows: Iterable[SliRow]) -> pl.DataFrame:
    """Rows -> a frame with exactly :data:`SLI_SCHEMA` (column order included)."""
    records = [asdict(row) for row in rows]
    if not records:
        return empty_sli_frame()
    return pl.DataFrame(records, schema=dict(SLI_SCHEMA))


def slo_definitions_frame(contract: Contract) -> pl.DataFrame:
    """The SLOs in force as rows (``slo_definitions`` table): the views and the gate
    judge budgets from what the contract said when the run happened. Built-in SLOs the
    contract does not declare (:func:`checks.slo.slos_in_force`) are rows too, so their
    breaches spend a budget."""
    slos = slos_in_force(contract)
    records = [
        {
            "track": track,
            "sli": name,
            "objective": spec.objective,
            "comparator": spec.comparator or SLO_CATALOG[name].comparator,
            "target": spec.target,
            "blocking": spec.blocking,
            "window_days": slos.window_days,
            "evidence_delay_days": contract.evidence_delay_days(name),
        }
        for track, specs in (("infra", slos.infra), ("model", slos.model))
        for name, spec in specs.items()
    ]
    schema = {
        "track": pl.String(),
        "sli": pl.String(),
        "objective": pl.Float64(),
        "comparator": pl.String(),
        "target": pl.Float64(),
        "blocking": pl.Boolean(),
        "window_days": pl.Int32(),
        "evidence_delay_days": pl.Float64(),
    }
    return pl.DataFrame(records, schema=schema)
