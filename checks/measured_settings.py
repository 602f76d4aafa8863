"""What a run was measured under: the contract settings that shape its SLI rows.

Why: the gate judges a version by the verdicts its runs recorded. Those verdicts depend on
more of the contract than its SLOs and schedule: a feature's bounds and allowed values
(schema validity, unseen categories), the columns read (``predictions``, ``sources``),
the slices, ``min_slice_rows`` and ``min_labelled_rows`` (below them a metric is
``insufficient_data``, not a pass). Tightening any of them after a run changed nothing:
the gate said READY on evidence the contract in force was never applied to (raising
``min_labelled_rows`` from 30 to 1,000 kept accuracy on 500 labels a pass). Each run
records :func:`measured_settings` in ``runs.measured_under``; the gate compares it with
the contract in force (:func:`measured_changes`).

Left out, because the gate applies them itself or they do not change what is judged: the
SLOs and the schedule (compared on their own), ``sources.start_date`` and
``sources.max_label_delay_days`` (read by the gate), the top-level ``drift`` section (the
engine's memory budget: exact and sketch agree within their documented bound; a feature's
own drift settings are compared), and owner, tier, runbooks and description. Settings at
their default are not recorded, so a datasre release that adds a setting does not flag
every model. Lists of values (allowed values, slices, drift methods) compare as sets and
file paths as normalised text; a candidate evaluation, which reads the files it is given,
records no daily snapshot sources.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Mapping
from typing import Any, Final

from checks.contract import Contract
from checks.slo_evaluation import as_definitions

__all__ = ["JUDGED_UNDER", "MEASURED_FIELDS", "measured_changes", "measured_settings"]

#: The contract's top-level fields that shape the rows a run records.
MEASURED_FIELDS: Final = frozenset(
    {
        "type",
        "sources",
        "features",
        "predictions",
        "slices",
        "sensitive_attributes",
        "min_slice_rows",
        "min_labelled_rows",
    }
)
#: ``sources`` fields the gate reads from the contract in force, not from the runs.
_GATE_TIME_SOURCES: Final = frozenset({"start_date", "max_label_delay_days"})
#: ``sources`` fields naming files (compared as normalised paths: ``./a/../b`` is ``b``).
_PATH_SOURCES: Final = frozenset(
    {"training", "prediction_baseline", "features", "predictions", "labels"}
)
#: ``sources`` a candidate evaluation never reads (it is given its files).
_DAILY_SOURCES: Final = frozenset({"features", "predictions", "labels"})


def _as_set(value: Any) -> Any:
    """Lists of plain values (allowed values, slices, drift methods) sorted and without
    repeats, recursively: their order changes no verdict."""
    if isinstance(value, dict):
        return {k: _as_set(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return sorted(set(value), key=lambda v: (type(v).__name__, v))
    return value


def _normalised(settings: dict[str, Any], *, candidate: bool) -> dict[str, Any]:
    """``settings`` as they are compared: without the sources the gate reads itself (and
    a candidate's daily sources), paths normalised, lists as sets. Applied to a recorded
    run's settings as well as the contract's, so one written otherwise compares alike."""
    skipped = _GATE_TIME_SOURCES | (_DAILY_SOURCES if candidate else frozenset())
    sources = settings.get("sources", {})
    settings = {
        **settings,
        "sources": {
            k: posixpath.normpath(v) if k in _PATH_SOURCES and isinstance(v, str) else v
            for k, v in (sources.items() if isinstance(sources, dict) else ())
            if k not in skipped
        },
    }
    normalised: dict[str, Any] = _as_set(settings)
    return normalised


#: The key of the SLOs in force a run judged its rows under (:func:`_judging`).
JUDGED_UNDER: Final = "slos_in_force"


def _judging(contract: Contract) -> dict[str, Any]:
    """What of each SLO in force (declared and built-in) decides a row's verdict: its
    objective, comparator and blocking flag (target and window are applied by the gate
    from the contract, so a change of them asks for no re-run).

    Why per run: the gate counts each day's recorded ``ok`` and ``blocking``. Compared
    only with the newest run's ``slo_definitions``, a tightened objective was forgotten as
    soon as any one day was re-run, while the other days kept verdicts of the old one
    (READY on a breach of the contract in force; the rows of one feature or slice carry
    objectives of their own, so the rows alone cannot say)."""
    return {
        d.sli: {
            "objective": None if math.isnan(d.objective) else d.objective,
            "comparator": d.comparator,
            "blocking": d.blocking,
        }
        for d in as_definitions(contract)
    }


def _settings(contract: Contract, *, candidate: bool) -> dict[str, Any]:
    settings = contract.model_dump(mode="json", exclude_defaults=True, include=set(MEASURED_FIELDS))
    return {**_normalised(settings, candidate=candidate), JUDGED_UNDER: _judging(contract)}


def measured_settings(contract: Contract, *, candidate: bool = False) -> str:
    """The contract's measuring settings as JSON text (keys sorted: equal settings give
    equal text), for ``runs.measured_under``; ``candidate``: for a candidate evaluation,
    which reads the files it is given, not the daily snapshot sources."""
    settings = _settings(contract, candidate=candidate)
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


#: A setting left at its default (not recorded); shown as "default".
_DEFAULT: Final = object()


def _differences(path: str, before: Any, after: Any) -> list[str]:
    """One phrase per setting that differs, by dotted path (``features.amount.max 50000 ->
    100``); a whole feature added or dropped is one phrase."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        phrases: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if path == "features" and key not in before:
                phrases.append(f"new feature {key}")
            elif path == "features" and key not in after:
                phrases.append(f"feature {key} no longer declared")
            elif path == JUDGED_UNDER and key not in before:
                phrases.append(f"new SLO {key}")
            elif path == JUDGED_UNDER and key not in after:
                phrases.append(f"SLO {key} no longer in force")
            else:
                phrases += _differences(where, before.get(key, _DEFAULT), after.get(key, _DEFAULT))
        return phrases
    if before is _DEFAULT and isinstance(after, Mapping):
        return _differences(path, {}, after)
    if after is _DEFAULT and isinstance(before, Mapping):
        return _differences(path, before, {})
    if before == after or _both_nan(before, after):
        return []
    return [f"{path} {_shown(before)} -> {_shown(after)}"]


def _both_nan(before: Any, after: Any) -> bool:
    """A NaN bound equals itself here (a contract may write ``.nan``): else it never
    stops differing, and no re-run clears it."""
    return (
        isinstance(before, float)
        and isinstance(after, float)
        and math.isnan(before)
        and math.isnan(after)
    )


def _shown(value: Any) -> str:
    """A setting's value as a phrase shows it: numbers without a needless ``.0``."""
    if value is _DEFAULT:
        return "default"
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML writes it
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def measured_changes(recorded: str, contract: Contract, *, candidate: bool = False) -> list[str]:
    """How ``contract``'s measuring settings differ from ``recorded`` (a run's
    :func:`measured_settings`, of a candidate evaluation when ``candidate``), one phrase
    each; none when they agree or ``recorded`` is not readable JSON (a run written
    otherwise is not judged on it)."""
    try:
        before = json.loads(recorded)
    except ValueError:
        return []
    if not isinstance(before, dict):
        return []
    after = _settings(contract, candidate=candidate)
    if JUDGED_UNDER not in before:
        del after[JUDGED_UNDER]  # written before runs recorded their SLOs: not judged on them
    return _differences("", _normalised(before, candidate=candidate), after)
