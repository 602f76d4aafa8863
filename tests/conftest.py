"""Shared fixtures: tests never touch the repository's .dagster/ or data/datasre.duckdb."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import write_model


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DATASRE_CONFIG", raising=False)
    monkeypatch.delenv("DATASRE_DB", raising=False)
    monkeypatch.delenv("DATASRE_NOW", raising=False)
    monkeypatch.setenv("DATASRE_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("DATASRE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("DATASRE_EXECUTOR", raising=False)
    monkeypatch.delenv("DATASRE_STORE", raising=False)
    yield


@pytest.fixture
def toy_contract_path(tmp_path: Path) -> Path:
    """A toy model with three clean days (see tests/fixtures.py)."""
    return write_model(tmp_path / "model")
