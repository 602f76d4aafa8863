"""The model contract: one YAML file per model, loaded into frozen, typed pydantic models.

This module is the contract's public face; the parts live one idea per module:

* :mod:`checks.contract_sections`: features, sources, prediction columns, schedule, and
  the rules for names that become paths;
* :mod:`checks.contract_model`: :class:`Contract` itself and its cross-field rules (SLOs
  known, on their track, within bounds, measurable);
* :mod:`checks.contract_loader`: reading YAML, reporting every problem of a file with its
  line, directories of contracts;
* :mod:`checks.slo_catalog`: the SLOs a contract may declare; :mod:`checks.slo_spec`: their
  shape.

Unknown keys are rejected and every error names the file and the key path, e.g.
``contracts/fraud.yaml: slos.model.completeness.objective: must be between 0 and 1``.
"""

from __future__ import annotations

from checks.contract_loader import (
    ContractFileError,
    ContractProblem,
    contract_files,
    load_contract,
    load_contracts,
)
from checks.contract_model import Contract, apply_slo_defaults
from checks.contract_sections import (
    MODEL_NAME_RULE,
    NUMERIC_DTYPES,
    SAFE_PATH_NAME,
    VERSION_RULE,
    DriftOverride,
    FeatureSpec,
    PredictionColumns,
    ScheduleSpec,
    Sources,
    is_safe_path_name,
)
from checks.errors import ContractError
from checks.slo_catalog import (
    SLICED_METRICS,
    SLO_CATALOG,
    Comparator,
    ModelType,
    Needs,
    SloCatalogEntry,
    Track,
    slice_slo_name,
)
from checks.slo_spec import Slos, SloSpec

__all__ = [
    "MODEL_NAME_RULE",
    "NUMERIC_DTYPES",
    "SAFE_PATH_NAME",
    "SLICED_METRICS",
    "SLO_CATALOG",
    "VERSION_RULE",
    "Comparator",
    "Contract",
    "ContractError",
    "ContractFileError",
    "ContractProblem",
    "DriftOverride",
    "FeatureSpec",
    "ModelType",
    "Needs",
    "PredictionColumns",
    "ScheduleSpec",
    "SloCatalogEntry",
    "SloSpec",
    "Slos",
    "Sources",
    "Track",
    "apply_slo_defaults",
    "contract_files",
    "is_safe_path_name",
    "load_contract",
    "load_contracts",
    "slice_slo_name",
]
