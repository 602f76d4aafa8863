"""Gate persistence: the evidence a decision reads, its audit trail, and waivers.

Reuses :class:`assets.store.SliStore`'s short-lived, lock-retrying connections; every
write is one transaction; SQL is parameterised only. No Dagster import: ``datasre gate``
runs without the orchestrator.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import polars as pl

from assets.store.store import SliStore, _run
from checks.gate_verdict import Severity, Verdict, Waiver

__all__ = ["Evidence", "GateStore"]


@dataclass(frozen=True)
class Evidence:
    """What the gate judges for one model version: ``sli_latest`` rows, ``runs`` rows,
    the stored ``slo_definitions`` (empty when no run wrote them) and the waivers."""

    slis: pl.DataFrame
    runs: pl.DataFrame
    definitions: pl.DataFrame
    waivers: list[Waiver]


class GateStore:
    """The gate's view of the SLI store.

    Parameters
    ----------
    store
        The SLI store (its file must exist: the gate has nothing to judge otherwise).
    """

    def __init__(self, store: SliStore) -> None:
        self.store = store

    def ensure_schema(self) -> None:
        """Create missing tables and views (an older file may lack ``waivers``)."""
        if not self.store.path.exists():
            raise FileNotFoundError(
                f"{self.store.path}: no SLI database yet (run `datasre run` first, or pass --db or "
                "set $DATASRE_DB to the store it wrote)"
            )
        self.store.ensure_schema()

    # --- reads -----------------------------------------------------------------------
    def load_evidence(self, model: str, version: str) -> Evidence:
        """SLI rows (``sli_latest``), runs, SLO definitions and waivers of one version."""
        with self.store.connect(read_only=True) as con:
            slis = con.sql(
                "select * from sli_latest "
                "where model = ? and model_version = ? order by partition, sli, feature, slice",
                params=[model, version],
            ).pl()
            # Every column: a store no new datasre has written yet lacks the schedule ones.
            runs = con.sql(
                "select * from runs where model = ? and model_version = ? order by finished_at",
                params=[model, version],
            ).pl()
            definitions = con.sql(
                "select model, model_version, track, sli, objective, comparator, target, "
                "blocking, window_days, evidence_delay_days from slo_definitions "
                "where model = ? and model_version = ? order by track, sli",
                params=[model, version],
            ).pl()
        return Evidence(slis, runs, definitions, self.waivers(model, version))

    def waivers(self, model: str, version: str | None = None) -> list[Waiver]:
        """Waivers of a model: those of ``version`` and the version-less ones (or all of
        the model's when ``version`` is None), expired ones included, by expiry."""
        rows = self.store.fetchall(
            "select waiver_id, model, model_version, slo, reason, expires, created_at, "
            "created_by from waivers where model = ? "
            "and (?::varchar is null or model_version is null or model_version = ?) "
            "order by expires, slo, waiver_id",
            [model, version, version],
        )
        return [
            Waiver(
                waiver_id=r[0],
                model=r[1],
                model_version=r[2],
                slo=r[3],
                reason=r[4],
                expires=r[5],
                created_at=r[6],
                created_by=r[7],
            )
            for r in rows
        ]

    def decisions(self, model: str | None = None) -> pl.DataFrame:
        """The audit trail, newest first."""
        return self.store.query(
            "select * exclude (verdict_json) from gate_decisions "
            "where ?::varchar is null or model = ? order by recorded_at desc, decided_at desc",
            [model, model],
        )

    # --- writes (one transaction each) -----------------------------------------------
    def add_waiver(self, waiver: Waiver) -> Waiver:
        """Record a waiver; returns it with its id and creation time filled in."""
        stored = Waiver(
            model=waiver.model,
            slo=waiver.slo,
            reason=waiver.reason,
            expires=waiver.expires,
            model_version=waiver.model_version,
            waiver_id=waiver.waiver_id or f"w-{uuid.uuid4().hex[:12]}",
            created_at=waiver.created_at or dt.datetime.now(dt.UTC),
            created_by=waiver.created_by,
        )
        with self.store.transaction() as con:
            _run(
                con,
                "insert into waivers (waiver_id, model, model_version, slo, reason, "
                "expires, created_at, created_by) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    stored.waiver_id,
                    stored.model,
                    stored.model_version,
                    stored.slo,
                    stored.reason,
                    stored.expires,
                    stored.created_at,
                    stored.created_by,
                ],
            )
        return stored

    def append_decision(
        self, verdict: Verdict, verdict_json: str, *, actor: str | None = None
    ) -> str:
        """Append one decision to ``gate_decisions`` (never updated); returns its id.

        ``verdict_json`` is the JSON report of the verdict (``pipelines.report``), stored
        as text so an auditor sees exactly what CI saw.
        """
        decision_id = f"g-{uuid.uuid4().hex}"
        severities = [r.severity for r in verdict.reasons]
        with self.store.transaction() as con:
            _run(
                con,
                "insert into gate_decisions (decision_id, decided_at, recorded_at, model, "
                "model_version, ready, reference_day, n_blocking, n_warnings, n_waived, "
                "reason_codes, verdict_json, actor) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    decision_id,
                    verdict.decided_at or dt.datetime.now(dt.UTC),
                    dt.datetime.now(dt.UTC),
                    verdict.model,
                    verdict.model_version,
                    verdict.ready,
                    verdict.reference_day,
                    severities.count(Severity.BLOCK),
                    severities.count(Severity.WARN),
                    severities.count(Severity.WAIVED),
                    [r.code for r in verdict.reasons],
                    verdict_json,
                    actor,
                ],
            )
        return decision_id
