"""The import-direction check finds what it must (so `make test` can trust it)."""

from __future__ import annotations

from pathlib import Path

from tests.import_direction import violations


def test_the_repository_imports_point_one_way() -> None:
    assert violations() == []


def test_backward_and_private_imports_are_reported(tmp_path: Path) -> None:
    for package, body in {
        "checks": "import duckdb\nfrom assets.io import x\n",
        "assets": "from pipelines import cli\n",
        "assets/store": "import dagster as dg\n",
        "pipelines": "from dagster._core import instance\n",
    }.items():
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "m.py").write_text(body)
    assert sorted(violations(tmp_path)) == [
        "assets/m.py:1: assets must not import pipelines",
        "assets/store/m.py:1: assets must not import dagster",
        "checks/m.py:1: checks must not import duckdb",
        "checks/m.py:2: checks must not import assets.io",
        "pipelines/m.py:1: private Dagster module dagster._core",
    ]


def test_circles_string_imports_and_process_starters_are_reported(tmp_path: Path) -> None:
    """A circle closed by an import inside a function, a checks module loaded by name
    (importlib, a worker told the module's name, a ``python -c`` program) and checks code
    that could start a process are all reported; a TYPE_CHECKING import is not a circle."""
    files = {
        "checks/__init__.py": "",
        "checks/a.py": "from checks.b import f\n",
        "checks/b.py": "def f():\n    from checks import a\n",
        "checks/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import checks.d\n",
        "checks/d.py": "import checks.c\n",
        "checks/e.py": "import importlib\nimportlib.import_module(name)\n",
        "checks/f.py": "import subprocess\nfrom concurrent.futures import ThreadPoolExecutor\n",
        "checks/g.py": "import os\nos.fork()\n",
        "assets/__init__.py": "",
        "assets/w.py": 'WARM = ("checks.a",)\nBOOT = "from checks.b import f; f()"\n',
        "pipelines/__init__.py": "",
    }
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    assert sorted(violations(tmp_path)) == sorted(
        [
            "import circle: checks.a <-> checks.b",
            "checks/e.py:2: checks imports by string (importlib.import_module)",
            "checks/f.py:1: checks must not import subprocess (starts processes)",
            "checks/f.py:2: checks must not import concurrent.futures (starts processes)",
            "checks/g.py:2: checks must not call os.fork",
            "assets/w.py:1: string names checks module 'checks.a'",
            "assets/w.py:2: string names checks module 'from checks.b import f; f()'",
        ]
    )
