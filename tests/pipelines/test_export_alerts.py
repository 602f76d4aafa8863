"""``datasre export alerts``: promtool accepts the rules, and ``promtool test rules`` on
series built from the real sample run proves the rules page exactly when datasre's own
alert level (checks.slo.alert_level, the gate's) is ``page``: on the incident days, and
never on the clean days of fraud_detection nor on delivery_eta, whose one bad day stays
within its budget.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.runbooks import reason_incident_class
from checks.slo import AlertLevel, alert_level
from pipelines.cli import main
from pipelines.exports.alert_rules import (
    CRASH_ALERT,
    EVIDENCE_BLOCKED_ALERT,
    PAGE_ALERT,
    STALE_ALERT,
    TICKET_ALERT,
)
from tests.promtool import parse_samples, run_promtool

CONTRACTS = "data/samples/contracts"
FIRST_DAY = dt.date(2026, 11, 1)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(14)]
#: data/samples/README.md: partition D is evaluated at D + 1 day + 6 h.
EVALUATION_DELAY = dt.timedelta(days=1, hours=6)


def _cli(*args: str) -> None:
    assert main([*args, "--config", CONTRACTS]) == 0


@pytest.fixture(scope="module")
def rule_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rules") / "datasre.rules.yml"
    _cli("export", "alerts", "--format", "rules", "--output", str(out))
    return out


@pytest.fixture(scope="module")
def daily_expositions(
    sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """The export as the daily job would have written it after each day's run."""
    root = tmp_path_factory.mktemp("daily")
    texts = []
    for day in DAYS:
        as_of = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + EVALUATION_DELAY
        out = root / f"{day}.prom"
        _cli(
            "export", "prometheus", "--db", str(sample_store_path),
            "--as-of", as_of.isoformat(), "--output", str(out),
        )  # fmt: skip
        texts.append(out.read_text(encoding="utf-8"))
    return texts


def test_promtool_accepts_the_rule_file(rule_file: Path) -> None:
    checked = run_promtool("check", "rules", str(rule_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_each_prometheus_rule_holds_the_plain_group_of_its_contract(
    rule_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    _cli("export", "alerts")  # default format: prometheus-rule, to stdout
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    plain = yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]
    assert [d["kind"] for d in documents] == ["PrometheusRule", "PrometheusRule"]
    assert {d["apiVersion"] for d in documents} == {"monitoring.coreos.com/v1"}
    assert [d["metadata"]["name"] for d in documents] == [
        "datasre-delivery-eta",
        "datasre-fraud-detection",
    ]
    assert [group for d in documents for group in d["spec"]["groups"]] == plain
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump({"groups": documents[1]["spec"]["groups"]}), encoding="utf-8")
    assert run_promtool("check", "rules", str(spec)).returncode == 0


def test_shipped_runbooks_become_urls_under_a_base_and_contract_links_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alertmanager needs a URL; a relative docs/runbooks path linked nowhere (new-user
    walkthrough)."""
    out = tmp_path / "rules.yml"
    base = "https://github.com/acme/datasre/blob/main"
    monkeypatch.setenv("DATASRE_RUNBOOK_BASE_URL", base)
    _cli("export", "alerts", "--format", "rules", "--output", str(out))
    groups = yaml.safe_load(out.read_text(encoding="utf-8"))["groups"]
    urls = {r["annotations"]["runbook_url"] for g in groups for r in g["rules"]}
    assert f"{base}/docs/runbooks/stale_data.md" in urls
    assert "https://runbooks.example.com/ml/fraud_detection" in urls  # the contract's own
    assert all(url.startswith("https://") for url in urls)
    # The option wins over the environment.
    _cli("export", "alerts", "--format", "rules", "--output", str(out),
         "--runbook-base-url", "https://wiki.example.com/datasre/")  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert "https://wiki.example.com/datasre/docs/runbooks/stale_data.md" in text


#: The runbook of each evidence reason's rule: the gate's reason's, the shipped catalog's
#: page of its incident class, or the sample contract's own page where no class covers it.
_EVIDENCE_RUNBOOKS = {
    "run_failed": "docs/runbooks/missing_snapshot.md",
    "days_missing": "docs/runbooks/missing_snapshot.md",
    "evidence_missing": "docs/runbooks/missing_snapshot.md",
    "evidence_incomplete": "docs/runbooks/missing_snapshot.md",
    "labels_overdue": "docs/runbooks/labels_overdue.md",
    "contract_changed": "https://runbooks.example.com/ml/fraud_detection",
    "run_before_day_end": "https://runbooks.example.com/ml/fraud_detection",
}


def test_every_slo_has_a_page_and_a_ticket_rule_with_its_runbook(rule_file: Path) -> None:
    groups = yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]
    fraud = next(g for g in groups if g["name"] == "datasre-fraud_detection")
    by_alert: dict[str, set[str]] = {}
    for rule in fraud["rules"]:
        sli = rule["labels"].get("sli", "")
        by_alert.setdefault(rule["alert"], set()).add(sli)
        if rule["alert"] == EVIDENCE_BLOCKED_ALERT:
            # One rule per reason, each linking the runbook the gate's reason links (all
            # rules linked the model's own page, found by review).
            assert (
                rule["annotations"]["runbook_url"] == _EVIDENCE_RUNBOOKS[rule["labels"]["reason"]]
            )
            assert "`datasre gate --model fraud_detection`" in rule["annotations"]["description"]
            continue
        # Each SLO's incident class's runbook; the stale-evidence rule's is stale data, the
        # crashed-run rule's the crashed run's.
        evidence_code = "run_crashed" if rule["alert"] == CRASH_ALERT else "evidence_stale"
        incident = reason_incident_class(evidence_code if not sli else "model_budget", sli or None)
        assert incident is not None
        assert rule["annotations"]["runbook_url"] == f"docs/runbooks/{incident.value}.md"
    urls = {
        (r["alert"], r["labels"].get("sli")): r["annotations"]["runbook_url"]
        for r in fraud["rules"]
    }
    assert urls[PAGE_ALERT, "accuracy"] == "docs/runbooks/quality_regression.md"
    assert urls[PAGE_ALERT, "completeness"] == "docs/runbooks/null_burst.md"
    assert urls[STALE_ALERT, None] == "docs/runbooks/stale_data.md"
    assert urls[CRASH_ALERT, None] == "docs/runbooks/crashed_run.md"
    assert by_alert[PAGE_ALERT] == by_alert[TICKET_ALERT]
    # Declared SLOs and the built-in ones (checks.slo.BUILT_IN_TEMPLATES).
    assert {"accuracy", "completeness", "unseen_category_rate", "clock_skew_seconds"} <= (
        by_alert[PAGE_ALERT]
    )
    assert by_alert[STALE_ALERT] == by_alert[CRASH_ALERT] == {""}
    severities = {r["alert"]: r["labels"]["severity"] for r in fraud["rules"]}
    assert severities == {
        PAGE_ALERT: "page",
        TICKET_ALERT: "ticket",
        STALE_ALERT: "ticket",
        CRASH_ALERT: "ticket",
        EVIDENCE_BLOCKED_ALERT: "ticket",
    }


def _series_key(labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"datasre_slo_burn_rate{{{inner}}}"


def _rules_by_key(rule_file: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    groups = yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]
    return {
        (
            rule["alert"],
            rule["labels"]["model"],
            rule["labels"].get("sli", "") or rule["labels"].get("reason", ""),
        ): rule
        for group in groups
        for rule in group["rules"]
    }


def test_promtool_pages_exactly_when_datasre_does_on_the_sample_days(
    rule_file: Path, daily_expositions: list[str], tmp_path: Path
) -> None:
    # Input series: the burn rates of each day's export, one sample per day.
    values: dict[str, list[str]] = {}
    burns: dict[tuple[str, str, str], list[float | None]] = {}
    for index, text in enumerate(daily_expositions):
        for name, labels, value in parse_samples(text):
            if name != "datasre_slo_burn_rate":
                continue
            values.setdefault(_series_key(labels), ["_"] * len(DAYS))[index] = repr(value)
            key = (labels["model"], labels["sli"], labels["window"])
            burns.setdefault(key, [None] * len(DAYS))[index] = value
    rules = _rules_by_key(rule_file)

    def expected(day: int, level: AlertLevel, alert: str) -> list[dict[str, Any]]:
        alerts = []
        for (model, sli, window), series in sorted(burns.items()):
            if window != "1d":
                continue
            long = burns.get((model, sli, "7d"), [None] * len(DAYS))[day]
            if alert_level(series[day], long) != level:
                continue
            rule = rules[(alert, model, sli)]
            version = next(
                labels["version"]
                for _, labels, _ in parse_samples(daily_expositions[day])
                if labels.get("model") == model and "version" in labels
            )
            alerts.append(
                {
                    "exp_labels": {
                        "model": model,
                        "version": version,
                        "sli": sli,
                        "window": "1d",
                        **rule["labels"],
                    },
                    "exp_annotations": rule["annotations"],
                }
            )
        return alerts

    tests: list[dict[str, Any]] = []
    pages_by_day: dict[int, set[tuple[str, str]]] = {}
    tickets_by_day: dict[int, set[tuple[str, str]]] = {}
    for day in range(len(DAYS)):
        pages = expected(day, AlertLevel.PAGE, PAGE_ALERT)
        tickets = expected(day, AlertLevel.TICKET, TICKET_ALERT)
        pages_by_day[day] = {(a["exp_labels"]["model"], a["exp_labels"]["sli"]) for a in pages}
        tickets_by_day[day] = {(a["exp_labels"]["model"], a["exp_labels"]["sli"]) for a in tickets}
        tests.append({"eval_time": f"{day}d", "alertname": PAGE_ALERT, "exp_alerts": pages})
        tests.append({"eval_time": f"{day}d", "alertname": TICKET_ALERT, "exp_alerts": tickets})
    unit = {
        "rule_files": [str(rule_file)],
        # One evaluation per day, at each day's sample: the gauges change once a day, and
        # minute-by-minute evaluation of 13 days takes promtool minutes.
        "evaluation_interval": "1d",
        "tests": [
            {
                "interval": "1d",
                "input_series": [
                    {"series": series, "values": " ".join(samples)}
                    for series, samples in sorted(values.items())
                ],
                "alert_rule_test": tests,
            }
        ],
    }
    test_file = tmp_path / "sample_days.test.yml"
    test_file.write_text(yaml.safe_dump(unit, sort_keys=False), encoding="utf-8")
    tested = run_promtool("test", "rules", str(test_file))
    assert tested.returncode == 0, tested.stdout + tested.stderr

    # The expectations are not vacuous: the incident days page, the clean ones do not.
    # 11-04 (c): completeness 0.9775 < 0.99, the first bad day of a 0.9 target.
    assert ("fraud_detection", "completeness") in pages_by_day[3]
    # 11-08 (d): the missing column fails schema_valid, its first bad day in the week (a
    # ticket: 7-day burn 1/7/0.1 = 1.4), and completeness, its second (a page).
    assert ("fraud_detection", "schema_valid") in tickets_by_day[7]
    assert ("fraud_detection", "completeness") in pages_by_day[7]
    # 11-09 .. 11-12 (h): concept drift; accuracy pages from its second bad day on.
    assert ("fraud_detection", "accuracy") in pages_by_day[9]
    # 11-06 .. 11-14 (a): two drifted features every day: the first bad day is a ticket
    # (6 days evaluated: 7-day burn 1/6/0.1 = 1.7), every later one a page.
    assert ("fraud_detection", "drifted_feature_share") in tickets_by_day[5]
    assert all(
        ("fraud_detection", "drifted_feature_share") in pages_by_day[d] for d in range(6, 14)
    )
    # 11-01 .. 11-03 are clean on every SLI; delivery_eta's one unreadable day (11-08)
    # burns 1/7/0.1 = 1.4 over the week: a ticket, never a page.
    assert pages_by_day[0] == pages_by_day[1] == pages_by_day[2] == set()
    assert not any(model == "delivery_eta" for pages in pages_by_day.values() for model, _ in pages)


def _promtool_passes(
    rule_file: Path,
    tmp_path: Path,
    series: str,
    values: str,
    alert_tests: list[Any],
    *,
    more: dict[str, str] | None = None,
) -> None:
    """``promtool test rules``: one hourly input series (and the ``more`` series -> values),
    these ``alert_rule_test`` cases."""
    inputs = [{"series": series, "values": values}]
    inputs += [{"series": name, "values": v} for name, v in (more or {}).items()]
    unit = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": "1h",
        "tests": [
            {
                "interval": "1h",
                "input_series": inputs,
                "alert_rule_test": alert_tests,
            }
        ],
    }
    test_file = tmp_path / "unit.test.yml"
    test_file.write_text(yaml.safe_dump(unit, sort_keys=False), encoding="utf-8")
    tested = run_promtool("test", "rules", str(test_file))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _fired(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert ``rule`` raises on the fraud model's 2.3.0 series."""
    return [{"exp_labels": {"version": "2.3.0", **rule["labels"]},
             "exp_annotations": rule["annotations"]}]  # fmt: skip


def test_promtool_raises_the_stale_evidence_ticket_only_after_36_hours(
    rule_file: Path, tmp_path: Path
) -> None:
    rule = _rules_by_key(rule_file)[(STALE_ALERT, "fraud_detection", "")]
    series = 'datasre_newest_evaluation_timestamp_seconds{model="fraud_detection",version="2.3.0"}'
    # The newest day was due at t = 0 and no newer one was validated: the gauge keeps
    # saying 0, whatever older days are re-run (they do not move it).
    _promtool_passes(rule_file, tmp_path, series, "0+0x48", [
        {"eval_time": "35h", "alertname": STALE_ALERT, "exp_alerts": []},
        {"eval_time": "37h", "alertname": STALE_ALERT, "exp_alerts": _fired(rule)},
    ])  # fmt: skip


def test_promtool_raises_the_crashed_run_ticket_while_the_gauge_says_so(
    rule_file: Path, tmp_path: Path
) -> None:
    rule = _rules_by_key(rule_file)[(CRASH_ALERT, "fraud_detection", "")]
    series = 'datasre_newest_run_crashed{model="fraud_detection",version="2.3.0"}'
    # Fine, then a crashed run for three exports, then a run that recorded.
    _promtool_passes(rule_file, tmp_path, series, "0 0 1 1 1 0 0", [
        {"eval_time": "1h", "alertname": CRASH_ALERT, "exp_alerts": []},
        {"eval_time": "2h", "alertname": CRASH_ALERT, "exp_alerts": _fired(rule)},
        {"eval_time": "4h", "alertname": CRASH_ALERT, "exp_alerts": _fired(rule)},
        {"eval_time": "5h", "alertname": CRASH_ALERT, "exp_alerts": []},
    ])  # fmt: skip


def test_promtool_raises_the_evidence_ticket_per_reason_while_the_gate_blocks_on_it(
    rule_file: Path, tmp_path: Path
) -> None:
    rule = _rules_by_key(rule_file)[(EVIDENCE_BLOCKED_ALERT, "fraud_detection", "contract_changed")]
    series = (
        'datasre_gate_evidence_blocked{model="fraud_detection",version="2.3.0",'
        'reason="contract_changed"}'
    )
    fired = [{"exp_labels": {"version": "2.3.0", "reason": "contract_changed", **rule["labels"]},
              "exp_annotations": rule["annotations"]}]  # fmt: skip
    # Ready, then blocked on a contract changed since the evidence, then re-run.
    _promtool_passes(rule_file, tmp_path, series, "0 0 1 1 0", [
        {"eval_time": "1h", "alertname": EVIDENCE_BLOCKED_ALERT, "exp_alerts": []},
        {"eval_time": "2h", "alertname": EVIDENCE_BLOCKED_ALERT, "exp_alerts": fired},
        {"eval_time": "4h", "alertname": EVIDENCE_BLOCKED_ALERT, "exp_alerts": []},
    ])  # fmt: skip


def test_a_waiver_in_force_quiets_the_slos_page_and_ticket(rule_file: Path, tmp_path: Path) -> None:
    """A waiver forgave the gate's block but the page kept firing, though every runbook
    ends with "record a waiver" for an accepted breach (found by review)."""
    rule = _rules_by_key(rule_file)[(PAGE_ALERT, "fraud_detection", "accuracy")]
    labels = 'model="fraud_detection",version="2.3.0",track="model",sli="accuracy"'
    # Burning at 10x in both windows throughout; waived from the third hour.
    _promtool_passes(
        rule_file,
        tmp_path,
        f'datasre_slo_burn_rate{{{labels},window="1d"}}',
        "10+0x5",
        [
            {"eval_time": "1h", "alertname": PAGE_ALERT, "exp_alerts": [
                {"exp_labels": {"version": "2.3.0", "window": "1d", **rule["labels"]},
                 "exp_annotations": rule["annotations"]}]},
            {"eval_time": "3h", "alertname": PAGE_ALERT, "exp_alerts": []},
            {"eval_time": "3h", "alertname": TICKET_ALERT, "exp_alerts": []},
        ],
        more={
            f'datasre_slo_burn_rate{{{labels},window="7d"}}': "10+0x5",
            f"datasre_slo_waived{{{labels}}}": "0 0 1 1 1 1",
        },
    )  # fmt: skip
