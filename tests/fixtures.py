"""Small synthetic models for tests: a contract YAML beside its parquet snapshots.

Everything is built from whole numpy columns with a fixed seed, so tests are exact and
fast; the bundled sample data (``data/samples``) is exercised by the end-to-end tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import yaml

from checks.contract import Contract

__all__ = ["FIRST_DAY", "corrupt_page", "make_features", "minimal_contract", "write_model"]

FIRST_DAY = dt.date(2026, 3, 2)
CATEGORIES = ("a", "b", "c")


def make_features(n: int, day: dt.date, *, seed: int = 0, shift: float = 0.0) -> pl.DataFrame:
    """``n`` rows of a day: id, event_ts spread over the day, x (normal), k (int), c (cat)."""
    rng = np.random.default_rng(seed)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    offsets = np.sort(rng.integers(0, 86_400 * 1_000_000, n))
    return pl.DataFrame(
        {
            "id": [f"{day.isoformat()}-{i}" for i in range(n)],
            "event_ts": pl.Series(offsets).cast(pl.Duration("us")) + start,
            "x": np.round(rng.normal(10.0 + shift, 2.0, n), 3),
            "k": rng.integers(0, 5, n),
            "c": rng.choice(CATEGORIES, n).astype(str),
        }
    ).with_columns(pl.col("event_ts").dt.replace_time_zone("UTC"))


def make_predictions(features: pl.DataFrame, *, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed + 1000)
    n = features.height
    score = np.round(rng.uniform(0, 1, n), 4)
    return pl.DataFrame(
        {
            "id": features["id"],
            "event_ts": features["event_ts"],
            "score": score,
            "predicted_label": (score >= 0.5).astype(np.int64),
            "latency_ms": np.round(rng.gamma(2.0, 10.0, n), 2),
            "status": np.where(rng.uniform(0, 1, n) < 0.999, "ok", "error"),
        }
    )


def contract_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": "toy",
        "type": "classification",
        "version": "1.0.0",
        "owner": "sre@example.com",
        "runbook": "https://runbooks.example.com/toy",
        "sources": {
            "training": "toy/training.parquet",
            "features": "toy/features/{date}.parquet",
            "predictions": "toy/predictions/{date}.parquet",
            "id_column": "id",
            "timestamp_column": "event_ts",
            "start_date": FIRST_DAY.isoformat(),
        },
        "features": {
            "x": {"dtype": "Float64", "nullable": False, "min": 0, "max": 20},
            "k": {"dtype": "Int64", "nullable": True, "min": 0, "max": 4},
            "c": {"dtype": "String", "nullable": True, "allowed_values": list(CATEGORIES)},
        },
        "predictions": {
            "score": "score",
            "predicted_label": "predicted_label",
            "latency_ms": "latency_ms",
            "status": "status",
        },
        "slos": {
            "infra": {"latency_p99_ms": {"objective": 100}},
            "model": {
                "ingest_ok": {"objective": 1, "blocking": True},
                "schema_valid": {"objective": 1, "blocking": True},
                "schema_validity": {"objective": 0.99},
                "duplicate_id_rate": {"objective": 0.001},
                "completeness": {"objective": 0.99},
                "null_rate": {"objective": 0.05},
                "data_staleness_seconds": {"objective": 129600},
                "model_age_days": {"objective": 90},
            },
        },
    }
    base.update(overrides)
    return base


def write_model(
    root: Path, *, days: int = 3, rows: int = 400, contract: dict[str, Any] | None = None
) -> Path:
    """Write a toy model under ``root`` and return its contract path.

    Training: 2,000 rows ending 30 days before :data:`FIRST_DAY`; ``days`` clean days.
    """
    data = root / "toy"
    (data / "features").mkdir(parents=True, exist_ok=True)
    (data / "predictions").mkdir(parents=True, exist_ok=True)
    training = make_features(2000, FIRST_DAY - dt.timedelta(days=30), seed=99)
    training.write_parquet(data / "training.parquet")
    for offset in range(days):
        day = FIRST_DAY + dt.timedelta(days=offset)
        features = make_features(rows, day, seed=offset)
        features.write_parquet(data / "features" / f"{day.isoformat()}.parquet")
        make_predictions(features, seed=offset).write_parquet(
            data / "predictions" / f"{day.isoformat()}.parquet"
        )
    path = root / "contracts" / "toy.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = contract or contract_dict()
    # Paths in the contract are relative to the contract file.
    body = {**body, "sources": {**body["sources"]}}
    for key in ("training", "features", "predictions", "labels", "prediction_baseline"):
        if body["sources"].get(key):
            body["sources"][key] = "../" + body["sources"][key]
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def minimal_contract(*, sources: dict[str, Any] | None = None, **fields: Any) -> Contract:
    """An in-memory contract for unit tests of pure checks: model ``m`` (classification,
    version 1) with paths that are never read; ``fields`` add or replace top-level keys
    and ``sources`` adds source keys."""
    body: dict[str, Any] = {
        "model": "m",
        "type": "classification",
        "version": "1",
        "owner": "team",
        "sources": {
            "training": "t.parquet",
            "features": "f/{date}.parquet",
            "id_column": "id",
            "timestamp_column": "ts",
            "start_date": "2026-01-01",
            **(sources or {}),
        },
    }
    body.update(fields)
    return Contract.model_validate(body)


def corrupt_page(path: Path, column: str) -> None:
    """Scramble the middle third of ``column``'s data in the first row group of the parquet
    file at ``path``, leaving its footer intact: the file opens, its schema and row count
    read, and decoding that column fails (as a torn copy or a bad disk block does)."""
    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    chunk = metadata.row_group(0).column(names.index(column))
    start, size = chunk.data_page_offset, chunk.total_compressed_size
    data = bytearray(path.read_bytes())
    for i in range(start + size // 3, start + 2 * size // 3):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pq.ParquetFile(path) as opened:  # the footer still reads
        assert opened.metadata.num_rows == metadata.num_rows
