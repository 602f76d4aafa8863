"""A contract value that becomes a path cannot leave the state directory.

The version names ``<state>/profiles/<model>/<version>/``: ``"../../../../tmp/x"`` or an
absolute path made the profile store write ``.lock``, ``profile.json`` and ``values-*/``
there, and delete stale ``values-*`` directories of that target. The contract refuses such
a version; :func:`assets.state.inside` refuses it again where the path is built.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets.drift import ensure_profile
from assets.publish import manifest_path
from checks.contract import load_contract
from checks.errors import InputError
from pipelines.cli import main
from tests.fixtures import FIRST_DAY, contract_dict, write_model


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_run_refuses_a_version_outside_the_state_dir_and_writes_nothing_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "values-keep").mkdir()  # what the profile store would delete as stale
    state = tmp_path / "state"  # DATASRE_STATE_DIR (tests/conftest.py)
    # state/profiles/toy/<version> -> tmp_path/outside
    version = "../../../outside" if kind == "relative" else str(outside)
    contract = write_model(tmp_path / "m", days=1, contract=contract_dict(version=version))
    db = tmp_path / "s.duckdb"
    code = main(["run", "--config", str(contract), "--db", str(db), "--quiet", "--all"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert re.match(
        rf"datasre: error: {re.escape(str(contract))}:\d+:\d+: "
        rf"version: {re.escape(repr(version))} must be 1 to 63",
        err,
    ), err
    assert _files(outside) == ["values-keep"]
    assert not db.exists() and not state.exists()


def test_the_path_builder_refuses_what_the_contract_would_have_refused(tmp_path: Path) -> None:
    """Defence in depth: a contract built without validation still cannot escape."""
    contract_path = write_model(tmp_path / "m", days=1)
    contract = load_contract(contract_path)
    outside = tmp_path / "outside"
    profiles = tmp_path / "state" / "profiles"
    for version in ("../../outside", str(outside), ".."):
        hostile = contract.model_copy(update={"version": version})  # skips the validators
        with pytest.raises(InputError, match="leaves the state directory; refused"):
            ensure_profile(hostile, profiles)
    assert not outside.exists()
    assert _files(profiles) == [] or all(p.startswith("toy") for p in _files(profiles))
    with pytest.raises(InputError, match="leaves the state directory"):
        manifest_path(tmp_path / "validated", "../x", FIRST_DAY)


def test_inside_follows_symlinks_out_and_allows_ordinary_names(tmp_path: Path) -> None:
    from assets.state import inside

    root = tmp_path / "state"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="'link/1' leaves the state directory"):
        inside(root, "link", "1")
    assert inside(root, "toy", "1.0.0") == root.resolve() / "toy" / "1.0.0"
