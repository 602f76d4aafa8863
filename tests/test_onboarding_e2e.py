"""Acceptance of issue 16 on real runs of the bundled data (data/samples/README.md):

- every ``ok = false`` row of a sample run maps to the runbook of the right incident class;
- ``datasre explain`` ranks the two shifted features first on the covariate-shift days,
  ``country=BR`` first on the slice-incident day, and names 2026-11-09 as the onset of the
  concept drift's accuracy breach;
- ``datasre init`` on each sample model's files drafts a contract that, run over the 14
  days, catches every breach the shipped contract catches and adds only side effects of
  documented incidents; on the public data set (examples/public_model) one command does
  it, and the run catches its quality drop (2026-11-09 on) and nothing on the clean days.

Three whole runs (shipped contracts, drafted sample contracts, drafted public contract).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from assets.store import SliStore
from checks.contract import Contract, load_contracts
from checks.runbooks import IncidentClass, incident_class, runbook_for
from pipelines.cli import main
from pipelines.commands.explain import explain
from tests.pipelines.test_init_cli import init_argv

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-15T06:00:00+00:00"
FRAUD, DELIVERY = "fraud_detection", "delivery_eta"
SHIFTED = {"avg_amount_30d", "session_duration_s"}


def _days(first: int, last: int) -> list[str]:
    return [dt.date(2026, 11, d).isoformat() for d in range(first, last + 1)]


def _run(config: Path, root: Path) -> Path:
    db = root / "datasre.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.setenv("DATASRE_STAGING", str(root / "staging"))
        patch.delenv("DATASRE_STATE_DIR", raising=False)
        argv = ["run", "--all", "--db", str(db), "--config", str(config), "--now", AS_OF]
        assert main([*argv, "--quiet"]) == 0
    return db


def _breaches(db: Path) -> pl.DataFrame:
    return SliStore(db).query(
        "select model, partition, category, sli, feature, slice, status, runbook from sli_latest "
        "where ok = false order by all"
    )


@pytest.fixture(scope="module")
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(REPO / "data" / "samples" / "contracts", tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="module")
def drafted_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("drafted")
    for model in (FRAUD, DELIVERY):
        assert main(init_argv(model, root / "contracts" / f"{model}.yaml")) == 0
    yield _run(root / "contracts", root)


# --- runbooks -----------------------------------------------------------------------

#: The class each failing (category, sli) of the sample run must get, written out here
#: independently of checks.runbooks.
EXPECTED_CLASS = {
    ("ingest", "ingest_ok"): IncidentClass.MISSING_SNAPSHOT,
    ("schema", "schema_valid"): IncidentClass.SCHEMA_BREAK,
    ("schema", "schema_validity"): IncidentClass.SCHEMA_BREAK,
    ("schema", "duplicate_id_rate"): IncidentClass.SCHEMA_BREAK,
    ("completeness", "completeness"): IncidentClass.NULL_BURST,
    ("completeness", "null_rate"): IncidentClass.NULL_BURST,
    ("freshness", "data_staleness_seconds"): IncidentClass.STALE_DATA,
    ("drift", "ks"): IncidentClass.COVARIATE_DRIFT,
    ("drift", "domain_classifier_auc"): IncidentClass.COVARIATE_DRIFT,
    ("drift", "pca_reconstruction_error"): IncidentClass.COVARIATE_DRIFT,
    ("drift", "psi"): IncidentClass.COVARIATE_DRIFT,
    ("drift", "chi2"): IncidentClass.COVARIATE_DRIFT,
    ("drift", "drifted_feature_share"): IncidentClass.COVARIATE_DRIFT,
    ("quality", "accuracy"): IncidentClass.QUALITY_REGRESSION,
    ("quality", "slice_accuracy"): IncidentClass.SLICE_REGRESSION,
}


def test_every_failed_row_of_the_sample_run_gets_the_runbook_of_its_class(
    shipped_db: Path,
) -> None:
    contracts = {c.model: c for c in load_contracts(REPO / "data" / "samples" / "contracts")}
    failed = _breaches(shipped_db)
    assert failed.height > 0
    kinds = set(failed.select("category", "sli").unique().iter_rows())
    assert kinds == set(EXPECTED_CLASS), "a new kind of failed row: give it its expected class"
    for row in failed.iter_rows(named=True):
        found = incident_class(row["category"], row["sli"], row["status"])
        assert found == EXPECTED_CLASS[(row["category"], row["sli"])], row
        link = runbook_for(found, contracts[row["model"]])
        assert (REPO / link).is_file(), link
        # The row itself carries it: what an SRE's query and the alert annotation read.
        assert row["runbook"] == link, row


# --- explain ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fraud(shipped_db: Path) -> tuple[Contract, pl.DataFrame]:
    (contract,) = [
        c for c in load_contracts(REPO / "data" / "samples" / "contracts") if c.model == FRAUD
    ]
    slis = SliStore(shipped_db).query(
        "select partition, category, sli, feature, slice, method, value, objective, "
        "comparator, ok, n_rows, status from sli_latest where model = ?",
        [FRAUD],
    )
    return contract, slis


@pytest.mark.parametrize("day", _days(6, 14))
def test_explain_ranks_the_two_shifted_features_first_on_covariate_shift_days(
    fraud: tuple[Contract, pl.DataFrame], day: str
) -> None:
    contract, slis = fraud
    result = explain(contract, slis, day, "drifted_feature_share")
    top_two = {f["feature"] for f in result["drift"]["features"][:2]}
    assert top_two == SHIFTED
    assert result["drift"]["importance_weighted_drift"] > 0.03


def test_explain_ranks_country_br_first_on_the_slice_incident_day(
    fraud: tuple[Contract, pl.DataFrame], capsys: pytest.CaptureFixture[str], shipped_db: Path
) -> None:
    contract, slis = fraud
    result = explain(contract, slis, "2026-11-07", "slice_accuracy")
    slices = result["quality"]["slices"]
    assert slices[0]["slice"] == "country=BR"
    assert slices[0]["share"] > 0.5
    config = str(REPO / "data" / "samples" / "contracts")
    argv = ["explain", "--model", FRAUD, "--partition", "2026-11-07", "--db", str(shipped_db)]
    assert main([*argv, "--config", config]) == 0
    out = capsys.readouterr().out
    assert "2026-11-07: slice_accuracy" in out.splitlines()[0]
    quality = out.splitlines().index(next(x for x in out.splitlines() if x.startswith("quality")))
    assert out.splitlines()[quality + 2].split()[0] == "country=BR"


@pytest.mark.parametrize("day", _days(9, 12))
def test_explain_names_the_onset_of_the_concept_drift_quality_drop(
    fraud: tuple[Contract, pl.DataFrame], day: str
) -> None:
    contract, slis = fraud
    result = explain(contract, slis, day, "accuracy")
    assert result["since"]["first_day"] == "2026-11-09"
    assert result["since"]["last_day"] == day


# --- init ---------------------------------------------------------------------------


def _breach_keys(frame: pl.DataFrame) -> set[tuple[str, str, str]]:
    return set(frame.select("model", "partition", "sli").unique().iter_rows())


#: Breaches the drafted contracts add, each a documented incident's side effect: the
#: drafted fraud contract slices by every low-cardinality string (not only country), so
#: on 11-08 the slices of the missing `channel` column error (incident d) and in the
#: concept-drift window (incident h, accuracy already breached) more slices fall.
ALLOWED_NEW = {
    (FRAUD, "2026-11-08", "slice_accuracy"),
    *((FRAUD, day, "slice_accuracy") for day in _days(9, 12)),
}


def test_drafted_contracts_catch_every_breach_of_the_shipped_ones_and_no_new_false_alarm(
    shipped_db: Path, drafted_db: Path
) -> None:
    shipped, drafted = _breach_keys(_breaches(shipped_db)), _breach_keys(_breaches(drafted_db))
    assert shipped - drafted == set()
    assert drafted - shipped <= ALLOWED_NEW
    clean = _breaches(drafted_db).filter(
        (pl.col("model") == FRAUD) & pl.col("partition").is_in(_days(1, 3))
        | (pl.col("model") == DELIVERY) & (pl.col("partition") != "2026-11-08")
    )
    assert clean.height == 0


def test_one_init_command_on_the_public_data_set_catches_its_quality_drop(
    tmp_path: Path,
) -> None:
    contract = tmp_path / "contracts" / "fair_affairs.yaml"
    assert main(init_argv("fair_affairs", contract)) == 0
    failed = _breaches(_run(contract.parent, tmp_path))
    drop = _days(9, 14)
    accuracy = failed.filter(pl.col("sli") == "accuracy").get_column("partition").to_list()
    assert accuracy == drop
    assert failed.filter(~pl.col("partition").is_in(drop)).height == 0
    assert set(failed.get_column("sli").to_list()) <= {"accuracy", "slice_accuracy"}


def test_explain_json_and_a_day_without_rows_is_one_line(
    shipped_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(REPO / "data" / "samples" / "contracts")
    argv = ["explain", "--model", FRAUD, "--db", str(shipped_db), "--config", config]
    assert main([*argv, "--partition", "2026-11-12", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["slo"], result["since"]["first_day"]) == ("accuracy", "2026-11-09")
    assert result["also_breached"] == ["drifted_feature_share"]  # none hidden
    assert main([*argv, "--partition", "2026-12-01"]) == 2
    assert capsys.readouterr().err == (
        f"datasre: error: --partition: no rows of {FRAUD} on 2026-12-01 "
        "(days in the store: 2026-11-01 .. 2026-11-14); record it with "
        f"`datasre run --model {FRAUD} --partition 2026-12-01`\n"
    )
