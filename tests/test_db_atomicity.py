"""An import is one transaction: killed part-way, the database is exactly as
before; two imports at once both apply, one after the other.

These tests run real child processes against a real database. The number of
kill trials per database is ``ADAPT_KILL_TRIALS`` (CI sets 20).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from adapt.db import connect, import_history
from tests.extracts import incident, involvement, simple_extract, write_extract

TRIALS = int(os.environ.get("ADAPT_KILL_TRIALS", "5"))
MARKER = "FIRST-WRITE-DONE"

# The child loads a folder and prints MARKER once the import's first row is
# written inside its transaction (the load reports "import opened" then).
CHILD = f"""
import sys
from adapt.contract import read_extract
from adapt.db import connect, load_extract

engine = connect(sys.argv[1])
extract = read_extract(sys.argv[2])

def progress(stage, done, total):
    if stage == "import opened":
        print("{MARKER}", flush=True)

load_extract(engine, extract, progress=progress)
print("COMMITTED", flush=True)
"""


def _digest(engine) -> str:
    """A digest of everything a user could see: every contract record, the
    quarantine and the import history (ids and times excluded)."""
    h = hashlib.sha256()
    with engine.connect() as conn:
        for table, drop in (
            ("incidents", ["id"]),
            ("involvements", ["id"]),
            ("quarantine", ["id"]),
            ("import_files", ["id"]),
            ("imports", ["id", "started_at", "finished_at", "folder"]),
        ):
            frame = pd.read_sql(text(f"SELECT * FROM {table}"), conn).drop(columns=drop)
            frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            h.update(table.encode())
            h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()


def _extracts(tmp_path: Path) -> tuple[Path, Path]:
    """A base extract and a newer, larger one that overlaps and changes it,
    so the killed import is mid-way through inserts and updates."""
    base = simple_extract(tmp_path / "base", range(1, 2001))
    incs = [incident(n, offence="abh") if n % 10 == 0 else incident(n) for n in range(1001, 9001)]
    incs.append(incident(9001, occurred_at="not a date"))
    invs = [involvement(n, "suspect", n % 97) for n in range(1001, 9002)]
    invs += [involvement(n, "victim", 200 + n % 89) for n in range(1001, 9001)]
    newer = write_extract(tmp_path / "newer", incs, invs)
    return base, newer


def _fresh_db(db_url: str, tmp_path: Path, name: str) -> str:
    """A new empty database on the same server as ``db_url``."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}.sqlite"
    engine = connect(db_url, migrate=False)
    schema = f"{db_url.rsplit('search_path%3D', 1)[-1]}_{name}"[:60]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    return db_url.rsplit("search_path%3D", 1)[0] + f"search_path%3D{schema}"


def _drop(url: str) -> None:
    if "search_path%3D" in url:
        schema = url.rsplit("search_path%3D", 1)[-1]
        engine = connect(url, migrate=False)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def _child(url: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )


@pytest.mark.slow
def test_killed_import_leaves_database_as_before(db_url: str, tmp_path: Path) -> None:
    base, newer = _extracts(tmp_path)
    from adapt.contract import read_extract
    from adapt.db import load_extract

    # Reference states: before (base loaded) and after (base, then newer,
    # loaded by a child exactly as in the trials, timing its write window).
    ref_url = _fresh_db(db_url, tmp_path, "ref")
    ref = connect(ref_url)
    load_extract(ref, read_extract(base))
    before = _digest(ref)
    child = _child(ref_url, newer)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == MARKER
    opened = time.monotonic()
    assert child.stdout.readline().strip() == "COMMITTED"
    window = time.monotonic() - opened
    child.wait()
    after = _digest(ref)
    ref.dispose()
    _drop(ref_url)
    assert before != after

    rng = random.Random(20261122)
    outcomes = {"before": 0, "after": 0}
    for trial in range(TRIALS):
        url = _fresh_db(db_url, tmp_path, f"k{trial}")
        engine = connect(url)
        load_extract(engine, read_extract(base))
        engine.dispose()
        child = _child(url, newer)
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == MARKER, child.stderr.read() if child.stderr else line
        # Most kills land mid-write; a few land after the commit, and that
        # state must be exactly "after", never anything in between.
        time.sleep(rng.uniform(0, window * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait()
        engine = connect(url)
        state = _digest(engine)
        assert state in (before, after), f"trial {trial}: database is neither before nor after"
        outcomes["before" if state == before else "after"] += 1
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        engine.dispose()
        _drop(url)
    # The trials must really have interrupted imports, not only watched them finish.
    assert outcomes["before"] >= 1, outcomes


@pytest.mark.slow
def test_two_imports_at_once_both_apply_in_turn(db_url: str, tmp_path: Path) -> None:
    first = simple_extract(tmp_path / "one", range(1, 3001))
    second = simple_extract(tmp_path / "two", range(2001, 6001))
    connect(db_url).dispose()  # schema in place, as after any earlier start
    children = [_child(db_url, first), _child(db_url, second)]
    results = [c.communicate(timeout=300) for c in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert "COMMITTED" in out
        assert "locked" not in err
    engine = connect(db_url)
    history = import_history(engine)
    imports = history.drop_duplicates("import_id").sort_values("started_at")
    assert list(imports["status"]) == ["applied", "applied"]
    # Serialised: the second started writing only after the first committed.
    assert imports["started_at"].iloc[1] >= imports["finished_at"].iloc[0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 6000
