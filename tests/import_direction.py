"""Import direction check, run by `make test`: pipelines -> assets -> checks, never back.

``checks`` is pure computation: it may not import dagster or duckdb either; nothing may
import Dagster's private modules (``dagster._*``). Beyond the direction it proves three
things an ordinary import check cannot see:

* no circle among the project's modules, counting imports inside functions (a lazy import
  that closes a circle is still a circle); imports under ``if TYPE_CHECKING:`` are left
  out (they never run);
* no module of ``checks`` is imported by a string: no ``importlib.import_module`` or
  ``__import__`` in ``checks``, and nowhere a string naming a checks module (a module to
  load in a worker process) or a ``python -c`` program that imports one;
* ``checks`` imports nothing that starts a process (``subprocess``, ``multiprocessing``,
  ``concurrent.futures``, ``ctypes``) and calls no ``os.fork``/``os.system``/``os.exec*``/
  ``os.spawn*``/``os.posix_spawn*``/``os.popen``: execution is injected from ``assets``.

Exits 1 and lists every offending import (file:line) otherwise.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("checks", "assets", "pipelines")

#: For each package, the top-level modules it must never import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "checks": frozenset({"assets", "pipelines", "dagster", "duckdb"}),
    "assets": frozenset({"pipelines"}),
    "pipelines": frozenset(),
}
#: The store is reused by the CLI gate without Dagster.
FORBIDDEN_IN_STORE = frozenset({"dagster", "pipelines"})
#: Modules whose import lets code start a process (checks/ receives execution instead).
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "concurrent", "ctypes"})
#: ``os`` functions that start or replace a process.
_PROCESS_CALL = re.compile(r"^(fork|forkpty|system|popen|exec\w*|spawn\w*|posix_spawn\w*)$")
#: A Python program text that imports a checks module (``python -c "..."``).
_PROGRAM_IMPORTING_CHECKS = re.compile(r"\b(from|import)\s+checks\b")


def imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """Absolute names of every import; relative ones are resolved against ``package``
    (a relative import cannot leave its package, so only its own top level is reported)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, f"{package}.{node.module or ''}".rstrip(".")))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted name of a project file (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(root: Path = ROOT) -> Iterator[tuple[str, Path, ast.Module]]:
    """(package, path, parsed tree) of every project module."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield package, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _runtime_imports(tree: ast.Module, name: str, modules: set[str]) -> set[str]:
    """Project modules ``tree`` imports when it runs (``if TYPE_CHECKING:`` left out):
    ``from a.b import c`` is ``a.b.c`` when that is a module, else ``a.b``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    package = name if name in {m.rsplit(".", 1)[0] for m in modules} else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in modules:
                    found.add(target)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def import_circles(root: Path = ROOT) -> list[list[str]]:
    """Every circle of runtime imports among project modules (strongly connected sets of
    more than one module), each sorted, found with Tarjan's algorithm."""
    parsed = {module_name(path, root): tree for _, path, tree in project_files(root)}
    modules = set(parsed)
    graph = {name: sorted(_runtime_imports(tree, name, modules)) for name, tree in parsed.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(circles)


def string_imports(root: Path = ROOT) -> list[str]:
    """Places that load a checks module by a string instead of an import statement."""
    checks_modules = {
        module_name(path, root) for package, path, _ in project_files(root) if package == "checks"
    }
    problems: list[str] = []
    for package, path, tree in project_files(root):
        rel = path.relative_to(root)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and package == "checks":
                called = ast.unparse(node.func)
                if called in {"importlib.import_module", "import_module", "__import__"}:
                    problems.append(f"{rel}:{node.lineno}: checks imports by string ({called})")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                dotted = checks_modules - {"checks"}  # a bare "checks" is a word, not a module
                names_module = text in dotted or text.rpartition(".")[0] in dotted
                if names_module or _PROGRAM_IMPORTING_CHECKS.search(text):
                    problems.append(f"{rel}:{node.lineno}: string names checks module {text!r}")
    return problems


def process_starters(root: Path = ROOT) -> list[str]:
    """Imports and calls in ``checks`` that could start a process."""
    problems: list[str] = []
    for package, path, tree in project_files(root):
        if package != "checks":
            continue
        rel = path.relative_to(root)
        for line, module in imported_modules(tree, package):
            if module.split(".")[0] in PROCESS_MODULES:
                problems.append(f"{rel}:{line}: checks must not import {module} (starts processes)")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
                continue
            if node.value.id == "os" and _PROCESS_CALL.match(node.attr):
                problems.append(f"{rel}:{node.lineno}: checks must not call os.{node.attr}")
    return problems


def violations(root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    for package, path, tree in project_files(root):
        rel = path.relative_to(root)
        in_store = rel.parts[:2] == ("assets", "store")
        banned = FORBIDDEN[package] | (FORBIDDEN_IN_STORE if in_store else frozenset())
        for line, module in imported_modules(tree, package):
            top = module.split(".")[0]
            if top in banned:
                problems.append(f"{rel}:{line}: {package} must not import {module}")
            if module.startswith("dagster._"):
                problems.append(f"{rel}:{line}: private Dagster module {module}")
    problems += [f"import circle: {' <-> '.join(circle)}" for circle in import_circles(root)]
    problems += string_imports(root)
    problems += process_starters(root)
    return problems


def main() -> int:
    problems = violations()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(
        "import direction: ok (pipelines -> assets -> checks; no circle, no string import "
        "of checks, no process started from checks)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
