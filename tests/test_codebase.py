"""The codebase keeps its own rules: lint-clean, and only ``adapt/db`` talks
to a database (DuckDB is splink's compute engine, confined to its adapter)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
