"""`datasre run`: a category the training data never had, on 1% of one day's rows, is
flagged on that first day by ``unseen_category_rate``, while ``schema_validity`` (0.99)
and the chi2 drift rule (JS > 0.1) let it through, and it spends the built-in SLO's budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import yaml

from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model

NOW = "2026-04-01T00:00:00+00:00"
ROWS = 400
NEW_DAY = FIRST_DAY + dt.timedelta(days=2)


def _model(tmp_path: Path) -> Path:
    body = contract_dict()
    # As in many real contracts, the categorical feature declares no allowed_values.
    body["features"] = {**body["features"], "c": {"dtype": "String", "nullable": True}}
    contract = write_model(tmp_path, days=3, rows=ROWS, contract=body)
    path = tmp_path / "toy" / "features" / f"{NEW_DAY.isoformat()}.parquet"
    pl.read_parquet(path).with_columns(
        pl.when(pl.int_range(pl.len()) % 100 == 7)  # 4 rows of 400
        .then(pl.lit("d"))
        .otherwise(pl.col("c"))
        .alias("c")
    ).write_parquet(path)
    return contract


def _run(contract: Path, db: Path) -> None:
    argv = ["run", "--config", str(contract), "--db", str(db), "--now", NOW, "--quiet", "--all"]
    assert main(argv) == 0


def test_a_one_percent_new_category_breaches_on_its_first_day(tmp_path: Path) -> None:
    contract = _model(tmp_path)
    db = tmp_path / "s.duckdb"
    _run(contract, db)
    store = SliStore(db)
    unseen = store.query(
        "select partition, feature, value, n_rows, objective, comparator, ok, detail "
        "from sli_latest where sli = 'unseen_category_rate' order by partition"
    )
    assert unseen.rows() == [
        ("2026-03-02", "c", 0.0, ROWS, 0.0, "<=", True, None),
        ("2026-03-03", "c", 0.0, ROWS, 0.0, "<=", True, None),
        (
            NEW_DAY.isoformat(),
            "c",
            0.01,
            ROWS,
            0.0,
            "<=",
            False,
            "1 category the baseline never had: 'd' 4 rows",
        ),
    ]
    others = store.query(
        "select sli, ok from sli_latest where partition = ? and feature = 'c' "
        "and sli in ('chi2', 'null_rate') or (partition = ? and sli = 'schema_validity')",
        [NEW_DAY.isoformat(), NEW_DAY.isoformat()],
    )
    assert sorted(others.rows()) == [("chi2", True), ("null_rate", True), ("schema_validity", True)]
    budget = store.query(
        "select evaluations, bad, latest_status from error_budget "
        "where slo = 'unseen_category_rate'"
    )
    assert budget.rows() == [(3, 1, "bad")]


def test_a_contract_may_tolerate_one_percent(tmp_path: Path) -> None:
    contract = _model(tmp_path)
    body = yaml.safe_load(contract.read_text(encoding="utf-8"))
    body["slos"]["model"]["unseen_category_rate"] = {"objective": 0.01}
    contract.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    db = tmp_path / "s.duckdb"
    _run(contract, db)
    rows = SliStore(db).fetchall(
        "select value, objective, ok from sli_latest "
        "where sli = 'unseen_category_rate' and partition = ?",
        [NEW_DAY.isoformat()],
    )
    assert rows == [(0.01, 0.01, True)]
