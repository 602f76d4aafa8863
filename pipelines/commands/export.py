"""``datasre export prometheus|alerts|openslo``: datasre's state in the formats SRE tools
read.

- ``prometheus``: the text exposition for node_exporter's textfile collector (gate
  readiness, SLO state, error budgets, burn rates, newest SLI values), from the store, as
  the gate sees it at ``--as-of`` (default ``$DATASRE_NOW`` or the wall clock);
- ``alerts``: multi-window, multi-burn-rate alert rules over those metrics, as
  PrometheusRule resources (default) or one plain Prometheus rule file;
- ``openslo``: OpenSLO v1 documents of every contract SLO.

``--output FILE`` is written atomically: into a temporary file of the same directory
(a dot file ending in ``.tmp``, which the textfile collector ignores, as it reads only
``*.prom``), then renamed over ``FILE``, so a scrape never reads half a file. Without it
the text goes to stdout. Exit 0, or 2 on a usage, config or store error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pipelines.commands.arguments import Subcommands, add_as_of, add_command, add_output

if TYPE_CHECKING:
    from checks.contract import Contract

__all__ = ["register", "run_alerts", "run_openslo", "run_prometheus", "write_output"]


#: The help of ``datasre export`` and of its targets (see
#: :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """write Prometheus metrics, alert rules or OpenSLO documents

Export datasre's SLOs and their state for Prometheus, Alertmanager and OpenSLO tooling."""
PROMETHEUS_ABOUT: Final = """metrics for node_exporter's textfile collector

Gate readiness, SLO state, error budgets, burn rates and the newest SLI values of each
contract's current version, in the Prometheus text format."""
ALERTS_ABOUT: Final = """multi-window, multi-burn-rate alert rules over the exported metrics

Page and ticket alerts per contract SLO (docs/alerting.md), as PrometheusRule resources or
one Prometheus rule file."""
OPENSLO_ABOUT: Final = """OpenSLO v1 documents of every contract SLO

Service, SLI, SLO, AlertPolicy and AlertNotificationTarget objects."""


def register(subparsers: Subcommands) -> None:
    from pipelines.cli import _add_common_options
    from pipelines.exports.rule_formats import RULE_FORMATS

    parser = add_command(subparsers, "export", None, ABOUT)
    targets = parser.add_subparsers(dest="target", metavar="TARGET")
    targets.required = True
    prometheus = add_command(targets, "prometheus", run_prometheus, PROMETHEUS_ABOUT)
    add_as_of(
        prometheus,
        "judge as the gate would at this time, ISO 8601 (default $DATASRE_NOW or now)",
    )
    alerts = add_command(targets, "alerts", run_alerts, ALERTS_ABOUT)
    alerts.add_argument(
        "--format",
        choices=RULE_FORMATS,
        default=RULE_FORMATS[0],
        help="prometheus-rule: Kubernetes resources (default); rules: a plain rule file",
    )
    alerts.add_argument(
        "--runbook-base-url",
        default=None,
        metavar="URL",
        help="where the shipped runbooks (docs/runbooks/...) are browsable, e.g. "
        "https://github.com/ORG/REPO/blob/main/ ; their paths become URLs under it "
        "(default $DATASRE_RUNBOOK_BASE_URL; unset: left as repository paths)",
    )
    openslo = add_command(targets, "openslo", run_openslo, OPENSLO_ABOUT)
    for target in (prometheus, alerts, openslo):
        add_output(target, "write here (atomically), not stdout")
        target.add_argument(
            "--model",
            action="append",
            default=None,
            help="only this model (repeatable; default every contract)",
        )
        _add_common_options(target, nested=True)


def write_output(path: str | Path, text: str) -> None:
    """Write ``text`` to the ``--output`` file atomically, mode 0644
    (:func:`assets.atomic_file.write_atomically`)."""
    from assets.atomic_file import write_atomically
    from pipelines.cli import UsageError

    try:
        write_atomically(path, text)
    except OSError as exc:
        raise UsageError(f"--output: {path}: cannot write ({exc.strerror or exc})") from None


def _contracts(config_path: str, models: list[str] | None) -> list[Contract]:
    from checks.contract import load_contracts
    from pipelines.cli import UsageError

    contracts = load_contracts(config_path)
    if not models:
        return contracts
    known = {c.model for c in contracts}
    unknown = [m for m in models if m not in known]
    if unknown:
        raise UsageError(
            f"--model: unknown model {unknown[0]!r} in {config_path} "
            f"(known: {', '.join(sorted(known))})"
        )
    return [c for c in contracts if c.model in models]


def _emit(args: argparse.Namespace, text: str, what: str) -> int:
    from pipelines.cli import EXIT_OK

    if args.output:
        write_output(args.output, text)
        print(f"datasre export {args.target}: {what} -> {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_prometheus(args: argparse.Namespace) -> int:
    from assets.store.gate_store import GateStore
    from checks.gate_verdict import GateOptions
    from pipelines.commands.gate import _as_of, review
    from pipelines.exports.prometheus import exposition, model_state
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    now = _as_of(args.as_of or settings.now)
    contracts = _contracts(settings.config_path, args.model)
    options = GateOptions()
    gate_store = GateStore(settings.sli_store())
    states = []
    for contract in contracts:
        evidence, verdict = review(gate_store, contract, contract.version, now=now, options=options)
        states.append(model_state(verdict, evidence.slis, evidence.runs, contract))
    text = exposition(states, options.policy)
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return _emit(args, text, f"{samples} samples of {len(states)} model versions")


def run_alerts(args: argparse.Namespace) -> int:
    from checks.gate_verdict import GateOptions
    from pipelines.exports.alert_rules import render_rules
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    contracts = _contracts(settings.config_path, args.model)
    base = args.runbook_base_url or settings.runbook_base_url
    text = render_rules(contracts, args.format, GateOptions().policy, runbook_base=base)
    return _emit(args, text, f"{args.format} for {len(contracts)} contracts")


def run_openslo(args: argparse.Namespace) -> int:
    from checks.gate_verdict import GateOptions
    from pipelines.exports.openslo import render_openslo
    from pipelines.settings import Settings

    settings = Settings.from_env(config_path=args.config, database=args.db)
    contracts = _contracts(settings.config_path, args.model)
    text = render_openslo(contracts, GateOptions().policy)
    return _emit(args, text, f"OpenSLO documents of {len(contracts)} contracts")
