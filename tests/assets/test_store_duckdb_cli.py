"""The store file opens in the DuckDB CLI a data SRE installs today (PyPI ``duckdb-cli``
1.5.x), whose reader cannot open DuckDB 2.0's default storage format."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assets.store import SliStore
from tests.gate_fixtures import DAY0, gate_contract, write_history


def _duckdb_cli() -> str:
    beside = Path(sys.executable).with_name("duckdb")
    found = str(beside) if beside.exists() else shutil.which("duckdb")
    if found is None:
        pytest.skip("duckdb-cli is not installed (the dev extra installs it)")
    return found


def test_the_store_opens_in_the_duckdb_1_5_cli_with_its_views(tmp_path: Path) -> None:
    cli = _duckdb_cli()
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.5"), version.stdout
    store = SliStore(tmp_path / "sli.duckdb")
    write_history(store, gate_contract(), 4, bad={"accuracy": [DAY0]})
    query = (
        "select (select count(*) from sli_latest) as rows, "
        "(select count(*) from slo_status) as slos, "
        "(select count(*) from error_budget where exhausted) as exhausted"
    )
    out = subprocess.run(
        [cli, "-readonly", "-csv", str(store.path), "-c", query],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    header, values = out.stdout.strip().splitlines()
    assert header == "rows,slos,exhausted"
    rows, slos, exhausted = (int(v) for v in values.split(","))
    expected = store.fetchall(
        "select (select count(*) from sli_latest), (select count(*) from slo_status), "
        "(select count(*) from error_budget where exhausted)"
    )
    assert (rows, slos, exhausted) == expected[0]
    assert rows > 0 and slos > 0


def test_the_duckdb_cli_queries_the_store_the_sample_run_writes(sample_store_path: Path) -> None:
    # The file `make run` (`datasre run --all` on data/samples) writes, opened read-only
    # by the 1.5 CLI a data SRE installs from PyPI.
    cli = _duckdb_cli()
    out = subprocess.run(
        [cli, "-readonly", "-csv", str(sample_store_path), "-c",
         "select count(*) as n from sli_latest"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    header, value = out.stdout.strip().splitlines()
    assert header == "n"
    expected = SliStore(sample_store_path).fetchall("select count(*) from sli_latest")[0][0]
    assert int(value) == expected
    assert expected > 2000  # 14 days of two models (README: 59 and 163 rows a day)
