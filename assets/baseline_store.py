"""Stored baseline profiles: a directory with ``profile.json`` and the sorted values.

Why a directory of plain files: a profile is built once per model version and read on
every run; JSON keeps the small parts (cut points, counts, categories, hashes) readable
by people and other tools. The sorted values of each numeric feature are one ``.npy``
file (``values-<token>/<i>.npy``, named in ``profile.json`` under ``values_files``), and
the sketch grids are one ``values-<token>/grids.npz`` (``grids_file``); a numeric
feature's KS bucket grid (``ks_anchor`` in its entry, bucket starts in
``values-<token>/<i>.ks.npy``, 512 KiB) lets KS bucket only the current sample:
reading one is a memory map of the page cache, about 1 ms per million values, where
decoding the same column from a compressed parquet file cost about 11 ms (measured, see
``benchmarks/README.md``). Directories written before this layout hold one
``values.parquet`` instead; they are still read. ``checks.profile`` does the conversion;
this module only reads and writes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.errors import InputError
from checks.profile import BaselineProfile, profile_from_tables, profile_to_tables
from checks.stats.ecdf import KsAnchor

#: numpy reads a ``.npy`` header with ``ast.literal_eval``, and Python 3.11's AST
#: constructor keeps one recursion counter per interpreter: two threads parsing at once
#: can raise ``SystemError: AST constructor recursion depth mismatch`` (drift threads
#: loading a profile's sorted values, seen as a failed ``drift_slis`` step on a loaded
#: machine). Every load here holds this lock; the data is memory-mapped or tiny, so it
#: is held for microseconds.
_NPY_LOCK: Final = threading.Lock()

__all__ = ["META_FILE", "VALUES_FILE", "is_profile_dir", "load_profile", "save_profile"]

META_FILE = "profile.json"
#: The values file of the earlier layout (one parquet column per feature); read only.
VALUES_FILE = "values.parquet"
#: profile.json key mapping a numeric feature to its ``.npy`` file (relative path).
_VALUES_FILES = "values_files"
_VALUES_PREFIX = "values-"
#: profile.json key naming the .npz of the sketch grids, and each feature's key in it.
_GRIDS = "grids_file"
_GRIDS_FILE = "grids.npz"
_GRID_KEY = "grid_key"
_GRID_FIELDS = ("grid", "grid_counts", "grid_atoms")
#: profile.json key of a numeric feature's KS grid (checks.stats.ecdf.KsAnchor): its
#: parameters inline, its bucket starts in ``values-<token>/<i>.ks.npy``. Optional:
#: profiles stored without it work, KS then fits its grid on every run.
_ANCHOR = "ks_anchor"
_ANCHOR_SUFFIX = ".ks.npy"


def is_profile_dir(path: str | Path) -> bool:
    """True when ``path`` is a directory holding a stored profile."""
    p = Path(path)
    return p.is_dir() and (p / META_FILE).is_file()


def save_profile(profile: BaselineProfile, directory: str | Path) -> Path:
    """Write ``profile`` into ``directory`` (created if needed); returns the directory.

    The values go to a new ``values-<token>`` directory, complete before the metadata that
    names it replaces the old one (atomic rename), so a reader never sees half a profile
    or values of another build; value directories the new metadata no longer names (and
    an earlier layout's ``values.parquet``) are removed afterwards.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a directory (profile target)")
    target.mkdir(parents=True, exist_ok=True)
    meta, _ = profile_to_tables(profile, with_values=False)
    files: dict[str, str] = {}
    values_dir = f"{_VALUES_PREFIX}{uuid.uuid4().hex[:12]}"
    staging = Path(tempfile.mkdtemp(dir=target, suffix=".values.tmp"))
    grids: dict[str, Any] = {}
    for i, (name, numeric) in enumerate(profile.numeric.items()):
        # The sketch grids (3 x 4,097 numbers per feature) go to one .npz: as JSON they
        # were most of profile.json and ~60 ms of parsing on every run.
        entry = meta["numeric"][name]
        for field in _GRID_FIELDS:
            del entry[field]
            grids[f"{i:05d}.{field}"] = getattr(numeric, field)
        entry[_GRID_KEY] = f"{i:05d}"
        values = numeric.sorted_values() if profile.mode == "exact" else None
        if values is not None:
            np.save(staging / f"{i:05d}.npy", np.ascontiguousarray(values, dtype=np.float64))
            files[name] = f"{values_dir}/{i:05d}.npy"
            anchor = numeric.ks_anchor()
            if anchor is not None:
                np.save(staging / f"{i:05d}{_ANCHOR_SUFFIX}", np.asarray(anchor.starts, np.int64))
                entry[_ANCHOR] = {
                    "lo": anchor.lo,
                    "scale": anchor.scale,
                    "buckets": anchor.buckets,
                    "starts_file": f"{values_dir}/{i:05d}{_ANCHOR_SUFFIX}",
                }
    np.savez(staging / _GRIDS_FILE, **grids)
    os.replace(staging, target / values_dir)
    meta[_VALUES_FILES] = files
    meta[_GRIDS] = f"{values_dir}/{_GRIDS_FILE}"
    fd, tmp_meta = tempfile.mkstemp(dir=target, suffix=".json.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=1)
    os.replace(tmp_meta, target / META_FILE)
    for old in target.iterdir():
        stale_dir = old.name.startswith(_VALUES_PREFIX) and old.name != values_dir
        if stale_dir and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old.name == VALUES_FILE:
            old.unlink(missing_ok=True)
    return target


@dataclass(frozen=True)
class _NpyValues:
    """Sorted values of a feature from its ``.npy`` file, memory-mapped (picklable)."""

    root: Path
    files: dict[str, str]

    def __call__(self, name: str) -> npt.NDArray[np.float64]:
        path = self.root / self.files[name]
        try:
            with _NPY_LOCK:
                mapped = np.load(path, mmap_mode="r")
            return np.asarray(mapped, dtype=np.float64)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: column {name!r}: {exc}") from None


@dataclass(frozen=True)
class _NpyAnchor:
    """A feature's stored KS grid: parameters from profile.json, bucket starts
    memory-mapped from their ``.npy`` file on first use (picklable)."""

    path: Path
    lo: float
    scale: float
    buckets: int

    def __call__(self) -> KsAnchor:
        try:
            with _NPY_LOCK:
                starts = np.load(self.path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.path}: unreadable KS grid: {exc}") from None
        if starts.shape != (self.buckets + 1,) or starts.dtype != np.int64:
            raise InputError(
                f"{self.path}: KS grid: expected {self.buckets + 1} int64 bucket starts, "
                f"found {starts.shape} {starts.dtype}"
            )
        return KsAnchor(self.lo, self.scale, self.buckets, starts)


@dataclass(frozen=True)
class _ParquetValues:
    """Sorted values of a feature from the earlier layout's ``values.parquet``."""

    path: Path

    def __call__(self, name: str) -> pl.Series:
        try:
            return pl.read_parquet(self.path, columns=[name]).to_series()
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"{self.path}: column {name!r}: {exc}") from None


def load_profile(directory: str | Path) -> BaselineProfile:
    """Read a stored profile; sorted values are read lazily, one feature at a time.

    Raises
    ------
    InputError
        Missing or unreadable files, with the file named.
    """
    root = Path(directory)
    meta_path = root / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{meta_path}: profile metadata not found") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{meta_path}: unreadable profile metadata: {exc}") from None
    values: _NpyValues | _ParquetValues | None = None
    files = meta.get(_VALUES_FILES) if isinstance(meta, dict) else None
    if isinstance(meta, dict) and _GRIDS in meta:
        grids_path = root / str(meta[_GRIDS])
        try:
            with _NPY_LOCK, np.load(grids_path) as grids:
                for entry in meta["numeric"].values():
                    key = entry.pop(_GRID_KEY)
                    for field in _GRID_FIELDS:
                        entry[field] = grids[f"{key}.{field}"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{grids_path}: unreadable profile grids: {exc!r}") from None
    if isinstance(files, dict):
        values = _NpyValues(root.resolve(), {str(k): str(v) for k, v in files.items()})
    elif (root / VALUES_FILE).is_file():
        values = _ParquetValues((root / VALUES_FILE).resolve())
    try:
        profile = profile_from_tables(meta, values)
        anchors = {
            name: _NpyAnchor(
                root.resolve() / str(spec["starts_file"]),
                float(spec["lo"]),
                float(spec["scale"]),
                int(spec["buckets"]),
            )
            for name, entry in meta["numeric"].items()
            if (spec := entry.get(_ANCHOR)) is not None and name in profile.numeric
        }
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{meta_path}: malformed profile: {exc}") from None
    if not anchors or profile.mode != "exact":
        return profile
    numeric = {
        name: replace(p, anchor_loader=anchors[name]) if name in anchors else p
        for name, p in profile.numeric.items()
    }
    return replace(profile, numeric=numeric)
