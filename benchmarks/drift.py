"""Whole-process drift benchmark: datasre drift vs a per-column scipy loop vs a scan floor.

Generates a baseline and a current parquet file (``--rows`` each, default 1M; 40 numeric
features of mixed shapes with ties, nulls, NaN and a few infinities; 10 categorical
features with up to 200 categories; a handful of features shifted mildly or strongly)
into ``benchmarks/out/`` (git-ignored), then times whole processes, in the same run:

* ``floor``: read both files and touch every column (benchmarks/scan_floor.py);
* ``scipy-loop``: the per-column scipy implementation (benchmarks/scipy_loop.py);
* ``datasre-parquet``: ``python -m pipelines.commands.drift BASELINE.parquet CURRENT``;
* ``datasre-profile``: the same with a stored baseline profile directory (built once,
  untimed, as a deployment would);
* ``datasre-profile-cli``: the same through the installed ``datasre`` console script
  (``pipelines.cli``, which registers every subcommand);
* ``datasre-sketch`` (with ``--sketch``): sketch mode against the stored profile;
* ``evidently`` (when ``evidently`` imports, in this interpreter or the one given with
  ``--evidently-python``; install the optional ``bench`` extra): Evidently's
  DataDriftPreset on the same two files (benchmarks/evidently_preset.py), timed once
  (``--evidently-repeat``): it is two orders of magnitude slower;
* ``ref-parquet`` and ``ref-profile`` (with ``--reference-checkout DIR``): the same two
  commands from another checkout (another commit's code, same interpreter and data), so
  code is compared across commits in one run even when the machine has changed.

With ``--sketch-rows N`` it also writes an N-row current snapshot in parts of at most
1M rows (generation stays within memory), runs sketch mode on it against the profile
(timed like the others) and exact mode once, and checks every sketch statistic against
the exact one: PSI, JS and chi2 equal, the exact KS statistic inside
``[statistic, statistic + error_bound]``, Wasserstein within ``± error_bound``.

Each process is timed from here: wall clock, user+system CPU of the process and the
worker processes it waited for (``wait4``), and peak RSS as the *sum* over the process
and its workers of each one's high-water mark (``VmHWM`` sampled every 20 ms), so a
second process cannot hide memory. Each variant is repeated ``--repeat`` times
(default 3), interleaved, and the median is reported with ratios and the issue's targets.
Usage: ``python benchmarks/drift.py [--rows N] [--repeat R] [--sketch] [--sketch-rows N]
[--evidently-python PATH] [--no-evidently] [--reference-checkout DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.process_meter import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
PYTHON = sys.executable

N_NUMERIC = 40
N_CATEGORICAL = 10


def _numeric_column(
    rng: np.random.Generator, i: int, rows: int, shift: float
) -> tuple[str, np.ndarray]:
    """One numeric feature; its shape cycles through 8 families (names say which)."""
    family = i % 8
    if family == 0:
        name, x = f"num_{i:02d}_normal", rng.normal(shift, 1.0, rows)
    elif family == 1:
        name, x = f"num_{i:02d}_lognormal", rng.lognormal(shift, 1.0, rows)
    elif family == 2:
        name, x = f"num_{i:02d}_uniform", rng.uniform(shift, 1.0 + shift, rows)
    elif family == 3:
        lam = 3.0 * (1 + shift)
        name, x = f"num_{i:02d}_poisson ties", rng.poisson(lam, rows).astype(np.float64)
    elif family == 4:
        name, x = f"num_{i:02d}_exponential", rng.exponential(1.0 + shift, rows)
    elif family == 5:
        mix = rng.random(rows) < 0.3
        x = np.where(mix, rng.normal(-2 + shift, 0.5, rows), rng.normal(1 + shift, 1.0, rows))
        name = f"num_{i:02d}_bimodal"
    elif family == 6:
        name = f"num_{i:02d}_rounded/ties"
        x = np.round(rng.normal(50 + 10 * shift, 10, rows))
    else:
        name = f"num_{i:02d}_student_t"
        x = rng.standard_t(3, rows) + shift
    # Nulls in every third feature, NaN in every fifth, a few infinities in every seventh.
    if i % 5 == 0:
        x[rng.random(rows) < 0.01] = np.nan
    if i % 7 == 0:
        x[rng.integers(0, rows, 10)] = np.inf
    return name, x


def _categorical_column(
    rng: np.random.Generator, i: int, rows: int, shift: float
) -> tuple[str, pl.Series]:
    k = [2, 5, 12, 30, 50, 80, 100, 150, 200, 200][i]
    weights = 1.0 / np.arange(1, k + 1) ** (1.0 + shift)
    codes = rng.choice(k, size=rows, p=weights / weights.sum())
    labels = np.array([f"cat_{i}_{j:03d}" for j in range(k)])
    return f"cat_{i:02d}", pl.Series(labels[codes])


def generate(rows: int, out: Path, seed: int = 7) -> tuple[Path, Path]:
    """Write baseline.parquet and current.parquet (deterministic for a seed)."""
    out.mkdir(parents=True, exist_ok=True)
    base_path, cur_path = out / f"baseline_{rows}.parquet", out / f"current_{rows}.parquet"
    if base_path.exists() and cur_path.exists():
        return base_path, cur_path
    # Shifts of the current file: most features unshifted, some mild, a few strong.
    shifts = {3: 0.02, 9: 0.05, 14: 0.3, 21: 0.01, 30: 0.5}
    cat_shifts = {2: 0.05, 7: 0.5}
    for path, is_current in ((base_path, False), (cur_path, True)):
        rng = np.random.default_rng(seed + int(is_current))
        columns: dict[str, pl.Series] = {}
        for i in range(N_NUMERIC):
            name, x = _numeric_column(rng, i, rows, shifts.get(i, 0.0) if is_current else 0.0)
            series = pl.Series(name, x)
            if i % 3 == 0:
                series = series.scatter(np.flatnonzero(rng.random(rows) < 0.05), None)
            columns[name] = series
        for i in range(N_CATEGORICAL):
            name, s = _categorical_column(
                rng, i, rows, cat_shifts.get(i, 0.0) if is_current else 0.0
            )
            columns[name] = s.alias(name)
        pl.DataFrame(columns).write_parquet(path)
    return base_path, cur_path


def generate_parts(rows: int, out: Path, part_rows: int = 1_000_000, seed: int = 7) -> str:
    """Write an N-row current snapshot as parts of at most ``part_rows`` rows (each part
    its own seed, the current file's shifts); returns the glob of the parts."""
    directory = out / f"current_{rows}_parts"
    directory.mkdir(parents=True, exist_ok=True)
    shifts = {3: 0.02, 9: 0.05, 14: 0.3, 21: 0.01, 30: 0.5}
    cat_shifts = {2: 0.05, 7: 0.5}
    n_parts = math.ceil(rows / part_rows)
    for part in range(n_parts):
        path = directory / f"part-{part:04d}.parquet"
        if path.exists():
            continue
        n = min(part_rows, rows - part * part_rows)
        rng = np.random.default_rng(seed + 1000 + part)
        columns: dict[str, pl.Series] = {}
        for i in range(N_NUMERIC):
            name, x = _numeric_column(rng, i, n, shifts.get(i, 0.0))
            series = pl.Series(name, x)
            if i % 3 == 0:
                series = series.scatter(np.flatnonzero(rng.random(n) < 0.05), None)
            columns[name] = series
        for i in range(N_CATEGORICAL):
            name, s = _categorical_column(rng, i, n, cat_shifts.get(i, 0.0))
            columns[name] = s.alias(name)
        tmp = path.with_suffix(".tmp")
        pl.DataFrame(columns).write_parquet(tmp)
        tmp.replace(path)
    return str(directory / "part-*.parquet")


def _timed(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL, cwd: Path = ROOT) -> Measure:
    """One whole process, timed from the repository root, or from another checkout for a
    ``--reference-checkout`` variant (benchmarks/process_meter.py)."""
    return timed(cmd, cwd=cwd, stdout=stdout)


#: The issue's targets per variant: (min x faster than the scipy loop, max x the floor,
#: max peak RSS MiB); None where the issue sets none.
TARGETS: dict[str, tuple[float | None, float | None, float | None]] = {
    "datasre-parquet": (6.0, 4.0, 1024.0),
    "datasre-profile": (10.0, 2.5, None),
    "datasre-profile-cli": (10.0, 2.5, None),
}


def _target_text(
    name: str, m: Measure, scipy_wall: float, floor_wall: float, sketch_ok: bool
) -> tuple[str, str]:
    if name.startswith("datasre-sketch-"):
        ok = m.rss_mib <= 2048 and sketch_ok
        return "RSS <= 2 GiB, within bounds", "yes" if ok else "no"
    if name not in TARGETS:
        return "-", "-"
    speed, floor, rss = TARGETS[name]
    parts, met = [], []
    if speed is not None:
        parts.append(f">= {speed:g}x scipy")
        met.append(scipy_wall / m.wall >= speed)
    if floor is not None:
        parts.append(f"<= {floor:g}x floor")
        met.append(m.wall / floor_wall <= floor)
    if rss is not None:
        parts.append(f"RSS <= {rss / 1024:g} GiB")
        met.append(m.rss_mib <= rss)
    return ", ".join(parts), "yes" if all(met) else "no"


def _profile_is_current(profile_dir: Path) -> bool:
    """A stored profile in the current layout (values as .npy files, KS grids)."""
    meta_path = profile_dir / "profile.json"
    if not meta_path.exists():
        return False
    meta = json.loads(meta_path.read_text())
    anchored = any("ks_anchor" in entry for entry in meta.get("numeric", {}).values())
    return "values_files" in meta and "grids_file" in meta and anchored


def _check_sketch(exact: list[dict[str, object]], sketch: list[dict[str, object]]) -> list[str]:
    """Problems where a sketch row is outside its documented bound of the exact row."""
    by_key = {(r["feature"], r["method"]): r for r in exact}
    problems = []
    for row in sketch:
        ref = by_key[(row["feature"], row["method"])]
        s, e, bound = row["statistic"], ref["statistic"], row["error_bound"]
        if s is None or e is None:
            if s != e:
                problems.append(f"{row['feature']}/{row['method']}: {s} vs exact {e}")
            continue
        assert isinstance(s, float) and isinstance(e, float)
        if row["method"] in ("psi", "js", "chi2"):
            ok = abs(s - e) <= 1e-9 * max(abs(e), 1e-300)
        elif row["method"] == "ks":
            assert isinstance(bound, float)
            ok = s - 1e-12 <= e <= s + bound + 1e-12
        else:
            assert isinstance(bound, float)
            ok = abs(s - e) <= bound + 1e-12
        if not ok:
            problems.append(f"{row['feature']}/{row['method']}: {s} (bound {bound}) vs {e}")
    return problems


def _evidently_command(python: str) -> list[str] | None:
    """The command running Evidently's preset, or None when ``python`` lacks it."""
    probe = subprocess.run(
        [python, "-c", "import evidently, pyarrow"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return None
    return [python, str(ROOT / "benchmarks" / "evidently_preset.py")]


def _load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sketch", action="store_true", help="also time sketch mode")
    parser.add_argument(
        "--sketch-rows",
        type=int,
        default=None,
        help="also run sketch mode on a current snapshot of this many rows (in parts)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--evidently-python",
        default=PYTHON,
        help="interpreter with evidently installed (default: this one, if it has it)",
    )
    parser.add_argument(
        "--evidently-repeat", type=int, default=1, help="runs of the Evidently variant"
    )
    parser.add_argument("--no-evidently", action="store_true", help="skip Evidently")
    parser.add_argument(
        "--reference-checkout",
        type=Path,
        default=None,
        help="another checkout of datasre (e.g. `git worktree add /tmp/ref REV`) whose drift "
        "command is timed beside this one's, same interpreter, same data (ref-* variants): "
        "the way to compare code across commits when the machine itself has changed",
    )
    args = parser.parse_args()
    os.environ.setdefault("POLARS_MAX_THREADS", str(os.cpu_count() or 2))
    base, cur = generate(args.rows, OUT)
    profile_dir = OUT / f"profile_{args.rows}"
    drift = [PYTHON, "-m", "pipelines.commands.drift"]
    cli = [str(Path(PYTHON).parent / "datasre"), "drift"]
    if not _profile_is_current(profile_dir):
        subprocess.run(
            [*drift, str(base), str(cur), "--save-profile", str(profile_dir)],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
            check=False,
        )
    variants = {
        "floor": [PYTHON, "benchmarks/scan_floor.py", str(base), str(cur)],
        "scipy-loop": [PYTHON, "benchmarks/scipy_loop.py", str(base), str(cur)],
        "datasre-parquet": [*drift, str(base), str(cur), "--format", "csv"],
        "datasre-profile": [*drift, str(profile_dir), str(cur), "--format", "csv"],
        "datasre-profile-cli": [*cli, str(profile_dir), str(cur), "--format", "csv"],
    }
    cwds: dict[str, Path] = {}
    if args.reference_checkout is not None:
        ref, ref_profile = args.reference_checkout.resolve(), OUT / f"profile_{args.rows}_ref"
        shutil.rmtree(ref_profile, ignore_errors=True)  # the reference's own profile format
        subprocess.run(
            [*drift, str(base), str(cur), "--save-profile", str(ref_profile)],
            stdout=subprocess.DEVNULL,
            cwd=ref,
            check=False,
        )
        variants["ref-parquet"] = [*drift, str(base), str(cur), "--format", "csv"]
        variants["ref-profile"] = [*drift, str(ref_profile), str(cur), "--format", "csv"]
        cwds = {"ref-parquet": ref, "ref-profile": ref}
    if args.sketch:
        variants["datasre-sketch"] = [*drift, str(profile_dir), str(cur), "--sketch"]
    big_glob = None
    all_methods = ["--methods", "psi,ks,chi2,js,wasserstein", "--format", "json"]
    if args.sketch_rows:
        big_glob = generate_parts(args.sketch_rows, OUT)
        variants[f"datasre-sketch-{args.sketch_rows // 1_000_000}M"] = [
            *drift,
            str(profile_dir),
            big_glob,
            "--sketch",
            *all_methods,
        ]
    evidently = None if args.no_evidently else _evidently_command(args.evidently_python)
    if evidently is not None:
        variants["evidently"] = [*evidently, str(base), str(cur)]
    elif not args.no_evidently:
        print(
            f"evidently: not importable by {args.evidently_python}; install the bench extra "
            "(pip install -e '.[bench]') or pass --evidently-python PATH"
        )
    load_before = _load_text()
    runs: dict[str, list[Measure]] = {k: [] for k in variants}
    for round_ in range(max(args.repeat, args.evidently_repeat)):
        # Interleaved, so drift of the machine hits all alike.
        for name, cmd in variants.items():
            wanted = args.evidently_repeat if name == "evidently" else args.repeat
            if round_ < wanted:
                runs[name].append(_timed(cmd, cwd=cwds.get(name, ROOT)))
    load_after = _load_text()
    med = {
        k: Measure(
            statistics.median(m.wall for m in v),
            statistics.median(m.cpu for m in v),
            statistics.median(m.rss_mib for m in v),
            v[0].exit_code,
            max(m.processes for m in v),
        )
        for k, v in runs.items()
    }
    scipy_wall, floor_wall = med["scipy-loop"].wall, med["floor"].wall
    print(
        f"rows={args.rows:,} per file, {N_NUMERIC} numeric + {N_CATEGORICAL} categorical, "
        f"median of {args.repeat}"
        + (f" (evidently: {args.evidently_repeat})" if "evidently" in runs else "")
        + f", cpus={os.cpu_count()}; {load_before} before, {load_after} after"
    )
    head = ("variant", "wall s", "cpu s", "rss MiB", "procs", "vs scipy", "vs floor")
    print(
        f"{head[0]:22} {head[1]:>7} {head[2]:>7} {head[3]:>8} {head[4]:>5} {head[5]:>9} "
        f"{head[6]:>9}  walls"
    )
    for name, m in med.items():
        walls = " ".join(f"{x.wall:.2f}" for x in runs[name])
        print(
            f"{name:22} {m.wall:7.2f} {m.cpu:7.2f} {m.rss_mib:8.0f} {m.processes:5d} "
            f"{scipy_wall / m.wall:8.1f}x {m.wall / floor_wall:8.2f}x  {walls}"
        )
    sketch_ok = False
    if big_glob is not None:
        sketch_cmd = variants[f"datasre-sketch-{args.sketch_rows // 1_000_000}M"]
        exact_cmd = [c for c in sketch_cmd if c != "--sketch"]
        outputs = []
        for cmd in (sketch_cmd, exact_cmd):
            out = subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False)
            outputs.append(json.loads(out.stdout))
        exact_m = _timed(exact_cmd)
        problems = _check_sketch(outputs[1], outputs[0])
        sketch_ok = not problems
        print(
            f"exact mode on the same {args.sketch_rows:,} rows (once): {exact_m.wall:.2f} s "
            f"wall, {exact_m.cpu:.2f} s CPU, {exact_m.rss_mib:.0f} MiB; sketch rows within "
            f"their bound of the exact ones: "
            + ("all" if not problems else f"NO ({len(problems)}): " + "; ".join(problems[:5]))
        )
        ks_bounds = [r["error_bound"] for r in outputs[0] if r["method"] == "ks"]
        print(f"largest KS error bound: {max(b for b in ks_bounds if b is not None):.2e}")
    if args.markdown:
        print()
        print(
            "| variant | wall s | CPU s | peak RSS MiB | processes | x vs scipy loop "
            "| x vs floor | target | met? |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for name, m in med.items():
            target, met = _target_text(name, m, scipy_wall, floor_wall, sketch_ok)
            print(
                f"| {name} | {m.wall:.2f} | {m.cpu:.2f} | {m.rss_mib:.0f} | {m.processes} "
                f"| {scipy_wall / m.wall:.1f} | {m.wall / floor_wall:.2f} | {target} | {met} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
