"""``datasre gate`` / ``datasre waive`` end to end on fixture databases, with golden files.

Golden files live in tests/golden/gate/; regenerate them with
``DATASRE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/pipelines/test_gate_cli.py``
and review the diff. ISO timestamps are normalised before comparing.

The JUnit output is validated against tests/golden/junit.xsd with the xmlschema
validator (a dev dependency).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xmlschema
import yaml

from assets.store import SliStore
from assets.store.backends import STORE_BACKENDS, open_store
from assets.store.gate_store import GateStore
from checks.gate_verdict import Waiver
from pipelines.cli import main
from tests.gate_fixtures import DAY0, gate_contract, gate_contract_dict, write_history
from tests.golden_files import GOLDEN, assert_golden

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "gate-json-schema.json"
# The fixture histories end on 2026-11-10, evaluated 2026-11-11 06:00 UTC (data time).
AS_OF = "2026-11-11T12:00:00+00:00"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def _d(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day - 1)


@dataclass
class Env:
    db: Path
    config: Path
    extra: list[str] = field(default_factory=list)
    store: str = "duckdb"  # DATASRE_STORE: the same goldens hold on every backend

    def args(self, *argv: str) -> list[str]:
        return [*argv, "--db", str(self.db), "--config", str(self.config)]


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def env(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Env:
    """``toy`` is blocked (accuracy budget exhausted, a waived blocking breach, an infra
    warning); ``eta`` is ready. Once per store backend (the embedded DuckDB file, the lake)."""
    backend: str = request.param
    root = tmp_path_factory.mktemp(f"gate_cli_{backend}")
    config = root / "contracts"
    config.mkdir()
    (config / "toy.yaml").write_text(yaml.safe_dump(gate_contract_dict(), sort_keys=False))
    eta = gate_contract_dict(model="eta", runbook="https://runbooks.example.com/eta")
    (config / "eta.yaml").write_text(yaml.safe_dump(eta, sort_keys=False))
    store = open_store(root / ("sli.duckdb" if backend == "duckdb" else "lake"), backend)
    write_history(
        store,
        gate_contract(),
        10,
        bad={
            "accuracy": [_d(3), _d(9), _d(10)],
            "completeness": [_d(10)],
            "latency_p99_ms": [_d(5), _d(6)],
        },
    )
    write_history(store, gate_contract(model="eta"), 10)
    GateStore(store).add_waiver(
        Waiver(
            model="toy",
            model_version="1.0.0",
            slo="completeness",
            reason="upstream backfill lands on 2026-11-16",
            expires=dt.date(2026, 11, 20),
            waiver_id="w-fixture",
            created_at=dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC),  # before AS_OF
            created_by="sre-oncall",
        )
    )
    return Env(db=store.path, config=config, store=backend)


@pytest.fixture(autouse=True)
def _store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads ``DATASRE_STORE``: the backend of the test's ``env``, if it has one."""
    if "env" in request.fixturenames:
        monkeypatch.setenv("DATASRE_STORE", request.getfixturevalue("env").store)


def _normalise(text: str) -> str:
    return _TIMESTAMP.sub("<TIMESTAMP>", text)


def _golden(name: str, text: str) -> None:
    assert_golden(GOLDEN / "gate" / name, _normalise(text))


def _gate(env: Env, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(env.args("gate", "--as-of", AS_OF, "--no-record", *argv))
    out, err = capsys.readouterr()
    return code, out, err


GOLDEN_CASES = [
    ("toy", "text", 1, "blocked.txt"),
    ("toy", "json", 1, "blocked.json"),
    ("toy", "junit", 1, "blocked.junit.xml"),
    ("toy", "markdown", 1, "blocked.md"),
    ("eta", "text", 0, "ready.txt"),
    ("eta", "markdown", 0, "ready.md"),
]


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[c[3] for c in GOLDEN_CASES])
def test_gate_output_matches_golden_files(
    env: Env, capsys: pytest.CaptureFixture[str], case: tuple[str, str, int, str]
) -> None:
    model, fmt, code, golden = case
    exit_code, out, err = _gate(env, capsys, "--model", model, "--format", fmt)
    assert (exit_code, err) == (code, "")
    _golden(golden, out)


def test_blocked_text_names_the_slo_the_days_and_the_runbook(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _gate(env, capsys, "--model", "toy")
    line = next(x for x in out.splitlines() if "[block] model_budget_exhausted" in x)
    runbook = "runbook: docs/runbooks/quality_regression.md"
    for text in ("accuracy", "2026-11-03, 2026-11-09, 2026-11-10", runbook):
        assert text in line
    assert "[waived] blocking_breach" in out and "upstream backfill" in out
    assert "[warn] infra_budget_exhausted" in out


def test_json_output_follows_the_documented_schema(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for model in ("toy", "eta"):
        _, out, _ = _gate(env, capsys, "--model", model, "--format", "json")
        document = json.loads(out)
        jsonschema.Draft202012Validator(schema).validate(document)
        assert document["ready"] is (model == "eta")
        assert [c["name"] for c in document["checks"]] == [
            "contract",
            "evidence_fresh",
            "latest_run",
            "model_budget",
            "infra_budget",
        ]


# --- JUnit against tests/golden/junit.xsd -----------------------------------------------


def test_junit_output_is_valid_against_the_schema(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = xmlschema.XMLSchema(GOLDEN / "junit.xsd")
    for model, failures in (("toy", 1), ("eta", 0)):
        _, out, _ = _gate(env, capsys, "--model", model, "--format", "junit")
        assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
        schema.validate(out)  # raises XMLSchemaValidationError with the path on failure
        root = ET.fromstring(out.encode("utf-8"))
        assert root.tag == "testsuites"
        # What CI servers also rely on, beyond the schema: the counts add up.
        suite = root.find("testsuite")
        assert suite is not None
        cases = suite.findall("testcase")
        assert len(cases) == int(suite.attrib["tests"]) == 5
        assert sum(c.find("failure") is not None for c in cases) == failures
        assert int(suite.attrib["failures"]) == int(root.attrib["failures"]) == failures


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ('<testsuites time="1.2345"><testsuite name="x" tests="1" failures="0" errors="0"/>'
         "</testsuites>", "time"),
        ('<testsuites><testsuite name="x" tests="1" errors="0"/></testsuites>', "failures"),
        ('<testsuites><testsuite name="x" tests="1" failures="0" errors="0">'
         '<testcase classname="c"/></testsuite></testsuites>', "name"),
        ('<testsuites><testsuite name="x" tests="1" failures="0" errors="0">'
         '<testcase name="n"><bogus/></testcase></testsuite></testsuites>', "bogus"),
    ],
)  # fmt: skip
def test_the_schema_rejects_broken_junit(document: str, complaint: str) -> None:
    schema = xmlschema.XMLSchema(GOLDEN / "junit.xsd")
    with pytest.raises(xmlschema.XMLSchemaValidationError, match=complaint):
        schema.validate(document)


def test_markdown_stays_under_the_step_summary_limit(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _gate(env, capsys, "--model", "toy", "--format", "markdown")
    assert len(out.encode("utf-8")) < 1024 * 1024
    assert out.startswith("## ❌ datasre gate: `toy` 1.0.0 is blocked")


# --- options, audit and exit codes -------------------------------------------------------


def test_output_file_and_audit_trail(
    env: Env, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = GateStore(open_store(env.db, env.store)).decisions("eta").height
    report = tmp_path / "reports" / "gate.xml"
    code = main(
        env.args("gate", "--model", "eta", "--format", "junit", "--output", str(report),
                 "--as-of", AS_OF)
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0
    assert report.read_text(encoding="utf-8").startswith("<?xml")
    assert "eta 1.0.0: ready" in err
    trail = GateStore(open_store(env.db, env.store)).decisions("eta")
    assert trail.height == before + 1 and trail["ready"][0] is True


def test_max_evidence_age_option(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    # The newest partition, 2026-11-10, was evaluated 2026-11-11 06:00: at 2026-11-12
    # 11:00 it is 29 h old.
    argv = ["--model", "eta", "--max-evidence-age-hours", "24"]
    code = main(env.args("gate", "--as-of", "2026-11-12T11:00:00+00:00", "--no-record", *argv))
    out, _ = capsys.readouterr()
    assert code == 1 and "evidence_stale" in out and "29.0 h before the decision time" in out


def test_an_older_version_without_evidence_is_blocked(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _gate(env, capsys, "--model", "eta", "--version", "0.1.0")
    assert code == 1 and "evidence_missing" in out
    # A version with no run at all (a typo?) names the versions that have runs.
    assert "datasre gate: note: eta 0.1.0 has no runs; versions with runs: " in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "nope"], "unknown model 'nope'"),
        (["--model", "toy", "--as-of", "yesterday"], "--as-of"),
        (["--model", "toy", "--max-evidence-age-hours", "0"], "--max-evidence-age-hours"),
        (["--model", "toy", "--max-evidence-age-hours", "nan"], "--max-evidence-age-hours"),
        (["--model", "toy", "--max-evidence-age-hours", "1e12"], "--max-evidence-age-hours"),
    ],
    ids=[
        "an unknown model",
        "a bad --as-of",
        "a non-positive evidence age",
        "a NaN evidence age",
        "an evidence age past a year (a traceback)",
    ],
)
def test_usage_errors_exit_2_with_one_line(
    env: Env, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(env.args("gate", *argv))
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_a_missing_database_exits_2(
    env: Env, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["gate", "--model", "toy", "--db", str(tmp_path / "none.duckdb"),
                 "--config", str(env.config)])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2 and "no SLI database" in err
    assert not (tmp_path / "none.duckdb").exists()


def test_waive_then_gate_honours_the_waiver(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "contracts"
    config.mkdir()
    (config / "toy.yaml").write_text(yaml.safe_dump(gate_contract_dict(), sort_keys=False))
    store = SliStore(tmp_path / "w.duckdb")
    # Days 8-10, so the evidence is fresh at AS_OF.
    write_history(store, gate_contract(), 3, bad={"accuracy": [_d(9)]}, start=_d(8))
    env = Env(db=store.path, config=config)
    assert _gate(env, capsys, "--model", "toy")[0] == 1
    monkeypatch.setenv("DATASRE_NOW", AS_OF)  # waive checks the expiry against this clock
    code = main(env.args("waive", "--model", "toy", "--slo", "accuracy",
                         "--reason", "label pipeline lag", "--expires", "2026-11-30"))  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0 and "accuracy waived until 2026-11-30" in out
    code, out, _ = _gate(env, capsys, "--model", "toy")
    assert code == 0 and "[waived] model_budget_exhausted" in out
    # A built-in SLO the contract does not declare is in force, so it can be waived (the
    # runbooks say to; it was refused as "not an SLO").
    code = main(env.args("waive", "--model", "toy", "--slo", "clock_skew_seconds",
                         "--reason", "upstream clock fix", "--expires", "2026-11-30"))  # fmt: skip
    assert code == 0 and "clock_skew_seconds waived" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--slo", "rmse", "--expires", "2999-01-01"], "not an SLO of toy.yaml"),
        (["--slo", "acuracy", "--expires", "2999-01-01"], "did you mean 'accuracy'?"),
        (["--slo", "accuracy", "--expires", "2000-01-01"], "in the past"),
        (["--slo", "accuracy", "--expires", "2999-01-01"], "is more than 90 days ahead"),
        (["--slo", "accuracy", "--expires", "soon"], "not a YYYY-MM-DD day"),
    ],
    ids=[
        "an undeclared SLO",
        "a misspelt SLO",
        "an expiry in the past",
        "an expiry too far",
        "a malformed expiry",
    ],
)
def test_waive_usage_errors_exit_2(
    env: Env, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(env.args("waive", "--model", "toy", "--reason", "r", *argv))
    _, err = capsys.readouterr()
    assert code == 2 and message in err


def test_the_ci_example_uses_real_gate_options() -> None:
    """examples/ci/github-actions.yml parses, and its datasre commands parse too."""
    import shlex

    from pipelines.cli import build_parser

    workflow_path = Path(__file__).resolve().parents[2] / "examples" / "ci" / "github-actions.yml"
    workflow = yaml.safe_load(workflow_path.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["gate"]["steps"]
    script = next(s["run"] for s in steps if s.get("id") == "gate")
    commands = [
        shlex.split(line.strip().removesuffix("|| true"))
        for line in script.replace("\\\n", " ").splitlines()
        if line.strip().startswith("datasre gate")
    ]
    assert {c[c.index("--format") + 1] for c in commands} == {"json", "junit", "markdown"}
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(command[1:])
        assert args.command == "gate" and args.output
    assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps)


def test_another_models_broken_contract_is_a_warning_not_this_models_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One team's typo in a shared contract directory failed every model's gate with its
    error (new-user walkthrough). The model asked about still needs a valid contract."""
    config = tmp_path / "contracts"
    config.mkdir()
    (config / "toy.yaml").write_text(yaml.safe_dump(gate_contract_dict(), sort_keys=False))
    broken = gate_contract_dict(model="other")
    broken["features"]["x"]["nullabel"] = True
    (config / "other.yaml").write_text(yaml.safe_dump(broken, sort_keys=False))
    (config / "garbled.yaml").write_text("model: [unclosed\n")
    store = SliStore(tmp_path / "s.duckdb")
    write_history(store, gate_contract(), 3, start=_d(8))
    env = Env(db=store.path, config=config)
    code, out, err = _gate(env, capsys, "--model", "toy")
    assert code == 0 and "READY" in out
    assert "warning: skipped an invalid contract" in err and "other.yaml" in err
    assert "nullabel: unknown key (did you mean 'nullable'?)" in err
    assert "garbled.yaml" in err
    # The broken model itself: its own error, exit 2.
    code, _, err = _gate(env, capsys, "--model", "other")
    assert code == 2 and "features.x.nullabel: unknown key" in err
    # An unknown model: known ones named; the file that cannot be read may be the one.
    (config / "garbled.yaml").unlink()
    code, _, err = _gate(env, capsys, "--model", "nope")
    assert code == 2 and "unknown model 'nope'" in err and "(known: toy)" in err
    # contract check stays strict about every file.
    assert main(["contract", "check", str(config)]) == 2


def test_a_bare_day_as_of_is_midnight_utc_and_says_so(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--as-of 2026-11-15`` silently meant midnight UTC (new-user walkthrough)."""
    code = main(env.args("gate", "--model", "eta", "--as-of", "2026-11-11", "--no-record"))
    out, err = capsys.readouterr()
    assert "decided at 2026-11-11T00:00:00+00:00" in out
    assert err == (
        "datasre: note: --as-of 2026-11-11 is 2026-11-11T00:00:00Z, the start of that day "
        "(UTC); give a time to say otherwise\n"
    )
    assert code in (0, 1)
    main(env.args("gate", "--model", "eta", "--as-of", AS_OF, "--no-record"))
    assert capsys.readouterr().err == ""
