"""``datasre explain --model M [--partition DAY] [--slo NAME] [--format table|json]``.

Ranks what drives a breach from the store's SLI rows and the day's files
(:mod:`checks.explain` says how): since when the SLO breaches and what changed that day,
the slices carrying the extra errors, the features by importance-weighted drift. Exit 0
when it explained, 2 for bad input (unknown model, a day with no rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Final

from pipelines.commands.arguments import (
    Subcommands,
    add_command,
    add_format,
    add_model,
    add_partition,
    parse_day,
)

if TYPE_CHECKING:
    import polars as pl

    from checks.contract import Contract
    from checks.explain import BreachStreak

__all__ = ["explain", "register", "run"]


#: ``datasre explain``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """rank what drives a breach: features, slices, since when

Explain a model's breach on one day: the first day of the SLO's breach streak and what
changed that day, the slices with most extra errors vs the baseline window, and the
features by importance-weighted drift."""


def register(subparsers: Subcommands) -> None:
    parser = add_command(subparsers, "explain", run, ABOUT)
    add_model(parser)
    add_partition(parser, "the day to explain (default the newest day in the store)")
    parser.add_argument(
        "--slo", help="SLO to explain (default the day's breached quality SLO, if any)"
    )
    add_format(parser, "table", "json")


def _drift_effects(training: pl.DataFrame, day: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """One row per feature of the day against training
    (:func:`checks.explain_features.drift_effects`)."""
    from checks.explain_features import drift_effects

    return drift_effects(training, day, contract.numeric_features, contract.categorical_features)


def _with_missing(effects: pl.DataFrame, day: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """``effects`` plus an effect-1 row per declared feature the day's file lacks: for
    "what changed", a column that vanished changed completely (drift ranks only the
    features present)."""
    import polars as pl

    missing = [f for f in contract.features if f not in day.columns]
    gone = pl.DataFrame(
        {
            "feature": missing,
            "method": ["missing"] * len(missing),
            "effect": [1.0] * len(missing),
            "drifted": [True] * len(missing),
        },
        schema=effects.schema,
    )
    return pl.concat([effects, gone])


def _as_plain(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready dicts."""
    if isinstance(value, list):
        return [_as_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def explain(
    contract: Contract,
    slis: pl.DataFrame,
    partition: str,
    slo: str,
    runs: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The explanation of ``slo`` on ``partition`` as plain JSON values; ``runs`` (the
    version's) lets it say when the day's newest run undermines the rows."""
    import polars as pl

    from assets.explain_inputs import day_features, day_scored, training_features
    from checks.explain import (
        breach_streak,
        quality_metric,
        run_caveat,
        slo_evaluations,
        unjudged_on,
    )
    from checks.explain_features import IMPORTANCE_METHOD, estimate_importance, rank_drift

    evaluations = slo_evaluations(slis, slo)
    streak = breach_streak(evaluations, partition, slo)
    judged_days = [d for d in evaluations.get_column("partition").to_list() if d <= partition]
    training = training_features(contract)
    day = day_features(contract, dt.date.fromisoformat(partition))
    # The day against training, computed once: "since" (when the streak starts today)
    # and the drift ranking both need it.
    day_effects = _drift_effects(training, day, contract) if day is not None else None
    result: dict[str, Any] = {
        "model": contract.model,
        "model_version": contract.version,
        "partition": partition,
        "slo": slo,
        "since": None,
        "unjudged": _as_plain(unjudged_on(slis, slo, partition)),
        "last_judged_day": judged_days[-1] if judged_days else None,
        "run": run_caveat(runs, contract, partition) if runs is not None else None,
        "quality": None,
        "drift": None,
        "unavailable": [],
    }
    if streak is not None:
        result["since"] = _since(
            contract, streak, evaluations, (training, day), partition,
            day_effects=day_effects, unavailable=result["unavailable"],
        )  # fmt: skip
    drifted_rows = slis.filter(
        (pl.col("partition") == partition)
        & (pl.col("category") == "drift")
        & pl.col("feature").is_not_null()
    )
    drifted = {
        feature: bool(group.get_column("ok").not_().any())
        for (feature,), group in drifted_rows.group_by("feature")
    }
    if day is None or day_effects is None:
        result["unavailable"].append(f"features of {partition} (unreadable or missing)")
    else:
        scored = day_scored(contract, dt.date.fromisoformat(partition), day)
        importance, source = estimate_importance(
            scored,
            training,
            contract.predictions.target,
            list(contract.features),
            positive_label=contract.predictions.positive_label,
        )
        features, weighted = rank_drift(day_effects, importance, drifted)
        result["drift"] = {
            "importance_weighted_drift": weighted,
            "importance": f"{IMPORTANCE_METHOD}; estimated from {source}",
            "features": _as_plain(features),
        }
    metric = quality_metric(slo)
    if metric is not None:
        result["quality"] = _quality(slis, partition, metric, streak, result["drift"])
    return result


def _since(
    contract: Contract,
    streak: BreachStreak,
    evaluations: pl.DataFrame,
    frames: tuple[pl.DataFrame, pl.DataFrame | None],
    partition: str,
    *,
    day_effects: pl.DataFrame | None,
    unavailable: list[str],
) -> dict[str, Any]:
    """The streak, what changed on its first day against training, and against the last
    good day before it (``last_good``, None without one). ``frames``: the training
    features and ``partition``'s (None when unreadable); ``day_effects``: ``partition``'s
    drift effects against training, reused when the streak starts on it; a day whose
    features cannot be read is added to ``unavailable``."""
    training, day = frames
    from assets.explain_inputs import day_features
    from checks.explain import baseline_days
    from checks.explain_changes import changed_features, changes_since, distribution_changes

    first = streak.first_day
    onset = day if first == partition else day_features(contract, dt.date.fromisoformat(first))
    since = {**_as_plain(streak), "changes": [], "last_good": None}
    if onset is None:
        if first != partition:
            unavailable.append(f"features of {first} (unreadable or missing)")
        return since
    from_training = (
        day_effects
        if first == partition and day_effects is not None
        else _drift_effects(training, onset, contract)
    )
    effects = _with_missing(from_training, onset, contract)
    since["changes"] = _as_plain(distribution_changes(training, onset, effects))
    good_days = baseline_days(evaluations, first, days=1)
    if not good_days:
        return since
    good = day_features(contract, dt.date.fromisoformat(good_days[0]))
    if good is None:
        unavailable.append(f"features of {good_days[0]} (unreadable or missing)")
        return since
    from_good = _with_missing(_drift_effects(good, onset, contract), onset, contract)
    changed = changed_features(training, onset, effects)
    since["last_good"] = _as_plain(changes_since(good_days[0], (good, onset), from_good, changed))
    return since


def _quality(
    slis: pl.DataFrame,
    partition: str,
    metric: str,
    streak: BreachStreak | None,
    drift: dict[str, Any] | None,
) -> dict[str, Any]:
    import polars as pl

    from checks.explain import baseline_days, slo_evaluations
    from checks.explain_slices import slice_contributions

    model_wide = metric if slis.filter(pl.col("sli") == metric).height else f"slice_{metric}"
    evaluations = slo_evaluations(slis, model_wide)
    start = streak.first_day if streak is not None else partition
    window = baseline_days(evaluations, start)
    slice_rows = slis.filter(pl.col("sli") == f"slice_{metric}")
    today = slice_rows.filter(pl.col("partition") == partition)
    # A slice that breached on a baseline day is no baseline of itself.
    baseline = slice_rows.filter(pl.col("partition").is_in(window) & pl.col("ok").ne_missing(False))
    contributions = slice_contributions(today, baseline, metric)
    value = slis.filter((pl.col("sli") == metric) & (pl.col("partition") == partition))
    drifted = [
        {"feature": f["feature"], "importance": f["importance"], "effect": f["effect"]}
        for f in sorted(
            (f for f in (drift or {}).get("features", []) if f["drifted"]),
            key=lambda f: -f["importance"],
        )
    ]
    return {
        "metric": metric,
        "value": value.get_column("value")[0] if value.height else None,
        "baseline_days": window,
        "slices": _as_plain(contributions),
        "drifted_features_by_association": drifted,
    }


def _print_table(result: dict[str, Any]) -> None:
    from pipelines.escape import terminal

    def say(line: str) -> None:
        print(terminal(line))

    say(f"explain {result['model']} {result['model_version']} {result['partition']}: "
        f"{result['slo']}")  # fmt: skip
    if result["run"] is not None:
        say(f"run: {result['run']}")
    if result.get("also_breached"):
        say(f"also breached on {result['partition']}: {', '.join(result['also_breached'])} "
            "(explain one with --slo NAME)")  # fmt: skip
    since = result["since"]
    unjudged = result["unjudged"]
    if unjudged is not None:
        why = unjudged["status"] + (f": {unjudged['detail']}" if unjudged["detail"] else "")
        say(f"verdict: none on {result['partition']} ({why}); no verdict is no evidence, "
            "not a pass")  # fmt: skip
    if since is None and unjudged is None:
        say(f"since: {result['slo']} is not breaching on {result['partition']}")
    elif since is None and result["last_judged_day"] is None:
        say(f"since: {result['slo']} has no verdict on any day up to {result['partition']}")
    elif since is None:
        say(f"since: {result['slo']} did not breach on {result['last_judged_day']}, "
            "its newest verdict before")  # fmt: skip
    else:
        say(f"since: {since['slo']} breached since {since['first_day']} "
            f"({since['days']} evaluated day(s) through {since['last_day']})")  # fmt: skip
        _say_since(say, since, result["quality"] is not None)
    quality = result["quality"]
    if quality is not None:
        value = quality["value"]
        shown = f"{value:.4f}" if value is not None else "not measured"
        window = quality["baseline_days"]
        span = f"{window[0]} .. {window[-1]}" if window else "no good day before"
        say(f"quality: {quality['metric']} {shown}; slices by extra errors vs the baseline "
            f"window ({span}):")  # fmt: skip
        say(f"    {'slice':<28} {'rows':>6} {'value':>8} {'baseline':>9} {'extra':>8} {'share':>6}")
        for item in quality["slices"][:10]:
            base = item["baseline_value"]
            say(
                f"    {item['slice']:<28} {item['n_rows']:>6} {item['value']:>8.4f} "
                f"{(f'{base:.4f}' if base is not None else '-'):>9} "
                f"{item['extra_errors']:>8.1f} {item['share']:>6.1%}"
            )
        names = ", ".join(f["feature"] for f in quality["drifted_features_by_association"])
        say(f"  drifted features most associated with the score: {names or 'none drifted'}")
    drift = result["drift"]
    if drift is not None:
        say(f"drift: importance_weighted_drift {drift['importance_weighted_drift']:.4f}")
        say(f"  importance: {drift['importance']}")
        say(f"    {'feature':<24} {'method':<6} {'effect':>7} {'drifted':>8} "
            f"{'importance':>10} {'weighted':>9}")  # fmt: skip
        for item in drift["features"][:10]:
            say(
                f"    {item['feature']:<24} {item['method']:<6} {item['effect']:>7.3f} "
                f"{('yes' if item['drifted'] else 'no'):>8} {item['importance']:>10.3f} "
                f"{item['weighted_effect']:>9.4f}"
            )
    for missing in result["unavailable"]:
        say(f"not looked at: {missing}")


def _say_since(say: Callable[[str], None], since: dict[str, Any], quality: bool) -> None:
    """What changed on the breach's first day: against training, each change marked when
    the last good day already had it, then against that good day (``quality``: the SLO
    needs labels, so unchanged inputs point at the labels' relation to them)."""
    good = since["last_good"]
    already = set(good["already"]) if good is not None else set()
    say(f"  what changed on {since['first_day']} against training:")
    if not since["changes"]:
        say("    not known: that day's features could not be read")
    for change in since["changes"]:
        note = f" (so on {good['day']} too, a good day)" if change["feature"] in already else ""
        say(f"    {change['feature']:<24} effect {change['effect']:.3f}  {change['change']}{note}")
    if good is None:
        return
    if good["changed"]:
        say(f"  against {good['day']}, the last good day: changed {', '.join(good['changed'])}")
        for change in good["changes"]:
            say(f"    {change['feature']:<24} effect {change['effect']:.3f}  {change['change']}")
        return
    largest = good["changes"][0] if good["changes"] else None
    shown = f" (largest effect {largest['effect']:.3f}, {largest['feature']})" if largest else ""
    reading = (
        "; the inputs look as they did on a good day, so suspect how the label follows "
        "from them (concept drift) or the labels themselves: see the slices"
        if quality
        else ""
    )
    say(f"  against {good['day']}, the last good day: no feature changed{shown}{reading}")


def _crashed_on(runs: pl.DataFrame, partition: str) -> str:
    """``; its newest run crashed: <error>`` when the day's newest run crashed before
    recording anything (a day without rows said only "no rows"; found by a new user)."""
    from checks.gate_checks import CRASHED_RUN_STATUS, newest_run

    newest = newest_run(runs, partition) if runs.height else None
    if newest is None or newest["status"] != CRASHED_RUN_STATUS:
        return ""
    return f"; its newest run crashed: {newest.get('error') or 'no error recorded'}"


def run(args: argparse.Namespace) -> int:
    from assets.explain_inputs import model_runs, model_slis
    from checks.contract import SLO_CATALOG
    from checks.explain import breached_slos, choose_slo
    from checks.slo_in_force import slos_in_force
    from pipelines.cli import UsageError
    from pipelines.model_contract import contract_named
    from pipelines.settings import Settings

    if args.slo is not None and args.slo not in SLO_CATALOG:
        close = difflib.get_close_matches(args.slo, list(SLO_CATALOG), n=1)
        hint = (
            f": did you mean {close[0]!r}?"
            if close
            else f" (known: {', '.join(sorted(SLO_CATALOG))})"
        )
        raise UsageError(f"--slo: unknown SLO {args.slo!r}{hint}")
    if args.partition is not None:
        args.partition = parse_day("--partition", args.partition).isoformat()
    settings = Settings.from_env(config_path=args.config, database=args.db)
    contract = contract_named(settings.config_path, args.model)
    store = settings.sli_store()
    slis = model_slis(store, contract)
    if slis.height == 0:
        raise UsageError(
            f"{settings.database}: no SLI rows of {contract.model} {contract.version} "
            "(run `datasre run` first)"
        )
    days = sorted(set(slis.get_column("partition").to_list()))
    partition = args.partition or days[-1]
    runs = model_runs(store, contract)
    if partition not in days:
        crashed = _crashed_on(runs, partition)
        run_it = (
            ""
            if crashed
            else f"; record it with `datasre run --model {contract.model} --partition {partition}`"
        )
        raise UsageError(
            f"--partition: no rows of {contract.model} on {partition} "
            f"(days in the store: {days[0]} .. {days[-1]}){crashed}{run_it}"
        )
    force = slos_in_force(contract)
    in_force = {*force.infra, *force.model}
    slo = args.slo or choose_slo(slis, partition, in_force)
    result = explain(contract, slis, partition, slo, runs)
    # The day's other breaches, so one explanation hides none (each: --slo NAME).
    result["also_breached"] = [s for s in breached_slos(slis, partition, in_force) if s != slo]
    if args.format == "json":
        print(json.dumps(result, indent=2, allow_nan=False, default=str))
    else:
        _print_table(result)
    return 0
