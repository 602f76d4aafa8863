"""The scratch tree of a chaos drill: the model's real snapshots copied under a temporary
root, shifted onto the drill's days, with faults injected (the file I/O of ``datasre
chaos``; the frame transforms are :mod:`checks.faults`).

Layout under ``root``::

    contracts/<model>.yaml       the contract, every source path pointing into data/
    data/training.parquet        the real training data (and prediction baseline)
    data/{features,predictions,labels}/<day>.parquet

Day ``i`` of the drill (``start_date + i``) is a copy of a clean real day (the drill's
control run says which), every Datetime column moved by the difference of the two days,
so freshness is judged as on the real day.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from assets.io import read_snapshot, resolve_files
from checks import faults
from checks.contract import Contract, ModelType
from checks.errors import InputError

__all__ = ["ChaosTree", "build_tree", "copy_real_days"]

SOURCES = ("features", "predictions", "labels")


@dataclass(frozen=True)
class ChaosTree:
    """Where a scratch model lives: its contract file, database and state."""

    root: Path
    contract_path: Path

    @property
    def database(self) -> Path:
        return self.root / "store.duckdb"


def _write_contract(contract: Contract, root: Path) -> Path:
    raw = yaml.safe_load(contract.path.read_text(encoding="utf-8"))
    data = root / "data"
    sources = raw["sources"]
    for name in ("training", "prediction_baseline"):
        pattern = getattr(contract.sources, name)
        if pattern is None:
            continue
        files = resolve_files(contract.resolve(pattern))
        target = data / name
        target.mkdir(parents=True, exist_ok=True)
        for index, file in enumerate(files):
            shutil.copyfile(file, target / f"part-{index}.parquet")
        sources[name] = str(target / "*.parquet")
    for name in SOURCES:
        if getattr(contract.sources, name) is not None:
            (data / name).mkdir(parents=True, exist_ok=True)
            sources[name] = str(data / name / "{date}.parquet")
    path = root / "contracts" / f"{contract.model}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _shifted(frame: pl.DataFrame, delta: dt.timedelta) -> pl.DataFrame:
    moved = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    return frame.with_columns(pl.col(name) + delta for name in moved) if moved else frame


def _read_day(contract: Contract, source: str, day: dt.date) -> pl.DataFrame | None:
    pattern = getattr(contract.sources, source)
    if pattern is None:
        return None
    try:
        resolve_files(contract.resolve(pattern, day))
    except InputError:
        return None  # a missing file is simply not copied
    return read_snapshot(contract.resolve(pattern, day))


def copy_real_days(contract: Contract, root: Path, days: Sequence[dt.date]) -> ChaosTree:
    """The real snapshots of ``days``, unchanged (the drill's control run)."""
    path = _write_contract(contract, root)
    for day in days:
        for source in SOURCES:
            frame = _read_day(contract, source, day)
            if frame is not None:
                frame.write_parquet(root / "data" / source / f"{day.isoformat()}.parquet")
    return ChaosTree(root, path)


def _std(column: pl.Series) -> float:
    value = column.cast(pl.Float64).std()
    return float(value) if isinstance(value, float) else 0.0


def _training_facts(contract: Contract, spec: faults.FaultSpec) -> tuple[float, str]:
    """Training sd of a numeric fault's feature and the rarest category of a categorical's."""
    training = read_snapshot(contract.resolve(contract.sources.training), [spec.feature or ""])
    if spec.feature is None or spec.feature not in training.columns:
        return 0.0, ""
    column = training.get_column(spec.feature)
    if column.dtype.is_numeric():
        return _std(column), ""
    counts = column.drop_nulls().value_counts(sort=True)
    return 0.0, str(counts[column.name][-1]) if counts.height else ""


def _concept_change(
    contract: Contract, spec: faults.FaultSpec, labels: pl.DataFrame, rows: pl.DataFrame, seed: int
) -> pl.DataFrame:
    column, id_column = spec.feature or "", contract.sources.id_column
    target = contract.predictions.target or ""
    largest = rows.get_column(column).drop_nulls().mode().sort()[0]
    aligned = labels.select(id_column).join(
        rows.select(id_column, column).unique(subset=[id_column], keep="first"),
        on=id_column,
        how="left",
        maintain_order="left",
    )
    in_slice = (aligned.get_column(column) == largest).fill_null(value=False)
    regression = contract.type == ModelType.REGRESSION
    objective = next(
        (slo.objective for name in ("rmse", "mae") if (slo := contract.slo(name)) is not None),
        None,
    )
    if objective is None:  # a classifier's label may be text: its sd is not needed
        objective = (_std(labels.get_column(target)) if regression else 0.0) or 1.0
    return faults.concept_change(
        labels,
        in_slice,
        target,
        classification=contract.type == ModelType.CLASSIFICATION,
        regression_shift=faults.REGRESSION_SHIFT_OBJECTIVES * objective,
        seed=seed,
    )


def _inject(
    contract: Contract, spec: faults.FaultSpec, frames: dict[str, pl.DataFrame | None], seed: int
) -> dict[str, pl.DataFrame | None]:
    """The day's frames with a frame-level fault applied (file faults: unchanged)."""
    features = frames["features"]
    if features is None:
        return frames
    feature = spec.feature or ""
    sd, rarest = _training_facts(contract, spec)
    changed = dict(frames)
    match spec.name:
        case "covariate_shift":
            changed["features"] = faults.covariate_shift(features, feature, sd)
        case "category_mix":
            changed["features"] = faults.category_mix(features, feature, rarest, seed)
        case "dropped_feature":
            changed["features"] = faults.dropped_feature(features, feature)
        case "null_burst":
            changed["features"] = faults.null_burst(features, feature, seed)
        case "new_category":
            changed["features"] = faults.new_category(features, feature, seed)
        case "schema_change":
            changed["features"] = faults.schema_change(features, feature)
        case "concept_change":
            labels = frames["labels"]
            rows = features if feature in features.columns else frames["predictions"]
            if labels is not None and rows is not None:
                changed["labels"] = _concept_change(contract, spec, labels, rows, seed)
    return changed


def build_tree(
    contract: Contract,
    root: Path,
    templates: Sequence[dt.date],
    plan: Mapping[dt.date, faults.FaultSpec | None],
    seed: int,
) -> ChaosTree:
    """Write the drill's days: day ``i`` copies ``templates[i % len(templates)]``, moved to
    its date, with the fault the plan gives it."""
    path = _write_contract(contract, root)
    for index, (day, spec) in enumerate(sorted(plan.items())):
        template = templates[index % len(templates)]
        delta = dt.datetime.combine(day, dt.time()) - dt.datetime.combine(template, dt.time())
        frames: dict[str, pl.DataFrame | None] = {}
        for source in SOURCES:
            frame = _read_day(contract, source, template)
            frames[source] = _shifted(frame, delta) if frame is not None else None
        if spec is not None:
            frames = _inject(contract, spec, frames, seed + index)
        name = spec.name if spec is not None else None
        for source, frame in frames.items():
            if frame is None:
                continue
            if (name == "late_snapshot" and source == "features") or (
                name == "labels_withheld" and source == "labels"
            ):
                continue  # not there when the day is evaluated
            file = root / "data" / source / f"{day.isoformat()}.parquet"
            frame.write_parquet(file)
            if name == "corrupt_file" and source == "features":
                size = file.stat().st_size
                with open(file, "r+b") as handle:
                    handle.truncate(size // 2)
    return ChaosTree(root, path)
