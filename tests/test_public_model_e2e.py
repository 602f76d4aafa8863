"""End to end on a third model laid out from a published data set (examples/public_model):
Fair's (1978) affairs survey from statsmodels, a real scikit-learn logistic regression,
integer (Int64) ids in every source, 14 days from 2026-11-01 whose labels flip for 30% of
the rows from 2026-11-09 on. Generated fresh into a temp dir by the example's own
``generate.py``, run through the real CLI and Dagster job, quality checked against
``sklearn.metrics`` computed independently on the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from assets.store import SliStore
from pipelines.cli import main

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "public_model"
MODEL = "fair_affairs"
AS_OF = "2026-11-15T06:00:00+00:00"  # partition 2026-11-14 is evaluated at 11-15 06:00
DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(14)]
DROP_FROM = dt.date(2026, 11, 9)  # generate.py's DROP_FROM
ACCURACY_OBJECTIVE = 0.66  # contract.yaml
ID = "request_id"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh generation beside a copy of the contract; returns the contract's path."""
    root = tmp_path_factory.mktemp("public_model")
    shutil.copy(EXAMPLE / "contract.yaml", root / "contract.yaml")
    subprocess.run(
        [sys.executable, str(EXAMPLE / "generate.py"), "--out", str(root)],
        check=True,
        capture_output=True,
    )
    return root / "contract.yaml"


@pytest.fixture(scope="module")
def store_path(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("public_state")
    db = root / "datasre.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.setenv("DATASRE_STAGING", str(root / "staging"))
        patch.delenv("DATASRE_STATE_DIR", raising=False)  # the state dir: beside the db
        code = main(
            ["run", "--all", "--db", str(db), "--config", str(generated), "--now", AS_OF,
             "--quiet"]
        )  # fmt: skip
    assert code == 0
    yield db


@pytest.fixture(scope="module")
def latest(store_path: Path) -> pl.DataFrame:
    return SliStore(store_path).query(f"select * from sli_latest where model = '{MODEL}'")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_the_committed_files_are_what_generate_py_writes(generated: Path) -> None:
    fresh = _files(generated.parent / MODEL)
    committed = _files(EXAMPLE / MODEL)
    assert len(fresh) == 2 + 3 * len(DAYS)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == [], "run: python examples/public_model/generate.py"


def test_ids_are_int64_in_every_source_and_unique_per_day(generated: Path) -> None:
    root = generated.parent / MODEL
    assert pl.read_parquet_schema(root / "training.parquet")[ID] == pl.Int64
    for day in DAYS:
        frames = [pl.read_parquet(root / kind / f"{day}.parquet") for kind in
                  ("features", "predictions", "labels")]  # fmt: skip
        assert [frame.schema[ID] for frame in frames] == [pl.Int64] * 3
        assert all(frame[ID].n_unique() == frame.height == 500 for frame in frames)
        assert frames[0][ID].sort().equals(frames[2][ID].sort())


def test_the_contract_checks(generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "check", str(EXAMPLE / "contract.yaml")]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("fair_affairs ")


def _quality_from_files(root: Path, day: dt.date) -> tuple[float, float]:
    """(accuracy, ROC AUC) by scikit-learn on the day's predictions joined to its labels."""
    joined = pl.read_parquet(root / "predictions" / f"{day}.parquet").join(
        pl.read_parquet(root / "labels" / f"{day}.parquet"), on=ID, how="inner"
    )
    truth = joined["had_affair"].to_numpy()
    accuracy = accuracy_score(truth, joined["predicted_affair"].to_numpy())
    auc = roc_auc_score(truth, joined["affair_score"].to_numpy())
    return float(accuracy), float(auc)


def _model_wide(latest: pl.DataFrame, sli: str, day: dt.date) -> dict[str, object]:
    rows = latest.filter(
        (pl.col("sli") == sli)
        & (pl.col("partition") == day.isoformat())
        & pl.col("slice").is_null()
    )
    assert rows.height == 1, f"{sli} on {day}: {rows.height} rows"
    return rows.row(0, named=True)


def test_quality_matches_sklearn_and_drops_below_the_objective_from_the_ninth(
    generated: Path, latest: pl.DataFrame
) -> None:
    root = generated.parent / MODEL
    for day in DAYS:
        expected_accuracy, expected_auc = _quality_from_files(root, day)
        accuracy = _model_wide(latest, "accuracy", day)
        auc = _model_wide(latest, "roc_auc", day)
        assert accuracy["value"] == pytest.approx(expected_accuracy, abs=1e-12)
        assert auc["value"] == pytest.approx(expected_auc, abs=1e-9)
        assert accuracy["n_rows"] == 500
        if day < DROP_FROM:
            assert expected_accuracy >= ACCURACY_OBJECTIVE + 0.02, day
            assert accuracy["ok"] is True, day
        else:
            assert expected_accuracy <= ACCURACY_OBJECTIVE - 0.04, day
            assert accuracy["ok"] is False, day
            assert accuracy["blocking"] is True


def test_no_drift_incompleteness_or_staleness_on_any_day(latest: pl.DataFrame) -> None:
    # The days are a resample of the held-out population and the drop flips labels only,
    # so nothing but quality may move: features, predictions and freshness stay clean.
    watched = latest.filter(
        pl.col("category").is_in(["drift", "prediction_drift", "completeness", "freshness"])
    )
    assert watched["partition"].n_unique() == len(DAYS)
    assert watched.filter(pl.col("ok") == False).is_empty()  # noqa: E712
    assert set(watched["sli"]) >= {"ks", "chi2", "drifted_feature_share", "completeness",
                                   "data_staleness_seconds", "model_age_days"}  # fmt: skip


def test_the_only_breaches_are_quality_from_the_drop_day(latest: pl.DataFrame) -> None:
    # Integer ids in features, predictions and labels must not be a schema breach.
    breaches = latest.filter(pl.col("ok") == False)  # noqa: E712
    assert breaches.filter(pl.col("sli") == "schema_valid")["detail"].to_list() == []
    assert set(breaches["sli"]) == {"accuracy", "roc_auc"}
    assert sorted(set(breaches["partition"])) == [d.isoformat() for d in DAYS if d >= DROP_FROM]


def _gate(
    store: Path, contract: Path, as_of: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    code = main(
        ["gate", "--model", MODEL, "--db", str(store), "--config", str(contract), "--as-of",
         as_of, "--format", "json", "--no-record"]
    )  # fmt: skip
    verdict: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == (0 if verdict["verdict"] == "ready" else 1)
    return verdict


def test_the_gate_replayed_day_by_day_flips_to_blocked_when_quality_drops(
    store_path: Path, generated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Partition D is evaluated at D + 1 day + 6 h, so at D + 1 day 12:00 the newest evidence
    # is D's: READY through 2026-11-08's data, BLOCKED on accuracy from 2026-11-09's on.
    for day in DAYS:
        as_of = f"{day + dt.timedelta(days=1)}T12:00:00+00:00"
        verdict = _gate(store_path, generated, as_of, capsys)
        assert verdict["reference_day"] == day.isoformat(), as_of
        if day < DROP_FROM:
            assert verdict["verdict"] == "ready", (as_of, verdict["reasons"])
        else:
            assert verdict["verdict"] == "blocked", as_of
            blocking = {(r["code"], r.get("slo")) for r in verdict["reasons"]}
            assert ("blocking_breach", "accuracy") in blocking, (as_of, blocking)
