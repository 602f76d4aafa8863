"""The contract model: one frozen, typed pydantic model per contract file.

A contract is what a data SRE declares about a model in production: where its parquet
snapshots are, what the feature schema is (:mod:`checks.contract_sections`), and the SLOs
on the two tracks (``infra`` and ``model``). The cross-field rules live here: every SLO
is known, on its track, within its bounds and measurable from the contract's sources.

Objectives are stored in the unit the SLI's name says (fractions, never percentages;
seconds for ``*_seconds``, milliseconds for ``*_ms``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final

from pydantic import Field, ValidationInfo, field_validator, model_validator

from checks.contract_sections import (
    MODEL_NAME_RULE,
    VERSION_RULE,
    ContractSection,
    DriftSettings,
    FeatureSpec,
    PredictionColumns,
    ScheduleSpec,
    Sources,
    is_model_name,
    is_safe_path_name,
)
from checks.runbooks import IncidentClass
from checks.slo_catalog import SLO_CATALOG, Comparator, ModelType, Needs
from checks.slo_spec import Slos, SloSpec
from checks.slo_templates import with_default_slos

__all__ = ["OWNER_PLACEHOLDER", "Contract", "apply_slo_defaults"]

#: The owner ``datasre init`` drafts: a valid value, but nobody; the gate blocks on it as
#: on no owner at all.
OWNER_PLACEHOLDER: Final = "TODO-owner@example.com"


#: The name fields a contract's files and directories are named after, with the test a
#: value must pass and the rule an error states.
_NAME_RULES: Final[dict[str, tuple[Callable[[str], bool], str]]] = {
    "model": (is_model_name, MODEL_NAME_RULE),
    "version": (is_safe_path_name, VERSION_RULE),
}


class Contract(ContractSection):
    """A model's contract. ``path`` is the file it was loaded from (set by the loader)."""

    model: str
    """The model's name: 1-63 lowercase letters, digits and ``_``, a letter first (it names
    state directories and Dagster assets)."""
    type: ModelType
    """The kind of model, which decides the quality metrics: classification, regression or
    ranking."""
    version: str
    """The deployed model version: 1-63 of ``A-Z a-z 0-9 . _ + -``, no ``..`` (it names a
    directory of the state dir)."""
    owner: str
    """Who is paged: a team address or handle."""
    tier: Annotated[int, Field(ge=1, le=3)] = 2
    """Criticality, 1 (critical) to 3: the SLO templates' targets depend on it."""
    runbook: str | None = None
    """The model's runbook URL, used for an SLI no incident class covers."""
    runbooks: dict[IncidentClass, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    """The model's own runbook per incident class (e.g. ``covariate_drift``), replacing the
    shipped one of docs/runbooks/."""
    description: str | None = None
    """Free text about the model."""
    sources: Sources
    """Where the training data and the daily snapshots are."""
    features: dict[str, FeatureSpec]
    """The model's input columns by name (at least one), each with its dtype and checks."""
    predictions: PredictionColumns = Field(default_factory=PredictionColumns)
    """Column names of the prediction log and label file."""
    slices: tuple[str, ...] = ()
    """Features whose values are judged on their own (``slice_<metric>`` SLOs)."""
    sensitive_attributes: tuple[str, ...] = ()
    """Features whose groups fairness SLOs compare."""
    min_slice_rows: Annotated[int, Field(ge=1)] = 100
    """Fewest labelled rows a slice needs to be judged; smaller slices are skipped."""
    min_labelled_rows: Annotated[int, Field(ge=1)] = 30
    """Fewest labelled rows a day's model-wide quality metrics need to be judged; on fewer
    they are `insufficient_data` (value kept, no verdict), so the gate says `no_evidence`
    instead of judging a handful of labels. Lower it for a model with fewer labels a day."""
    slos: Slos = Field(default_factory=Slos)
    """The SLOs on the two tracks and the error-budget window."""
    slo_templates: bool = False
    """Fill in the default SLOs of the model's type and tier (``checks.slo_templates``); SLOs
    declared under ``slos`` win."""
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    """When the daily run happens and when a day is evaluated."""
    drift: DriftSettings = Field(default_factory=DriftSettings)
    """How the partition job computes drift: the memory budget that picks the exact or the
    sketch engine."""
    path: Path = Path("<memory>")
    """The file the contract was loaded from (set by the loader, never written in YAML)."""

    @field_validator("model", "version")
    @classmethod
    def _path_safe_name(cls, value: str, info: ValidationInfo) -> str:
        """Model and version name directories and files: each has its rule."""
        is_valid, rule = _NAME_RULES[info.field_name or ""]
        if not is_valid(value):
            raise ValueError(f"{value!r} {rule}")
        return value

    @field_validator("features")
    @classmethod
    def _some_features(cls, value: dict[str, FeatureSpec]) -> dict[str, FeatureSpec]:
        if not value:
            raise ValueError("must declare at least one feature")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Contract:
        for track_name, slos in (("infra", self.slos.infra), ("model", self.slos.model)):
            for name, spec in slos.items():
                _check_slo(track_name, name, spec)
        for field_name in ("slices", "sensitive_attributes"):
            for column in getattr(self, field_name):
                if column not in self.features:
                    raise ValueError(f"{field_name}: {column!r} is not a declared feature")
        for track_name, slos in (("infra", self.slos.infra), ("model", self.slos.model)):
            for name in slos:
                why = self.why_unmeasurable(name)
                if why is not None:
                    raise ValueError(f"slos.{track_name}.{name}: can never be measured: {why}")
        reserved = {self.sources.id_column, self.sources.timestamp_column}
        clash = reserved & set(self.features)
        if clash:
            raise ValueError(f"features: {sorted(clash)} are the id/timestamp columns")
        return self

    # --- resolved paths -------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, pattern: str, day: dt.date | None = None) -> str:
        """Absolute path (or glob) for a source pattern, with ``{date}`` filled in."""
        text = pattern.replace("{date}", day.isoformat()) if day is not None else pattern
        path = Path(text)
        return os.path.normpath(path if path.is_absolute() else (self.base_dir / path))

    @property
    def numeric_features(self) -> list[str]:
        return [name for name, spec in self.features.items() if spec.is_numeric]

    @property
    def categorical_features(self) -> list[str]:
        return [name for name, spec in self.features.items() if not spec.is_numeric]

    def why_unmeasurable(self, name: str) -> str | None:
        """Why this contract can never produce the SLI ``name`` (None when it can).

        An SLO nobody can measure would stay ``not_evaluated`` forever and never burn.
        """
        entry = SLO_CATALOG[name]
        if entry.model_types is not None and self.type not in entry.model_types:
            kinds = " or ".join(sorted(t.value for t in entry.model_types))
            return f"it is measured for {kinds} models, and this one is {self.type.value}"
        pc, src = self.predictions, self.sources
        missing: dict[Needs, tuple[bool, str]] = {
            Needs.PREDICTIONS: (src.predictions is None, "no sources.predictions"),
            Needs.LABELS: (
                src.predictions is None or src.labels is None or pc.target is None,
                "it needs labels: sources.predictions, sources.labels and predictions.target",
            ),
            Needs.SCORE: (pc.score is None, "no predictions.score column"),
            Needs.LABEL_OR_SCORE: (
                pc.score is None and pc.predicted_label is None,
                "neither predictions.predicted_label nor predictions.score",
            ),
            Needs.LATENCY: (pc.latency_ms is None, "no predictions.latency_ms column"),
            Needs.COST: (pc.cost is None, "no predictions.cost column"),
            Needs.STATUS: (pc.status is None, "no predictions.status column"),
            Needs.RANKING_GROUP: (pc.ranking_group is None, "no predictions.ranking_group"),
            Needs.SENSITIVE_ATTRIBUTES: (
                not self.sensitive_attributes,
                "no sensitive_attributes to compare groups of",
            ),
            Needs.SLICES: (not self.slices, "no slices declared"),
            Needs.CATEGORICAL_FEATURES: (
                not self.categorical_features,
                "no String or Categorical feature",
            ),
        }
        reasons = [missing[need][1] for need in entry.needs if missing[need][0]]
        return "; ".join(reasons) if reasons else None

    def evidence_delay_days(self, name: str) -> float:
        """Days after a partition's evaluation time that the SLI ``name`` may arrive late:
        ``sources.max_label_delay_days`` for SLIs measured from labels, else 0."""
        return self.sources.max_label_delay_days if SLO_CATALOG[name].needs_labels else 0.0

    def slo(self, name: str) -> SloSpec | None:
        """The declared SLO of that name on either track, or ``None``."""
        return self.slos.model.get(name) or self.slos.infra.get(name)

    def comparator(self, name: str) -> Comparator:
        spec = self.slo(name)
        if spec is not None and spec.comparator is not None:
            return spec.comparator
        return SLO_CATALOG[name].comparator


def apply_slo_defaults(contract: Contract) -> Contract:
    """The contract with the default SLOs of its type and tier filled in (what
    ``slo_templates: true`` asks of the loader); declared SLOs and window win, and
    templates the contract cannot measure (:meth:`Contract.why_unmeasurable`) are left out."""
    filled = with_default_slos(
        contract.slos,
        contract.type,
        contract.tier,
        measurable=lambda name: contract.why_unmeasurable(name) is None,
    )
    return contract.model_copy(update={"slos": filled})


def _check_slo(track_name: str, name: str, spec: SloSpec) -> None:
    entry = SLO_CATALOG.get(name)
    where = f"slos.{track_name}.{name}"
    if entry is None:
        known = ", ".join(sorted(k for k, v in SLO_CATALOG.items() if v.track == track_name))
        raise ValueError(f"{where}: unknown SLO (known on this track: {known})")
    if entry.track != track_name:
        raise ValueError(f"{where}: belongs to the {entry.track} track")
    low, high = entry.bounds
    if (low is not None and spec.objective < low) or (high is not None and spec.objective > high):
        if low is not None and high is not None:
            raise ValueError(f"{where}.objective: must be between {low:g} and {high:g}")
        raise ValueError(f"{where}.objective: must be >= {low:g}")
