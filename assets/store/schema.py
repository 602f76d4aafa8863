"""DDL of the DuckDB SLI store: tables and views users and CI query by name.

Names and columns follow docs/design.md (``runs``, ``sli_results``, ``sli_latest``; the row
contract v2) and are a public contract: change them only on purpose, with a README
changelog entry. Every drift row says which method and comparator produced it.

Upgrades are idempotent and run inside the first write transaction of a newer datasre:
version 2 added ``sli_history``; version 3 (row contract v2) adds ``statistic``,
``significant`` and ``runbook`` to ``sli_results`` and ``sli_history`` (at the end of the
column list, where ``alter table`` puts them, so old and new files list them alike) and
rewrites old drift rows with :data:`UPGRADE_TO_3` (only what the stored columns allow).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "RUN_CONTRACT_COLUMNS",
    "SCHEMA_VERSION",
    "SLI_COLUMNS",
    "TABLES",
    "UPGRADE_TO_3",
    "VIEWS",
]

#: Bumped when a table changes shape or meaning; stored in ``datasre_meta``. 2 adds
#: ``sli_history`` (created on the first write to an older file: no existing table
#: changes); 3 the row contract v2 columns (``statistic``, ``significant``, ``runbook``);
#: 4 ``runs.status = 'crashed'`` (a run with no SLI rows, which ``sli_latest`` skips): an
#: older datasre would take such a run for the day's latest and, on its next write,
#: recreate ``sli_latest`` so that it hides the day's rows, so it must refuse the file;
#: 5 ``runs.evaluation_delay_hours`` and ``runs.timezone`` (an older datasre took the
#: extra columns for another tool's table: it now says the file is newer); 6
#: ``runs.measured_under`` (an older datasre reads the version first and says so).
SCHEMA_VERSION: Final = 6

#: Columns of row contract v2 that older files lack: (name, type). ``default null`` keeps
#: a not-yet-upgraded file recognisable as a datasre store (assets.store.integrity).
_V3_COLUMNS: Final = (("statistic", "double"), ("significant", "boolean"), ("runbook", "varchar"))
#: Columns of ``runs`` added by versions 5 (the schedule) and 6 (the measuring settings,
#: JSON: :mod:`checks.measured_settings`); nullable: runs written before are NULL.
RUN_CONTRACT_COLUMNS: Final = (
    ("evaluation_delay_hours", "double"),
    ("timezone", "varchar"),
    ("measured_under", "varchar"),
)

#: Columns of one SLI row, shared by ``sli_results`` and ``sli_history`` (one home).
SLI_COLUMNS: Final = """run_id varchar not null,
        model varchar not null,
        model_version varchar not null,
        partition varchar not null,
        track varchar not null,           -- infra | model
        category varchar not null,        -- schema, completeness, freshness, drift, ...
        sli varchar not null,
        feature varchar,
        slice varchar,
        method varchar,
        value double,
        p_value double,
        q_value double,
        objective double,
        comparator varchar,               -- <=, >=, <, >
        ok boolean,                       -- NULL when no objective applies
        blocking boolean not null default false,
        n_rows bigint not null,
        status varchar not null default 'ok',  -- ok | insufficient_data | skipped | error
        detail varchar,
        measured_at timestamp with time zone not null,
        -- row contract v2: raw test statistic (KS D, chi-square; NULL: no test), q_value <
        -- the run's alpha (NULL: no test), the runbook of the row's incident class
        statistic double default null,
        significant boolean default null,
        runbook varchar default null"""

TABLES: Final[tuple[str, ...]] = (
    """
    create table if not exists datasre_meta (
        key varchar primary key,
        value varchar not null
    )
    """,
    """
    create table if not exists runs (
        run_id varchar primary key,
        model varchar not null,
        model_version varchar not null,
        partition varchar not null,
        started_at timestamp with time zone not null,
        finished_at timestamp with time zone,
        -- succeeded: no blocking SLO breached | breached: a blocking SLO breached (rows are
        -- evidence; the Dagster run failed on its checks) | failed: input unreadable |
        -- crashed: the job failed before recording anything (no SLI rows)
        status varchar not null,
        error varchar,                    -- one line, when status = failed or crashed
        kind varchar not null default 'scheduled',  -- scheduled | backfill | candidate | ...
        n_slis bigint,
        n_breaches bigint,
        n_labels bigint                   -- labelled rows the quality SLIs used
    )
    """,
    f"""
    create table if not exists sli_results (
        {SLI_COLUMNS}
    )
    """,
    # The rows a re-run replaced (a restatement when late labels land, a manual re-run):
    # moved here by the replacing run's transaction, so "what changed" stays answerable
    # while sli_results (and sli_latest) keep exactly one set of rows per partition.
    f"""
    create table if not exists sli_history (
        {SLI_COLUMNS},
        replaced_at timestamp with time zone not null,  -- when the replacing run finished
        replaced_by varchar not null                     -- run_id of the replacing run
    )
    """,
    *(
        f"alter table {table} add column if not exists {name} {kind} default null"
        for table in ("sli_results", "sli_history")
        for name, kind in _V3_COLUMNS
    ),
    # The contract's schedule and measuring settings a run was judged under (the gate
    # judges with the contract in force and blocks when they differ); NULL for runs
    # written before.
    *(
        f"alter table runs add column if not exists {name} {kind} default null"
        for name, kind in RUN_CONTRACT_COLUMNS
    ),
    """
    create table if not exists slo_definitions (
        model varchar not null,
        model_version varchar not null,
        track varchar not null,
        sli varchar not null,
        objective double not null,
        comparator varchar not null,
        target double not null,           -- share of evaluations that must be good
        blocking boolean not null,
        window_days integer not null,
        updated_at timestamp with time zone not null,
        -- days after the partition's evaluation its SLI may arrive (labels); 0 otherwise
        evidence_delay_days double not null default 0,
        primary key (model, model_version, sli)
    )
    """,
    # Stores written before evidence_delay_days existed gain it (0: judged on time).
    """
    alter table slo_definitions add column if not exists evidence_delay_days double default 0
    """,
    """
    create index if not exists sli_results_partition
        on sli_results (model, model_version, partition)
    """,
    """
    create index if not exists sli_history_partition
        on sli_history (model, model_version, partition)
    """,
)

VIEWS: Final[tuple[str, ...]] = (
    # The newest recorded run of each model/version/partition, and its SLI rows; a crashed
    # run recorded none, so the rows of the run before it stay the latest.
    """
    create or replace view sli_latest as
    with latest as (
        select run_id
        from runs
        where status <> 'crashed'
        qualify row_number() over (
            partition by model, model_version, partition
            order by coalesce(finished_at, started_at) desc, started_at desc, run_id desc
        ) = 1
    )
    select s.*
    from sli_results s
    join latest using (run_id)
    """,
)

#: Rewrites of rows written before version 3 (run once, in the upgrading transaction, on
#: ``sli_results`` and ``sli_history``; ``{table}`` is one of those two fixed names).
#: Nothing is recomputed from data the store does not hold:
#:
#: * ``ks`` drift rows: ``value`` was already KS D, the effect the rule judges; it is
#:   also the raw statistic, so ``statistic = value``;
#: * ``chi2`` drift rows stored the chi-square statistic as ``value``: it moves to
#:   ``statistic`` and ``value`` becomes the JS distance the rule judged, read from
#:   ``detail`` (``js_distance=...``, written since the rule text existed); NULL when the
#:   detail does not hold it (no verdict was reached then either);
#: * ``significant`` of those test rows from the stored q-value and the rule's alpha 0.05
#:   (fixed before version 3); NULL without a q-value;
#: * ``runbook`` stays NULL: which contract's runbook was in force is not stored.
#:
#: Each rewritten row says so at the end of ``detail``.
UPGRADE_TO_3: Final[tuple[str, ...]] = (
    """
    update {table} set
        statistic = value,
        value = try_cast(regexp_extract(detail, 'js_distance=([-+0-9.eE]+|nan|inf)', 1) as double),
        detail = coalesce(detail || '; ', '')
            || 'upgraded to schema 3: statistic was value, '
            || 'value is the JS distance of detail (4 digits)'
    where category in ('drift', 'prediction_drift') and sli = 'chi2' and statistic is null
    """,
    """
    update {table} set
        statistic = value,
        detail = coalesce(detail || '; ', '') || 'upgraded to schema 3: statistic is value'
    where category in ('drift', 'prediction_drift') and sli = 'ks' and statistic is null
    """,
    """
    update {table} set significant = q_value < 0.05
    where category in ('drift', 'prediction_drift') and sli in ('ks', 'chi2')
        and q_value is not null and significant is null
    """,
)
