"""Fixture SLI histories for the SLO, budget and gate tests.

A toy contract (tests/fixtures.py) with one model-track quality SLO (``accuracy``) and
one infra SLO (``latency_p99_ms``) added; each day gets one judged SLI row per declared
SLO, good unless the day is listed as bad for that SLO. Hand-computable on purpose.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from assets.store import RunRecord, SliStore
from assets.store.lake import LakeStore
from assets.store.store import _CONFIG as _STORE_CONFIG
from checks.contract import SLO_CATALOG, Contract
from checks.sli import SliRow, sli_frame, slo_definitions_frame
from checks.slo import slos_in_force
from tests.fixtures import contract_dict

__all__ = [
    "DAY0",
    "FINISHED",
    "days",
    "gate_contract",
    "gate_contract_dict",
    "history_frame",
    "runs_frame",
    "write_contract",
    "write_history",
]

#: First partition of every fixture history; runs finish at FINISHED.
DAY0 = dt.date(2026, 11, 1)
FINISHED = dt.datetime(2026, 11, 15, 7, 0, tzinfo=dt.UTC)


def days(n: int, start: dt.date = DAY0) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def gate_contract_dict(**overrides: Any) -> dict[str, Any]:
    base = contract_dict()
    slos = {
        "window_days": 28,
        "infra": {"latency_p99_ms": {"objective": 100, "target": 0.9}},
        "model": {
            "ingest_ok": {"objective": 1, "blocking": True},
            "completeness": {"objective": 0.99, "blocking": True},
            "accuracy": {"objective": 0.94, "target": 0.9},
        },
    }
    base["slos"] = slos
    # accuracy is measured from labels: the contract must say where they are.
    base["sources"] = {**base["sources"], "labels": "toy/labels/{date}.parquet"}
    base["predictions"] = {**base["predictions"], "target": "label"}
    base.update(overrides)
    return base


def gate_contract(**overrides: Any) -> Contract:
    body = gate_contract_dict(**overrides)
    return Contract.model_validate({**body, "path": Path("/fixtures/contracts/toy.yaml")})


def write_contract(directory: Path, **overrides: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "toy.yaml"
    path.write_text(yaml.safe_dump(gate_contract_dict(**overrides), sort_keys=False), "utf-8")
    return path


def _value(sli: str, objective: float, good: bool) -> float:
    """A value that meets (or misses) ``objective`` under the catalog comparator."""
    comparator = SLO_CATALOG[sli].comparator
    if comparator in (">=", ">"):
        return objective if good else objective - 0.05
    return objective / 2 if good else objective * 2 + 1


def day_rows(
    contract: Contract,
    *,
    bad: Iterable[str] = (),
    unjudged: Iterable[str] = (),
    blocking_override: Mapping[str, bool] | None = None,
) -> list[SliRow]:
    """One judged row per SLO in force for ``contract`` (declared and built-in, as the
    pipeline writes them; plus two per-feature null_rate rows when declared); ``bad`` SLOs
    miss their objective, ``unjudged`` have ok = NULL."""
    bad_set, unjudged_set = set(bad), set(unjudged)
    rows: list[SliRow] = []
    in_force = slos_in_force(contract)
    for track, slos in (("infra", in_force.infra), ("model", in_force.model)):
        for name, spec in slos.items():
            blocking = (blocking_override or {}).get(name, spec.blocking)
            comparator = spec.comparator or SLO_CATALOG[name].comparator
            features = ["x", "k"] if name == "null_rate" else [None]
            for index, feature in enumerate(features):
                good = name not in bad_set or index > 0
                ok = None if name in unjudged_set else good
                rows.append(
                    SliRow(
                        track=track,
                        category="test",
                        sli=name,
                        feature=feature,
                        value=_value(name, spec.objective, good),
                        n_rows=100,
                        objective=spec.objective,
                        comparator=comparator,
                        ok=ok,
                        blocking=blocking,
                        status="ok" if ok is not None else "insufficient_data",
                    )
                )
    return rows


def history_frame(
    contract: Contract,
    n_days: int,
    *,
    bad: Mapping[str, Iterable[dt.date]] | None = None,
    unjudged: Mapping[str, Iterable[dt.date]] | None = None,
    version: str | None = None,
    start: dt.date = DAY0,
) -> pl.DataFrame:
    """The rows ``sli_latest`` would hold for ``n_days`` days (for pure tests)."""
    frames = []
    for day in days(n_days, start):
        bad_here = [s for s, ds in (bad or {}).items() if day in set(ds)]
        unjudged_here = [s for s, ds in (unjudged or {}).items() if day in set(ds)]
        frame = sli_frame(day_rows(contract, bad=bad_here, unjudged=unjudged_here))
        frames.append(
            frame.with_columns(
                model=pl.lit(contract.model),
                model_version=pl.lit(version or contract.version),
                partition=pl.lit(day.isoformat()),
            )
        )
    return pl.concat(frames)


def runs_frame(
    contract: Contract,
    finished: Iterable[dt.datetime],
    *,
    status: str = "succeeded",
    version: str | None = None,
    n_labels: int | None = 100,
) -> pl.DataFrame:
    """``runs`` rows for pure gate tests, one per finish time (partition = its day - 1);
    ``n_labels`` None means the partition's labels had not arrived."""
    records = [
        {
            "run_id": f"run-{i}",
            "model": contract.model,
            "model_version": version or contract.version,
            "partition": (f.date() - dt.timedelta(days=1)).isoformat(),
            "finished_at": f,
            "status": status,
            "n_labels": n_labels,
        }
        for i, f in enumerate(finished)
    ]
    schema = {
        "run_id": pl.String(),
        "model": pl.String(),
        "model_version": pl.String(),
        "partition": pl.String(),
        "finished_at": pl.Datetime("us", "UTC"),
        "status": pl.String(),
        "n_labels": pl.Int64(),
    }
    return pl.DataFrame(records, schema=schema)


def write_history(
    store: SliStore,
    contract: Contract,
    n_days: int,
    *,
    bad: Mapping[str, Iterable[dt.date]] | None = None,
    unjudged: Mapping[str, Iterable[dt.date]] | None = None,
    version: str | None = None,
    start: dt.date = DAY0,
    finished_at: dt.datetime = FINISHED,
    run_prefix: str = "run",
) -> None:
    """Write ``n_days`` runs with :meth:`SliStore.write_run`, as the pipeline would."""
    definitions = slo_definitions_frame(contract)
    model_version = version or contract.version
    store.ensure_schema()
    # Holding one connection keeps DuckDB's in-process instance open between the
    # write_run calls (each opens and closes its own), so the file is checkpointed once,
    # not once per day: the fixtures build about twice as fast.
    # (A lake store has no file to hold: its writes take no lock.)
    held = (
        contextlib.nullcontext()
        if isinstance(store, LakeStore)
        else duckdb.connect(str(store.path), config=dict(_STORE_CONFIG))
    )
    with held:
        for day in days(n_days, start):
            bad_here = [s for s, ds in (bad or {}).items() if day in set(ds)]
            unjudged_here = [s for s, ds in (unjudged or {}).items() if day in set(ds)]
            run = RunRecord(
                run_id=f"{run_prefix}-{contract.model}-{model_version}-{day.isoformat()}",
                model=contract.model,
                model_version=model_version,
                partition=day.isoformat(),
                started_at=finished_at - dt.timedelta(minutes=1),
                finished_at=finished_at,
                status="succeeded",
                # Labels "arrived" unless a label-fed SLO is unjudged that day.
                n_labels=None if any(SLO_CATALOG[s].needs_labels for s in unjudged_here) else 100,
            )
            store.write_run(
                run,
                sli_frame(day_rows(contract, bad=bad_here, unjudged=unjudged_here)),
                slo_definitions=definitions,
            )
