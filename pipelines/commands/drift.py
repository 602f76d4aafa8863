"""``datasre drift BASELINE CURRENT``: ad-hoc drift of two parquet snapshots.

BASELINE is a parquet file (or glob) or a stored profile directory (``assets.baseline_store``);
CURRENT is a parquet file or glob. Numeric vs categorical comes from the dtypes unless
``--numeric``/``--categorical`` say otherwise. Output rows carry feature, method,
statistic, p_value, q_value, significant, effect, threshold, comparator, drifted and status
(plus how each number was produced in json/csv). The table is printed by
:func:`pipelines.tables.text_table`; ``--config`` contracts come from
:func:`assets.contract_cache.contracts_at`.

Exit codes: 0 no feature drifted, 1 some did, 2 bad input (missing or unreadable file,
unknown column, no common columns) or no verdict at all (every feature with fewer than
``MIN_VALUES`` = 30 non-null values on a side, an empty CURRENT included): one line on
stderr naming the file and the field. "0 drifted" is only said of features that were
judged.
With a stored-profile BASELINE the sketch engine is chosen without ``--sketch`` when the
exact engine's estimate (:mod:`assets.drift_engine`) exceeds the memory left or the
profile keeps no sorted values; stderr says so.
Heavy imports (polars, numpy, scipy) happen inside :func:`run`, so registering the
command costs nothing to the other subcommands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from checks.errors import InputError
from pipelines.commands.arguments import Subcommands, add_command, add_format, add_model
from pipelines.memory_budget import out_of_memory_message
from pipelines.tables import cell_text, text_table

if TYPE_CHECKING:
    import polars as pl

    from assets.drift_workers import DriftWorkers
    from checks.contract import DriftOverride
    from checks.profile import BaselineProfile

__all__ = ["main", "register", "run"]

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2
#: CURRENT at least this large (bytes on disk) starts a worker process early. A 1M-row,
#: 50-feature snapshot is ~240 MB, so PROCESS_MIN_CELLS (40M) is ~190 MB of such data.
_EARLY_WORKER_BYTES = 160 * 1024 * 1024
#: Memory one row of the column being compared needs at least, per process (bytes): the
#: float64 values and their sorted copy (measured: ~25 bytes a row at 20M rows).
_BYTES_PER_ROW = 16
#: Address space polars and numpy reserve on their first query beyond what the imports
#: map (thread stacks, allocator arenas), bytes. Measured on 2 cores: 516 MiB mapped after
#: the imports, ~1,300 MiB at the peak of a 10k-row comparison; under a 1 GiB
#: ``ulimit -v`` even that aborts or hangs inside polars, under 1.5 GiB it runs.
_RUNTIME_ADDRESS_SPACE = 768 * 1024 * 1024

_TABLE_COLUMNS = (
    "feature",
    "method",
    "statistic",
    "p_value",
    "q_value",
    "significant",
    "effect",
    "threshold",
    "drifted",
    "status",
)


#: ``datasre drift``'s help (see :func:`pipelines.commands.arguments.add_command`).
ABOUT: Final = """compare two parquet snapshots (or a stored profile and a snapshot) for drift

Per-feature drift (PSI, KS, chi2, JS, Wasserstein) of CURRENT against BASELINE. Exit 0: no
feature drifted; 1: some did; 2: bad input."""


def register(subparsers: Subcommands) -> None:
    """Add the ``drift`` subcommand (``func=run``)."""
    parser = add_command(subparsers, "drift", run, ABOUT)
    parser.add_argument("baseline", metavar="BASELINE", help="parquet file/glob or profile dir")
    parser.add_argument("current", metavar="CURRENT", help="parquet file or glob")
    for option, help_text in (
        ("--columns", "comma-separated features to compare"),
        ("--numeric", "treat these columns as numeric"),
        ("--categorical", "treat these columns as categorical"),
        ("--methods", "comma-separated subset of psi,ks,chi2,js,wasserstein (default psi,ks,chi2)"),
    ):
        parser.add_argument(option, type=_csv_list, default=None, help=help_text)
    parser.add_argument("--bins", type=int, default=None, help="PSI bins B (default 10)")
    add_format(parser, "table", "json", "csv")
    parser.add_argument(
        "--sketch",
        action="store_true",
        help="stream CURRENT row group by row group into mergeable counts (needs a profile "
        "BASELINE); KS/Wasserstein then carry an error bound",
    )
    parser.add_argument(
        "--save-profile",
        metavar="DIR",
        default=None,
        help="also store the baseline profile built from a parquet BASELINE in DIR",
    )
    add_model(parser, required=False, help="model of --config (a directory) whose overrides apply")
    parser.add_argument(
        "--workers", type=int, default=None, help="threads for per-column work (default ≤4)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="processes sharing the per-column work, this one included (default: 2 on "
        "large inputs, see assets.drift_runner.PROCESS_MIN_CELLS; 1: this process only)",
    )


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


#: How an allocation failure reads in polars' and the OS's errors (ENOMEM).
_ALLOCATION_FAILURES = ("cannot allocate memory", "os error 12", "out of memory")


def _read_error(file: str, problem: str, exc: Exception) -> InputError:
    """One line for an error raised while reading ``file``: the out-of-memory message when
    it is an allocation failure (polars reports ENOMEM as an I/O error), else ``problem``
    with the error's first line."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if any(marker in text.lower() for marker in _ALLOCATION_FAILURES):
        return InputError(out_of_memory_message(file, first))
    return InputError(f"{file}: {problem}: {first}")


def run(args: argparse.Namespace) -> int:
    """Run the comparison, print it, return 1 when any feature drifted, else 0.

    Memory exhaustion that surfaces as an exception (``MemoryError`` from numpy or
    Python, a worker process that aborted or was killed) becomes the one-line
    out-of-memory error; :func:`_check_memory` refuses beforehand what clearly cannot fit.
    """
    from assets.drift_workers import keep_freed_memory

    keep_freed_memory()
    workers = _early_workers(args)
    try:
        return _run(args, workers)
    except MemoryError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "an allocation failed"
        raise InputError(out_of_memory_message(args.current, detail)) from None
    finally:
        if workers is not None:
            workers.close()


def _early_workers(args: argparse.Namespace) -> DriftWorkers | None:
    """Start a drift worker process now, before this process imports polars and numpy,
    when the inputs look large enough for :class:`assets.drift_runner.ColumnRunner` to
    share the work (its own rule decides; an unused worker is ended at once).

    Why: a worker's start-up (~0.45 s of CPU: interpreter, polars, numpy) then
    runs on the other core while this process does the same imports.
    """
    if args.processes is not None and args.processes < 2:
        return None
    if args.processes is None and (os.cpu_count() or 1) < 2:
        return None
    try:
        size = sum(p.stat().st_size for p in _paths(args.current))
    except (InputError, OSError):
        return None  # reported properly later
    if args.processes is None and size < _EARLY_WORKER_BYTES:
        return None
    from assets.drift_workers import DriftWorkers

    return DriftWorkers((args.processes or 2) - 1)


def _run(args: argparse.Namespace, workers: DriftWorkers | None) -> int:
    import polars as pl

    from assets.drift_runner import ColumnRunner
    from checks.drift import DEFAULT_METHODS, compute_drift, drifted_features
    from checks.profile import DEFAULT_BINS

    stored = _stored_profile(args.baseline, args.save_profile)
    if stored is not None:
        _choose_sketch(args, stored)
    _check_memory(args)
    baseline = stored if stored is not None else _open_baseline(args.baseline, args.save_profile)
    current_frames = _scan_all(args.current)
    methods = tuple(args.methods) if args.methods else DEFAULT_METHODS
    bins = args.bins if args.bins is not None else DEFAULT_BINS
    _check_current(args, baseline, current_frames)
    numeric, categorical = _features(args, baseline, current_frames[0])
    overrides = _overrides(args)
    current: Any
    if args.sketch:
        from checks.drift import sketch_snapshot
        from checks.profile import BaselineProfile

        if not isinstance(baseline, BaselineProfile):
            raise InputError(f"{args.baseline}: --sketch needs a stored profile as BASELINE")
        from assets.row_groups import row_group_parts

        wanted = None if numeric is None else [*(numeric or []), *(categorical or [])]
        try:
            # One item at a time in this process (sketching is numpy-bound: threads
            # would only contend), or shared with worker processes; each item reads one
            # column of one row group at a time.
            runner = ColumnRunner(threads=1, processes=args.processes, pool=workers)
            parts = row_group_parts([str(path) for path in _paths(args.current)])
            current = sketch_snapshot(baseline, parts, wanted, map_columns=runner)
        except pl.exceptions.PolarsError as exc:
            raise _read_error(args.current, "cannot read", exc) from None
    else:
        current = current_frames[0] if len(current_frames) == 1 else pl.concat(current_frames)
    try:
        result = compute_drift(
            baseline,
            current,
            numeric=numeric,
            categorical=categorical,
            methods=methods,
            bins=bins,
            overrides=overrides,
            map_columns=ColumnRunner(threads=args.workers, processes=args.processes, pool=workers),
        )
    except pl.exceptions.PolarsError as exc:
        raise _read_error(args.current, "cannot read", exc) from None
    verdicts = FeatureVerdicts.of(result)
    _print(result, args.format, verdicts.summary())
    if not verdicts.judged:
        raise InputError(f"{args.current}: {verdicts.summary()}")
    return EXIT_DRIFT if drifted_features(result) else EXIT_OK


def _choose_sketch(args: argparse.Namespace, profile: BaselineProfile) -> None:
    """Switch a stored-profile comparison to the sketch engine (``args.sketch``) when the
    exact engine's estimate does not fit the memory left, as the drift asset does
    (:mod:`assets.drift_engine`), or when the profile keeps no sorted values (built in
    batches), with a note on stderr. A parquet BASELINE has no grid to sketch against, so
    :func:`_check_memory` alone judges it."""
    from assets.drift_engine import columns_in_flight, exact_need_bytes
    from assets.memory_budget import available_memory, parquet_row_count

    if args.sketch:
        return
    try:
        rows = sum(parquet_row_count(p) or 0 for p in _paths(args.current))
    except InputError:
        return  # reported properly by the readers
    numeric = list(profile.numeric)
    budget = available_memory()
    need = exact_need_bytes(rows, profile, numeric, columns_in_flight(len(numeric), args.workers))
    if not all(p.has_values for p in profile.numeric.values()):
        why = "the profile holds no sorted values (built in batches)"
    elif budget is not None and need > budget.bytes_left:
        why = (
            f"the exact engine needs ~{need // 2**20:,} MiB, "
            f"{budget.bytes_left // 2**20:,} MiB left ({budget.source})"
        )
    else:
        return
    args.sketch = True
    print(
        f"datasre drift: note: {why}: using the sketch engine (KS and Wasserstein with an "
        "error bound)",
        file=sys.stderr,
    )


def _check_memory(args: argparse.Namespace) -> None:
    """Refuse, before reading any column, a comparison that clearly cannot fit in the
    memory left (see :mod:`assets.memory_budget` for why a crash cannot be caught).

    Exact mode holds one whole column of CURRENT (and of a parquet BASELINE) per process;
    sketch mode one column of one row group. The estimate is a floor, so a refusal means the
    run would certainly fail; a run that passes may still run out, and is then reported
    by the handlers in :func:`run`.
    """
    from assets.baseline_store import is_profile_dir
    from assets.memory_budget import (
        available_memory,
        parquet_row_count,
        parquet_row_group_rows,
    )

    budget = available_memory()
    if budget is None:
        return
    try:
        current = _paths(args.current)
        baseline = [] if is_profile_dir(args.baseline) else _paths(args.baseline)
    except InputError:
        return  # reported properly by the readers
    if args.sketch:
        groups = (parquet_row_group_rows(p) or [] for p in current)
        rows = max((n for sizes in groups for n in sizes), default=0)
    else:
        rows = sum(parquet_row_count(p) or 0 for p in current)
    rows = max(rows, sum(parquet_row_count(p) or 0 for p in baseline))
    need = rows * _BYTES_PER_ROW
    if budget.counts_mapped_files:  # polars maps the files it reads
        need += _RUNTIME_ADDRESS_SPACE + max((p.stat().st_size for p in current), default=0)
    if need > budget.bytes_left:
        raise InputError(
            out_of_memory_message(
                args.current,
                f"comparing {rows:,} rows needs at least {need // 2**20:,} MiB, "
                f"{budget.bytes_left // 2**20:,} MiB left ({budget.source})",
            )
        )


@dataclass(frozen=True)
class FeatureVerdicts:
    """Which features the comparison could judge: a feature has a verdict when one of its
    rows decided (``drifted`` true or false). Without one, "0 drifted" would read as
    "no drift" when nothing was measured, so the summary counts only judged features and
    names the others (fewer than ``MIN_VALUES`` non-null values on a side, or methods
    that report without deciding)."""

    judged: tuple[str, ...]
    drifted: tuple[str, ...]
    insufficient: tuple[str, ...]
    undecided: tuple[str, ...]

    @classmethod
    def of(cls, result: pl.DataFrame) -> FeatureVerdicts:
        import polars as pl

        per_feature = result.group_by("feature").agg(
            pl.col("drifted").is_not_null().any().alias("judged"),
            pl.col("drifted").fill_null(value=False).any().alias("drifted"),
            (pl.col("status") == "insufficient_data").any().alias("insufficient"),
        )

        def names(condition: pl.Expr) -> tuple[str, ...]:
            return tuple(sorted(per_feature.filter(condition)["feature"].to_list()))

        return cls(
            judged=names(pl.col("judged")),
            drifted=names(pl.col("drifted")),
            insufficient=names(~pl.col("judged") & pl.col("insufficient")),
            undecided=names(~pl.col("judged") & ~pl.col("insufficient")),
        )

    def summary(self) -> str:
        """One line: how many judged features drifted, and which had no verdict why."""
        from checks.drift import MIN_VALUES

        unjudged = []
        if self.insufficient:
            unjudged.append(
                f"{len(self.insufficient)} had insufficient data (fewer than {MIN_VALUES} "
                f"non-null values on a side): {', '.join(self.insufficient)}"
            )
        if self.undecided:
            unjudged.append(
                f"{len(self.undecided)} were reported without a verdict: "
                f"{', '.join(self.undecided)}"
            )
        if not self.judged:
            if not self.undecided:
                unjudged[0] = f"all {unjudged[0]}"
            return "no feature had a verdict: " + "; ".join(unjudged)
        drifted = f": {', '.join(self.drifted)}" if self.drifted else ""
        if not unjudged:
            return f"{len(self.drifted)} of {len(self.judged)} features drifted{drifted}"
        return (
            f"{len(self.drifted)} of {len(self.judged)} features with a verdict drifted"
            f"{drifted}; " + "; ".join(unjudged)
        )


def _paths(pattern: str) -> list[Path]:
    """The files of a path or glob, resolved as the assets resolve a contract's sources
    (:func:`assets.files.resolve_files`); a directory is not a parquet file."""
    from assets.files import resolve_files

    paths = [Path(file) for file in resolve_files(pattern)]
    for path in paths:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a parquet file")
    return paths


def _scan(path: Path) -> pl.LazyFrame:
    import polars as pl

    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _read_error(str(path), "not a readable parquet file", exc) from None
    return frame


def _scan_all(pattern: str) -> list[pl.LazyFrame]:
    return [_scan(p) for p in _paths(pattern)]


def _check_current(
    args: argparse.Namespace,
    baseline: pl.LazyFrame | BaselineProfile,
    current_frames: list[pl.LazyFrame],
) -> None:
    """Refuse what cannot be compared, say what is left out.

    An empty CURRENT and a column whose kind differs from the baseline's (a number stored
    as text, say) are input errors (exit 2); baseline columns absent from CURRENT are
    named on stderr, since a silently shorter comparison reads as "no drift".
    """
    import polars as pl

    from checks.drift import MIN_VALUES
    from checks.drift.features import baseline_kinds, feature_kind

    rows = sum(int(f.select(pl.len()).collect().item()) for f in current_frames)
    if rows == 0:
        raise InputError(
            f"{args.current}: snapshot has no rows: no feature can have a verdict "
            f"(each needs at least {MIN_VALUES} non-null values)"
        )
    current = current_frames[0].collect_schema()
    kinds = baseline_kinds(baseline)
    forced = set(args.numeric or []) | set(args.categorical or [])
    for name, kind in kinds.items():
        if name in current and name not in forced and kind is not None:
            found = feature_kind(current[name])
            if found is not None and found != kind:
                raise InputError(
                    f"{args.current}: column {name!r}: {current[name]} ({found}) here, "
                    f"{kind} in the baseline"
                )
    absent = sorted(name for name, kind in kinds.items() if kind and name not in current)
    if absent and args.columns is None and not forced:
        print(
            f"datasre drift: warning: baseline columns missing from CURRENT, not compared: "
            f"{', '.join(absent)}",
            file=sys.stderr,
        )


def _stored_profile(pattern: str, save_to: str | None) -> BaselineProfile | None:
    """The stored profile BASELINE names (its metadata and grids; sorted values are read
    when used), or None for a parquet BASELINE."""
    from assets.baseline_store import is_profile_dir, load_profile

    if not is_profile_dir(pattern):
        return None
    if save_to:
        raise InputError(f"{pattern}: --save-profile needs a parquet BASELINE")
    return load_profile(pattern)


def _open_baseline(pattern: str, save_to: str | None) -> pl.LazyFrame:
    """A parquet BASELINE's lazy scan (and its profile stored in ``save_to``)."""
    from assets.baseline_store import save_profile

    frames = _scan_all(pattern)
    import polars as pl

    frame = frames[0] if len(frames) == 1 else pl.concat(frames)
    if save_to:
        from checks.profile import build_profile

        save_profile(build_profile(frame), save_to)
    return frame


def _features(
    args: argparse.Namespace,
    baseline: pl.LazyFrame | BaselineProfile,
    current: pl.LazyFrame,
) -> tuple[list[str] | None, list[str] | None]:
    """Numeric and categorical feature lists from --columns/--numeric/--categorical."""
    from checks.drift.features import baseline_kinds, identifier_columns
    from checks.profile import BaselineProfile

    cur_schema = current.collect_schema()
    if args.columns is None and args.numeric is None and args.categorical is None:
        comparable = {n: k for n, k in baseline_kinds(baseline).items() if k and n in cur_schema}
        texts = [n for n, k in comparable.items() if k == "categorical"]
        declared = set(_overrides(args) or {})  # a contract's features are compared
        skipped = [n for n in identifier_columns(baseline, texts) if n not in declared]
        if not skipped:
            return None, None
        print(
            f"datasre drift: note: not compared, every baseline value distinct (an identifier, "
            f"not a feature): {', '.join(skipped)}; name it in --columns to compare it anyway",
            file=sys.stderr,
        )
        kept = [n for n in comparable if n not in skipped]
        if not kept:
            raise InputError(f"{args.current}: no feature column in common with the baseline")
        return [n for n in kept if comparable[n] == "numeric"], [
            n for n in kept if comparable[n] == "categorical"
        ]
    forced_num = set(args.numeric or [])
    forced_cat = set(args.categorical or [])
    both = forced_num & forced_cat
    if both:
        raise InputError(f"--numeric/--categorical: {sorted(both)} given as both")
    columns = list(args.columns or [*(args.numeric or []), *(args.categorical or [])])
    kinds = baseline_kinds(baseline)
    numeric: list[str] = []
    categorical: list[str] = []
    for name in columns:
        if name not in cur_schema:
            raise InputError(f"{args.current}: column {name!r}: not found")
        if name not in kinds:
            where = "not in the profile" if isinstance(baseline, BaselineProfile) else "not found"
            raise InputError(f"{args.baseline}: column {name!r}: {where}")
        kind = kinds[name]
        if name in forced_num:
            kind = "numeric"
        elif name in forced_cat:
            kind = "categorical"
        if kind is None:
            raise InputError(
                f"{args.baseline}: column {name!r}: dtype is neither numeric nor categorical "
                "(use --numeric or --categorical)"
            )
        (numeric if kind == "numeric" else categorical).append(name)
    return numeric, categorical


def _overrides(args: argparse.Namespace) -> dict[str, DriftOverride] | None:
    if not getattr(args, "config", None):
        return None
    from assets.contract_cache import contracts_at

    contracts = contracts_at(args.config)
    if args.model is not None:
        chosen = tuple(c for c in contracts if c.model == args.model)
        if not chosen:
            raise InputError(f"{args.config}: model: {args.model!r} is not declared")
    elif len(contracts) == 1:
        chosen = contracts
    else:
        raise InputError(f"{args.config}: several contracts; pick one with --model")
    return {name: spec.drift for name, spec in chosen[0].features.items()}


def _print(result: pl.DataFrame, fmt: str, summary: str) -> None:
    if fmt == "json":
        sys.stdout.write(result.write_json())
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        sys.stdout.write(result.write_csv())
        return
    table = result.select(_TABLE_COLUMNS).iter_rows()
    rows = [[cell_text(v, missing="-", booleans=("yes", "no"), digits=4) for v in r] for r in table]
    lines = [*text_table(_TABLE_COLUMNS, rows), "", summary]
    sys.stdout.write("\n".join(lines) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point (``python -m pipelines.commands.drift``), same exit codes."""
    from pipelines.cli import CommandLineError, DatasreArgumentParser, parse_arguments

    parser: argparse.ArgumentParser = DatasreArgumentParser(prog="datasre")
    subparsers = parser.add_subparsers(dest="command")
    register(subparsers)
    drift_parser = subparsers.choices["drift"]
    drift_parser.add_argument("--config", default=None, help="contract file or directory")
    drift_parser.add_argument("--db", default=None, help="unused by drift")
    drift_parser.add_argument("--debug", action="store_true", help="show tracebacks")
    try:
        args = parse_arguments(parser, ["drift", *(sys.argv[1:] if argv is None else argv)])
    except CommandLineError as exc:
        print(f"datasre: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return run(args)
    except Exception as exc:
        from checks.contract import ContractError

        if args.debug or not isinstance(exc, InputError | ContractError):
            raise
        print(f"datasre: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
