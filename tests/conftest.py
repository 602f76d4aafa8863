"""Shared fixtures: tests never touch the repository's .dagster/ or data/datasre.duckdb."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import write_model

#: The sample data's "as of" (data/samples/README.md).
SAMPLE_AS_OF = "2026-11-15T06:00:00+00:00"


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


@pytest.fixture(scope="session")
def sample_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store ``datasre run --all`` (what ``make run`` runs) writes from data/samples,
    at the data's "as of"; one per test session (~1 min), shared read-only."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("samples")
    db = root / "datasre.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.setenv("DATASRE_STAGING", str(root / "staging"))
        patch.delenv("DATASRE_STATE_DIR", raising=False)  # beside the db: root/datasre.state
        code = main(
            ["run", "--all", "--db", str(db), "--config", "data/samples/contracts",
             "--now", SAMPLE_AS_OF, "--quiet"]
        )  # fmt: skip
    assert code == 0
    return db
