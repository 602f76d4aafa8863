"""SQL views of SLO evaluations, error budgets and burn rates, and the gate's tables.

The views compute in SQL, from ``sli_latest`` and ``slo_definitions``, exactly what
:mod:`checks.slo` computes in polars (tests compare the two on the same databases), so
an SRE's ad-hoc query and the gate never disagree:

- ``slo_evaluations``: one row per model, version, SLO and partition: ``good`` (every
  judged row ok), ``bad`` (any ok = false) or ``not_evaluated`` (no judged row).
- ``error_budget``: one row per model, version, track and SLO over the rolling window of
  ``window_days`` days ending at the reference day (the newest partition of that model
  version; for an SLO whose evidence arrives late, its newest evaluated day while that is
  within ``evidence_delay_days``): evaluations, good, bad, budget = (1 - target) ×
  evaluations (in bad days), consumed/remaining (bad days and fractions), exhausted (bad >
  budget), burn rates over the policy's short and long windows, alert level (``page``,
  ``ticket`` or ``none``; see :mod:`checks.alert_policy` for why), the bad days, when the open
  breach started, the last evaluated day and whether recent evidence is missing.
- ``slo_status``: the dashboard projection of ``error_budget``: one word ``state``
  (``exhausted``, ``breached``, ``no_evidence``, ``ok``) per SLO.

The burn-rate windows, thresholds and tolerance come from one
:class:`checks.alert_policy.AlertPolicy` (and :data:`checks.alert_policy.EPSILON`): a view
cannot take parameters, so :func:`slo_views` writes the policy's numbers into the SQL;
:data:`SLO_VIEWS` are the views of the default policy, the one the store installs.

Tables ``gate_decisions`` (every gate decision, appended for audit) and ``waivers``.
"""

from __future__ import annotations

from typing import Final

from checks.alert_policy import DEFAULT_POLICY, EPSILON, AlertPolicy

__all__ = ["GATE_TABLES", "SLO_VIEWS", "slo_views"]

GATE_TABLES: Final[tuple[str, ...]] = (
    """
    create table if not exists gate_decisions (
        decision_id varchar primary key,
        decided_at timestamp with time zone not null,  -- the gate's clock (--as-of)
        recorded_at timestamp with time zone not null, -- wall clock of the insert
        model varchar not null,
        model_version varchar not null,
        ready boolean not null,
        reference_day date,                -- newest partition judged
        n_blocking integer not null,
        n_warnings integer not null,
        n_waived integer not null,
        reason_codes varchar[] not null,
        verdict_json varchar not null,     -- the JSON report (docs/gate-json-schema.json)
        actor varchar                      -- who asked: $GITHUB_ACTOR, $USER...
    )
    """,
    """
    create table if not exists waivers (
        waiver_id varchar primary key,
        model varchar not null,
        model_version varchar,             -- NULL: every version of the model
        slo varchar not null,
        reason varchar not null,
        expires date not null,             -- honoured through this day (inclusive)
        created_at timestamp with time zone not null,
        created_by varchar
    )
    """,
)

_SLO_EVALUATIONS: Final = """
    create or replace view slo_evaluations as
    with partitions as (
        select distinct model, model_version, partition from sli_latest
    ),
    judged as (
        select
            model, model_version, partition, sli,
            count(ok) as judged_rows,
            count(*) filter (where ok = false) as bad_rows
        from sli_latest
        group by model, model_version, partition, sli
    )
    select
        p.model,
        p.model_version,
        d.track,
        d.sli as slo,
        p.partition,
        try_strptime(p.partition, '%Y-%m-%d')::date as day,
        d.objective,
        d.comparator,
        d.target,
        d.blocking,
        d.window_days,
        d.evidence_delay_days,
        coalesce(j.judged_rows, 0) as judged_rows,
        coalesce(j.bad_rows, 0) as bad_rows,
        case
            when coalesce(j.judged_rows, 0) = 0 then 'not_evaluated'
            when j.bad_rows > 0 then 'bad'
            else 'good'
        end as status
    from partitions p
    join slo_definitions d
        on d.model = p.model and d.model_version = p.model_version
    left join judged j
        on j.model = p.model and j.model_version = p.model_version
        and j.partition = p.partition and j.sli = d.sli
    """


def _error_budget_view(policy: AlertPolicy) -> str:
    """The ``error_budget`` view with the policy's windows (days; ages ``0..width-1``
    count, the reference day being age 0) and thresholds written in as literals."""
    short_last = policy.short_window_days - 1
    long_last = policy.long_window_days - 1
    page = repr(float(policy.page_burn_rate))
    ticket = repr(float(policy.ticket_burn_rate))
    epsilon = repr(EPSILON)
    return f"""
    create or replace view error_budget as
    with dated as (
        select
            e.*,
            max(day) over (partition by model, model_version) as newest_day,
            max(day) filter (where status <> 'not_evaluated')
                over (partition by model, model_version, slo) as last_evaluated_day
        from slo_evaluations e
        where day is not null
    ),
    aged as (
        select
            *,
            last_evaluated_day is not null
                and newest_day - last_evaluated_day <= evidence_delay_days as evidence_fresh,
            case
                when last_evaluated_day is not null
                    and newest_day - last_evaluated_day <= evidence_delay_days
                then last_evaluated_day
                else newest_day
            end as reference_day
        from dated
    ),
    windowed as (
        select *, reference_day - day as age from aged
    ),
    counts as (
        select
            model, model_version, track, slo, blocking, objective, comparator, target,
            window_days, reference_day, last_evaluated_day, evidence_delay_days,
            evidence_fresh,
            count(*) filter (where status = 'good' and age between 0 and window_days - 1)
                as good,
            count(*) filter (where status = 'bad' and age between 0 and window_days - 1)
                as bad,
            count(*) filter (where status <> 'not_evaluated' and age between 0 and {short_last})
                as evaluations_short,
            count(*) filter (where status = 'bad' and age between 0 and {short_last})
                as bad_short,
            count(*) filter (where status <> 'not_evaluated' and age between 0 and {long_last})
                as evaluations_long,
            count(*) filter (where status = 'bad' and age between 0 and {long_last})
                as bad_long,
            coalesce(any_value(status) filter (where day = reference_day), 'not_evaluated')
                as latest_status,
            coalesce(
                list(partition order by partition)
                    filter (where status = 'bad' and age between 0 and window_days - 1),
                []::varchar[]
            ) as bad_days,
            max(day) filter (where status = 'good' and age >= 0) as last_good_day
        from windowed
        group by all
    ),
    starts as (
        select a.model, a.model_version, a.slo, min(a.day) as breach_started
        from aged a
        join counts c using (model, model_version, slo)
        where a.status = 'bad' and a.day <= c.reference_day
            and (c.last_good_day is null or a.day > c.last_good_day)
        group by all
    ),
    budgets as (
        select
            c.*,
            s.breach_started,
            c.good + c.bad as evaluations,
            (1.0::double - c.target) * (c.good + c.bad) as budget,
            case
                when c.evaluations_short = 0 then null
                when c.target >= 1 then (case when c.bad_short > 0 then 'inf'::double else 0.0 end)
                else (c.bad_short::double / c.evaluations_short) / (1.0::double - c.target)
            end as burn_rate_short,
            case
                when c.evaluations_long = 0 then null
                when c.target >= 1 then (case when c.bad_long > 0 then 'inf'::double else 0.0 end)
                else (c.bad_long::double / c.evaluations_long) / (1.0::double - c.target)
            end as burn_rate_long
        from counts c
        left join starts s using (model, model_version, slo)
    )
    select
        model,
        model_version,
        track,
        slo,
        blocking,
        objective,
        comparator,
        target,
        window_days,
        reference_day,
        (reference_day - (window_days - 1))::date as window_start,
        evaluations,
        good,
        bad,
        budget,
        case when budget > 0 then bad / budget end as consumed_fraction,
        budget - bad as remaining,
        case when budget > 0 then 1.0::double - bad / budget end as remaining_fraction,
        bad > budget + {epsilon} as exhausted,
        burn_rate_short,
        burn_rate_long,
        case
            when burn_rate_short >= {page} and burn_rate_long >= {page} then 'page'
            when burn_rate_short >= {ticket} and burn_rate_long >= {ticket} then 'ticket'
            else 'none'
        end as alert_level,
        latest_status,
        bad_days,
        breach_started,
        last_evaluated_day,
        evidence_delay_days,
        not evidence_fresh as evidence_missing,
        case
            when bad > budget + {epsilon} then 'exhausted'
            when latest_status = 'bad' then 'breached'
            when not evidence_fresh then 'no_evidence'
            else 'ok'
        end as state
    from budgets
    """


_SLO_STATUS: Final = """
    create or replace view slo_status as
    select
        model, model_version, track, slo, blocking, state, latest_status, reference_day,
        breach_started, window_days, window_start, evaluations, good, bad, target, budget,
        remaining, remaining_fraction, exhausted, burn_rate_short, burn_rate_long,
        alert_level, last_evaluated_day, evidence_delay_days
    from error_budget
    """


def slo_views(policy: AlertPolicy = DEFAULT_POLICY) -> tuple[str, ...]:
    """The three SLO views (``slo_evaluations``, ``error_budget``, ``slo_status``) under
    that alert policy, in creation order."""
    return (_SLO_EVALUATIONS, _error_budget_view(policy), _SLO_STATUS)


#: The views the store installs: those of the default :class:`AlertPolicy`.
SLO_VIEWS: Final[tuple[str, ...]] = slo_views()
