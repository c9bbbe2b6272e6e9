"""Resolved synthetic histories for evaluation, training and benchmarks.

``synthetic_history`` runs the real pipeline (generate → load → resolve) into a
SQLite file under ``workdir`` and reads the history back; the database is kept
and reused when it already exists, so benchmarks and notebooks can share it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapt.core.history import History


def synthetic_history(
    workdir: Path,
    seed: int,
    incidents: int,
    years: float = 4.0,
    end_date: date = date(2026, 10, 31),
    noise: float = 1.0,
) -> History:
    """Generate, load and resolve a synthetic force, and return its history."""
    from adapt.contract import read_extract
    from adapt.db import connect, load_extract
    from adapt.db.history import load_history
    from adapt.identity.runner import resolve_database
    from adapt.synthetic import GeneratorConfig, generate

    workdir = Path(workdir)
    name = f"seed{seed}-n{incidents}-y{years:g}-noise{noise:g}-{end_date.isoformat()}"
    folder = workdir / name
    db_path = workdir / f"{name}.db"
    ready = workdir / f"{name}.ready"
    engine = connect(f"sqlite:///{db_path}")
    try:
        if not ready.exists():
            config = GeneratorConfig(
                seed=seed, incidents=incidents, years=years, end_date=end_date, noise=noise
            )
            generate(folder, config, truth_dir=workdir / f"{name}-truth")
            load_extract(engine, read_extract(folder))
            resolve_database(engine)
            ready.write_text("ok\n")
        return load_history(engine)
    finally:
        engine.dispose()
