"""Events from the future through ``datasre run`` and ``datasre gate``: the issue's case
(events 30 days ahead gave ``data_staleness_seconds = -2570116``, ok, READY)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from assets.store import SliStore
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, write_model

NOW = "2026-04-01T00:00:00+00:00"
AS_OF = "2026-03-03T12:00:00+00:00"


def test_events_thirty_days_ahead_breach_clock_skew_and_block_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = write_model(tmp_path, days=1)
    features = tmp_path / "toy" / "features" / f"{FIRST_DAY.isoformat()}.parquet"
    frame = pl.read_parquet(features)
    frame.with_columns(pl.col("event_ts") + dt.timedelta(days=30)).write_parquet(features)
    db = tmp_path / "s.duckdb"
    common = ["--config", str(contract), "--db", str(db)]
    day = FIRST_DAY.isoformat()
    assert main(["run", *common, "--now", NOW, "--quiet", "--partition", day]) == 0
    summary = capsys.readouterr().out
    assert "breached" in summary and "clock_skew_seconds[event_ts]" in summary
    rows = SliStore(db).query(
        "select sli, value, ok, blocking, status from sli_latest "
        "where sli in ('data_staleness_seconds', 'clock_skew_seconds') order by sli"
    )
    skew, staleness = rows.rows(named=True)
    assert (skew["ok"], skew["blocking"]) == (False, True)
    assert skew["value"] > 29 * 86_400
    # Never negative: no event at or before the evaluation time, so no staleness value.
    assert (staleness["value"], staleness["status"], staleness["ok"]) == (None, "error", False)

    code = main(["gate", *common, "--model", "toy", "--as-of", AS_OF, "--format", "json"])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1 and verdict["verdict"] == "blocked"
    blocking = {r["slo"] for r in verdict["reasons"] if r["severity"] == "block"}
    assert "clock_skew_seconds" in blocking
