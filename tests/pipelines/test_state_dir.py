"""State beside the store: ``--db`` (or ``--state-dir``) isolates a run's baseline
profiles and validated-snapshot manifests; nothing lands in the repository's ``data/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.settings import Settings
from tests.fixtures import FIRST_DAY, write_model

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
NOW = "2026-03-03T06:00:00+00:00"


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime (ns)."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
    }


@pytest.fixture
def default_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """No state directory in the environment: the default beside the store applies."""
    for name in ("DATASRE_STATE_DIR", "DATASRE_PROFILES", "DATASRE_PUBLISHED"):
        monkeypatch.delenv(name, raising=False)


def test_the_state_directory_defaults_to_beside_the_store(default_state: None) -> None:
    settings = Settings.from_env(database="/srv/sre/prod.duckdb")
    assert settings.state_dir == "/srv/sre/prod.state"
    assert settings.profiles_dir == "/srv/sre/prod.state/profiles"
    assert settings.published_dir == "/srv/sre/prod.state/validated"
    assert Settings.from_env(database="x.duckdb", state_dir="/s").profiles_dir == "/s/profiles"


def test_a_run_with_its_own_db_writes_nothing_under_the_repository_data_tree(
    tmp_path: Path, default_state: None
) -> None:
    contract = write_model(tmp_path / "model", days=1)
    db = tmp_path / "elsewhere" / "x.duckdb"
    before = tree(REPO_DATA)
    args = ["run", "--config", str(contract), "--db", str(db), "--quiet"]
    assert main([*args, "--partition", FIRST_DAY.isoformat(), "--now", NOW]) == 0
    assert tree(REPO_DATA) == before
    state = tmp_path / "elsewhere" / "x.state"
    assert (state / "profiles" / "toy" / "1.0.0" / "profile.json").is_file()
    assert (state / "validated" / "toy" / f"{FIRST_DAY.isoformat()}.json").is_file()


def test_state_dir_names_the_state_directory_explicitly(
    tmp_path: Path, default_state: None
) -> None:
    contract = write_model(tmp_path / "model", days=1)
    args = ["run", "--config", str(contract), "--db", str(tmp_path / "x.duckdb"), "--quiet"]
    explicit = tmp_path / "chosen"
    code = main(
        [*args, "--partition", FIRST_DAY.isoformat(), "--now", NOW, "--state-dir", str(explicit)]
    )
    assert code == 0
    assert (explicit / "profiles" / "toy" / "1.0.0" / "profile.json").is_file()
    assert (explicit / "validated" / "toy" / f"{FIRST_DAY.isoformat()}.json").is_file()
    assert not (tmp_path / "x.state").exists()
