from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.contract import Contract, ContractError, load_contract, load_contracts
from tests.fixtures import contract_dict


def write(tmp_path: Path, body: Any, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    text = body if isinstance(body, str) else yaml.safe_dump(body, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ContractError) as info:
        load_contract(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_valid_contract_loads_frozen_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, contract_dict())
    contract = load_contract(path)
    assert contract.model == "toy"
    assert contract.resolve(contract.sources.training) == str(tmp_path / "toy/training.parquet")
    assert contract.numeric_features == ["x", "k"]
    assert contract.categorical_features == ["c"]
    with pytest.raises(ValueError, match="frozen"):
        contract.model = "other"  # type: ignore[misc]


def test_the_issue_example_objective_out_of_range_names_file_and_key_path(
    tmp_path: Path,
) -> None:
    body = contract_dict()
    body["slos"]["model"]["completeness"] = {"objective": 99}
    path = write(tmp_path, body, "fraud.yaml")
    assert error_of(path) == (f"{path}: slos.model.completeness.objective: must be between 0 and 1")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.update(colour="red"), "colour: unknown key"),
        (
            lambda b: b["sources"].update(featurez="x"),
            "sources.featurez: unknown key (did you mean 'features'?)",
        ),
        (
            lambda b: b["features"]["x"].update(nullabel=True),
            "features.x.nullabel: unknown key (did you mean 'nullable'?)",
        ),
        (
            lambda b: b["slos"]["model"]["ingest_ok"].update(blockng=True),
            "slos.model.ingest_ok.blockng: unknown key (did you mean 'blocking'?)",
        ),
        (lambda b: b["features"]["x"].update(dtype="float"), "features.x.dtype: Input should be"),
        (lambda b: b["features"]["x"].update(min=5, max=1), "features.x: min (5.0) is greater"),
        (lambda b: b.pop("owner"), "owner: required key is missing"),
        (lambda b: b["sources"].update(features="f.parquet"), "sources.features: must contain"),
        (
            lambda b: b["slos"]["model"].update(accuracyy={"objective": 1}),
            "slos.model.accuracyy: unknown SLO",
        ),
        (
            lambda b: b["slos"]["model"].update(latency_p99_ms={"objective": 1}),
            "slos.model.latency_p99_ms: belongs to the infra track",
        ),
        (lambda b: b.update(slices=["nope"]), "slices: 'nope' is not a declared feature"),
        (
            lambda b: b.update(model="Fraud Model"),
            "model: 'Fraud Model' must be 1 to 63 lowercase letters, digits and '_'",
        ),
        (lambda b: b.update(schedule={"timezone": "Mars/Base"}), "schedule.timezone: unknown"),
        (lambda b: b["slos"]["model"]["ingest_ok"].update(target=1.5), "target: Input should"),
        (lambda b: b["sources"].update(start_date="2026-13-01"), "sources.start_date: Input"),
        (
            lambda b: b.update(schedule={"cron": "99 6 * * *"}),
            "schedule.cron: minute field '99' of '99 6 * * *' is not valid cron",
        ),
        (
            lambda b: b.update(schedule={"cron": "0 6 * * mon-sun"}),
            "schedule.cron: day-of-week field 'mon-sun'",
        ),
    ],
)
def test_every_error_is_one_line_naming_file_and_key(
    tmp_path: Path, mutate: Any, expected: str
) -> None:
    body = contract_dict()
    mutate(body)
    path = write(tmp_path, body)
    message = error_of(path)
    assert message.startswith(f"{path}: ")
    assert expected in message


@pytest.mark.parametrize(
    "version",
    ["../../../../tmp/x", "/tmp/x", "..", ".", "a/b", "1.0..2", "1.0\n", " 1.0", "", "v" * 64],
)
def test_a_version_that_could_leave_the_state_directory_is_refused_naming_the_rule(
    tmp_path: Path, version: str
) -> None:
    # The version names profiles/<model>/<version>/ under the state dir: "../.." or an
    # absolute path made the profile store write, lock and delete files elsewhere.
    path = write(tmp_path, contract_dict(version=version))
    assert error_of(path) == (
        f"{path}: version: {version!r} must be 1 to 63 letters, digits, '.', '_', '+' or "
        "'-', starting with a letter or digit and without '..' (it names a directory of "
        "the state dir)"
    )


@pytest.mark.parametrize("version", ["1", "1.0.0", "2026-11-30", "v2.1.0+build_7", "V" * 63])
def test_ordinary_versions_load(tmp_path: Path, version: str) -> None:
    assert load_contract(write(tmp_path, contract_dict(version=version))).version == version


def test_the_model_name_rule_names_the_63_character_limit(tmp_path: Path) -> None:
    assert load_contract(write(tmp_path, contract_dict(model="m" * 63))).model == "m" * 63
    message = error_of(write(tmp_path, contract_dict(model="m" * 64)))
    assert "must be 1 to 63 lowercase letters" in message
    # A trailing newline is no longer stripped into a valid name, and the error shows it.
    assert "model: 'toy\\n' must be" in error_of(write(tmp_path, contract_dict(model="toy\n")))


def test_feature_names_and_allowed_values_are_kept_verbatim(tmp_path: Path) -> None:
    # Stripping made "b\t" into "b", and then the data's real "b\t" was not allowed.
    body = contract_dict()
    body["features"]["c\t"] = {"dtype": "String", "allowed_values": ["b\t", " a", "<b>|"]}
    body["slices"] = ["c\t"]
    contract = load_contract(write(tmp_path, body))
    assert "c\t" in contract.features
    assert contract.features["c\t"].allowed_values == ("b\t", " a", "<b>|")
    assert contract.slices == ("c\t",)


def test_valid_cron_forms_load(tmp_path: Path) -> None:
    for cron in ("*/15 6-18 * * mon-fri", "0 6 1,15 jan-jun 0", "5 4 * * 7"):
        path = write(tmp_path, contract_dict(schedule={"cron": cron}), f"c{len(cron)}.yaml")
        assert load_contract(path).schedule.cron == cron


def test_a_duplicate_key_is_an_error_not_last_wins(tmp_path: Path) -> None:
    text = yaml.safe_dump(contract_dict(), sort_keys=False).replace(
        "owner: sre@example.com\n", "owner: sre@example.com\nowner: someone@else\n"
    )
    message = error_of(write(tmp_path, text))
    assert "duplicate key 'owner'" in message and "line " in message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "model: toy\nfeatures: [unclosed\n")
    message = error_of(path)
    assert message.startswith(f"{path}: line ")


def test_a_non_mapping_and_a_missing_file_are_clear(tmp_path: Path) -> None:
    assert "top level must be a mapping" in error_of(write(tmp_path, "- a\n- b\n"))
    assert error_of(tmp_path / "absent.yaml").endswith("contract file not found")


def test_a_directory_loads_every_contract_and_rejects_duplicate_models(tmp_path: Path) -> None:
    write(tmp_path, contract_dict(), "a.yaml")
    write(tmp_path, contract_dict(model="other"), "b.yaml")
    assert [c.model for c in load_contracts(tmp_path)] == ["toy", "other"]
    write(tmp_path, contract_dict(), "c.yaml")
    with pytest.raises(ContractError, match="model: 'toy' is also in"):
        load_contracts(tmp_path)
    with pytest.raises(ContractError, match="config path not found"):
        load_contracts(tmp_path / "nowhere")


def test_the_bundled_sample_contracts_load() -> None:
    contracts = load_contracts(Path("data/samples/contracts"))
    assert {c.model for c in contracts} >= {"fraud_detection", "delivery_eta"}
    for contract in contracts:
        assert isinstance(contract, Contract)
        assert contract.runbook and contract.owner
        assert Path(contract.resolve(contract.sources.training)).exists()


def test_slo_templates_fill_in_defaults_and_declared_slos_win(tmp_path: Path) -> None:
    body = contract_dict(slo_templates=True, tier=1)
    body["sources"]["labels"] = "toy/labels/{date}.parquet"
    body["predictions"]["target"] = "label"
    body["slos"]["model"]["completeness"] = {"objective": 0.95}
    contract = load_contract(write(tmp_path, body))
    assert contract.slos.model["accuracy"].objective == 0.94  # classification template
    assert contract.slos.infra["latency_p99_ms"].objective == 100  # declared (and template)
    assert contract.slos.model["completeness"].objective == 0.95  # declared wins
    plain = load_contract(write(tmp_path, contract_dict(), "plain.yaml"))
    assert "accuracy" not in plain.slos.model


def test_slo_templates_leave_out_what_the_contract_cannot_measure(tmp_path: Path) -> None:
    # No labels: the accuracy template would stay not_evaluated forever.
    contract = load_contract(write(tmp_path, contract_dict(slo_templates=True, tier=1)))
    assert "accuracy" not in contract.slos.model
    assert "completeness" in contract.slos.model


@pytest.mark.parametrize(
    ("model", "slos", "why"),
    [
        (
            {"type": "classification"},
            {"rmse": {"objective": 1.0, "blocking": True}},
            "slos.model.rmse: can never be measured: it is measured for regression models, "
            "and this one is classification",
        ),
        (
            {},
            {"demographic_parity_difference": {"objective": 0.1}},
            "slos.model.demographic_parity_difference: can never be measured: it needs "
            "labels: sources.predictions, sources.labels and predictions.target; no "
            "sensitive_attributes to compare groups of",
        ),
        (
            {"predictions": {"score": "score"}},
            {"latency_p99_ms": {"objective": 100}},
            "slos.infra.latency_p99_ms: can never be measured: no predictions.latency_ms column",
        ),
        (
            {},
            {"slice_accuracy": {"objective": 0.8}},
            "slos.model.slice_accuracy: can never be measured: it needs labels: "
            "sources.predictions, sources.labels and predictions.target; no slices declared",
        ),
    ],
    ids=["rmse on a classifier", "fairness without attributes", "latency without column",
         "slice SLO without slices"],
)  # fmt: skip
def test_an_slo_the_model_can_never_produce_is_refused(
    tmp_path: Path, model: dict[str, Any], slos: dict[str, Any], why: str
) -> None:
    body = contract_dict(**model)
    for name, spec in slos.items():
        track = "infra" if name.startswith("latency") else "model"
        body["slos"][track][name] = spec
    with pytest.raises(ContractError) as raised:
        load_contract(write(tmp_path, body))
    assert str(raised.value) == f"{tmp_path / 'm.yaml'}: {why}"


def _checks_imports(module: str) -> tuple[set[str], bool]:
    """The ``checks.*`` modules one module imports, and whether any import is inside a
    function (a lazy import, the usual way to hide a circle)."""
    import ast

    path = Path(__file__).resolve().parents[2] / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    lazy = False
    # Imports under `if TYPE_CHECKING:` never run, so they close no circle.
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        mine = [n for n in names if n.startswith("checks.")]
        found.update(mine)
        lazy = lazy or (bool(mine) and node.col_offset > 0)
    return found, lazy


def test_the_contract_and_the_slo_vocabulary_import_no_circle() -> None:
    # The contract loader fills in SLO templates; the templates and the catalog must not
    # need the contract back (once closed by a lazy `from checks.slo import ...`).
    seen: set[str] = set()
    todo = ["checks.contract"]
    while todo:
        module = todo.pop()
        imports, lazy = _checks_imports(module)
        assert not lazy, f"{module} imports a checks module inside a function"
        for name in imports - seen:
            seen.add(name)
            todo.append(name)
    assert "checks.contract" not in seen
    assert not any(name == "checks.slo" for name in seen)
