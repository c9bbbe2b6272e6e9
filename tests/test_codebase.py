"""The codebase keeps its own rules: lint-clean; only ``adapt/db`` talks to a
database (DuckDB is splink's compute engine, confined to its adapter); imports
between packages only point down the layers of ``adapt/layers.py``, none hides
inside a function, and the app's pages call only the services."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from adapt import layers

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = re.compile(
    r"^\s*(?:import|from)\s+(sqlite3|psycopg\w*|duckdb|sqlalchemy)\b(.*)$", re.MULTILINE
)


def test_only_the_db_package_talks_to_a_database() -> None:
    offenders = []
    for path in sorted((ROOT / "adapt").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("adapt/db/"):
            continue
        for module, rest in DRIVERS.findall(path.read_text(encoding="utf-8")):
            if module == "duckdb" and rel == "adapt/identity/splink_adapter.py":
                continue
            if module == "sqlalchemy" and rest.strip() == "import Engine":
                continue  # the type of the handle passed through, nothing more
            offenders.append(f"{rel}: {module}{rest}")
    assert offenders == []


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run(
        [ruff, "check", "adapt", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]


# ---- the layer rule (adapt/layers.py) ------------------------------------


def _adapt_imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, imported adapt module, inside a function?) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function |= {
                id(n) for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)
            }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            base = node.module or ""
            names = [f"{base}.{a.name}" if base == "adapt" else base for a in node.names]
        else:
            continue
        for name in dict.fromkeys(names):
            if name == "adapt" or name.startswith("adapt."):
                found.append((node.lineno, name, id(node) in in_function))
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _source_files() -> list[Path]:
    return [p for p in sorted((ROOT / "adapt").rglob("*.py")) if "migrations" not in p.parts]


def test_every_package_is_on_a_layer() -> None:
    packages = {p.relative_to(ROOT / "adapt").parts[0].removesuffix(".py") for p in _source_files()}
    packages -= {"__init__"}
    missing = [p for p in sorted(packages) if not any(p in line for line in layers.LAYERS)]
    assert missing == [], f"add these to adapt/layers.py: {missing}"


def test_imports_only_point_down() -> None:
    upward = []
    for path in _source_files():
        rel = path.relative_to(ROOT / "adapt")
        importer = rel.parts[0].removesuffix(".py")
        if importer == "__init__":
            continue
        for line, module, _ in _adapt_imports(path):
            imported = _package(module)
            if imported and not layers.allowed(importer, imported):
                upward.append(f"adapt/{rel.as_posix()}:{line} imports {module}")
    assert upward == [], "\n".join(upward)


def test_no_adapt_import_inside_a_function() -> None:
    hidden = [
        f"{path.relative_to(ROOT).as_posix()}:{line} {module}"
        for path in [*_source_files(), *sorted((ROOT / "app_pages").glob("*.py"))]
        for line, module, inside in _adapt_imports(path)
        if inside
    ]
    assert hidden == [], "\n".join(hidden)


def test_pages_only_call_services() -> None:
    pages = [ROOT / "streamlit_app.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    wrong = [
        f"{path.relative_to(ROOT).as_posix()}:{line} imports {module}"
        for path in pages
        for line, module, _ in _adapt_imports(path)
        if _package(module) not in layers.PAGE_IMPORTS
    ]
    assert wrong == [], "\n".join(wrong)


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: an upward and a hidden import are both seen."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from adapt.core.history import History\n"
        "def f():\n    from adapt.scoring.score import rank\n    return rank\n",
        encoding="utf-8",
    )
    found = _adapt_imports(bad)
    assert [(m, inside) for _, m, inside in found] == [
        ("adapt.core.history", False),
        ("adapt.scoring.score", True),
    ]
    assert not layers.allowed("core", _package(found[1][1]))


def test_every_package_ships_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "adapt").rglob("__init__.py")
    }
    assert packages - listed == set()
