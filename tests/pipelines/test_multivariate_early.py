"""``datasre run`` starts a partition's multivariate SLIs on a thread beside its other
steps; the step takes them, or computes them itself when that did not work."""

from __future__ import annotations

import threading
from pathlib import Path

import polars as pl
import pytest

import assets.multivariate
from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import FIRST_DAY


def _recorded(db: Path) -> pl.DataFrame:
    return SliStore(db).query(
        "select sli, value, status, detail from sli_latest "
        "where sli in ('domain_classifier_auc', 'pca_reconstruction_error') order by sli"
    )


def _run(contract: Path, db: Path) -> int:
    return main(
        ["run", "--config", str(contract), "--db", str(db), "--quiet",
         "--partition", FIRST_DAY.isoformat()]
    )  # fmt: skip


def test_the_step_takes_the_rows_computed_early_on_their_own_thread(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = assets.multivariate.multivariate_slis
    threads: list[str] = []

    def counted(*args: object, **kwargs: object) -> pl.DataFrame:
        threads.append(threading.current_thread().name)
        return computed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assets.multivariate, "multivariate_slis", counted)
    assert _run(toy_contract_path, tmp_path / "early.duckdb") == 0
    assert threads == [f"early-{assets.multivariate.STEP}"]  # once, not again in the step
    early = _recorded(tmp_path / "early.duckdb")
    assert early.height > 0

    # The same rows as the step computing them itself.
    monkeypatch.setattr(assets.multivariate, "start_multivariate_early", lambda *_: None)
    threads.clear()
    assert _run(toy_contract_path, tmp_path / "inline.duckdb") == 0
    assert threads == ["MainThread"]
    assert _recorded(tmp_path / "inline.duckdb").equals(early)


def test_an_early_failure_is_computed_again_by_the_step(
    toy_contract_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed = assets.multivariate.multivariate_slis

    def fails_early(*args: object, **kwargs: object) -> pl.DataFrame:
        if threading.current_thread().name.startswith("early-"):
            raise MemoryError("injected on the early thread")
        return computed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assets.multivariate, "multivariate_slis", fails_early)
    assert _run(toy_contract_path, tmp_path / "s.duckdb") == 0
    assert _recorded(tmp_path / "s.duckdb").height > 0
