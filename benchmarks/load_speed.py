"""Speed of the first pipeline stage: generate, then load into SQLite and
PostgreSQL, then re-load the same folder.

Each measured step runs in a child process of its own, so its peak memory
(max RSS) is its own. Per load, the stages are: read (parse the CSVs),
validate (types, rules, quarantine) and write (the one database transaction).
The floor is a plain ``pandas.read_csv`` of the same files.

Usage::

    .venv/bin/python benchmarks/load_speed.py --incidents 1000000 \
        --pg postgresql://postgres@127.0.0.1:5432/test

Results go to ``benchmarks/results/load_speed-<incidents>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
WORK = HERE / "_work"
RESULTS = HERE / "results"

CHILD_LOAD = r"""
import json, resource, sys, time
from adapt.contract import read_extract
from adapt.db import connect, load_extract

url, folder = sys.argv[1], sys.argv[2]
marks = []  # (when, stage) at each change of stage
def progress(stage, done, total):
    if not marks or marks[-1][1] != stage:
        marks.append((time.perf_counter(), stage))

def spent(prefixes, until):
    # Seconds spent in stages whose names start with one of the prefixes.
    total = 0.0
    for (t, stage), nxt in zip(marks, [m[0] for m in marks[1:]] + [until]):
        if stage.startswith(prefixes):
            total += nxt - t
    return total

engine = connect(url)
t0 = time.perf_counter()
extract = read_extract(folder, progress=progress)
t1 = time.perf_counter()
result = load_extract(engine, extract, progress=progress)
t2 = time.perf_counter()
rows = sum(f.records for f in result.files)
print(json.dumps({
    "read_validate_s": t1 - t0,
    # The reader reports "reading F", then "checking F" and "building F"
    # (parsing types, rules, quarantine rows) per file.
    "read_s": spent(("reading",), t1),
    "validate_s": (t1 - t0) - spent(("reading",), t1),
    "write_s": t2 - t1,
    "total_s": t2 - t0,
    "records": rows,
    "rows_per_s": rows / (t2 - t0),
    "files": [f.__dict__ for f in result.files],
    "quarantined": result.quarantine_rows,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "stages": [m[1] for m in marks],
}))
"""

CHILD_FLOOR = r"""
import json, resource, sys, time
import pandas as pd
engine = sys.argv[2]
t0 = time.perf_counter()
n = 0
for name in ("incidents.csv", "involvements.csv", "marac.csv", "management.csv"):
    path = f"{sys.argv[1]}/{name}"
    if engine == "pyarrow":  # Arrow cannot skip bad lines through pandas; read as Arrow does
        import pyarrow.csv as pacsv
        skip = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda r: "skip")
        n += pacsv.read_csv(path, parse_options=skip).num_rows
    else:
        n += len(pd.read_csv(path, on_bad_lines="skip"))
t = time.perf_counter() - t0
print(json.dumps({"total_s": t, "records": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generate(folder: Path, incidents: int) -> dict:
    if folder.exists():
        shutil.rmtree(folder)
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [
            sys.executable,
            "-m",
            "adapt",
            "generate",
            str(folder),
            "--seed",
            "1",
            "--incidents",
            str(incidents),
        ],
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = sum(p.stat().st_size for p in folder.iterdir())
    return {
        "total_s": time.perf_counter() - t0,
        "peak_rss_mb": max(after, before) / 1024,
        "bytes": size,
    }


def _fresh_pg(base: str) -> str:
    from sqlalchemy import create_engine

    url = base.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS adapt_bench CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA adapt_bench")
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3Dadapt_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("ADAPT_TEST_DATABASE_URL"))
    parser.add_argument("--reuse", action="store_true", help="reuse a generated extract")
    args = parser.parse_args()

    folder = WORK / f"extract-{args.incidents}"
    report: dict = {
        "incidents": args.incidents,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    previous = RESULTS / f"load_speed-{args.incidents}.json"
    if args.reuse and folder.exists():
        # Keep the generation figure measured when the folder was made.
        kept = json.loads(previous.read_text()) if previous.exists() else {}
        report["generate"] = kept.get("generate")
    else:
        report["generate"] = _generate(folder, args.incidents)
        print("generate", report["generate"], flush=True)
    report["floor_pandas_read_csv"] = _child(CHILD_FLOOR, str(folder), "c")
    report["floor_arrow_read_csv"] = _child(CHILD_FLOOR, str(folder), "pyarrow")
    print("floor", report["floor_pandas_read_csv"], report["floor_arrow_read_csv"], flush=True)

    databases = {"sqlite": f"sqlite:///{WORK / 'bench.sqlite'}"}
    for suffix in ("", "-wal", "-shm"):
        Path(f"{WORK / 'bench.sqlite'}{suffix}").unlink(missing_ok=True)
    if args.pg:
        databases["postgresql"] = _fresh_pg(args.pg)
    for name, url in databases.items():
        first = _child(CHILD_LOAD, url, str(folder))
        print(name, "load", {k: v for k, v in first.items() if k != "files"}, flush=True)
        again = _child(CHILD_LOAD, url, str(folder))
        print(name, "reload", {k: v for k, v in again.items() if k != "files"}, flush=True)
        floor = report["floor_pandas_read_csv"]["total_s"]
        report[name] = {
            "load": first,
            "reload": again,
            "load_vs_floor": first["total_s"] / floor,
        }

    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"load_speed-{args.incidents}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2))
    stem.with_suffix(".md").write_text(_markdown(report))
    print(_markdown(report))


def _fmt(x: float | None, unit: str = "") -> str:
    return "–" if x is None else f"{x:,.1f}{unit}"


def _markdown(r: dict) -> str:
    lines = [
        f"# Load speed, {r['incidents']:,} incidents ({r['when']}, {r['machine']['cpus']} cores)",
        "",
    ]
    if r.get("generate"):
        g = r["generate"]
        lines.append(
            f"Generate: {_fmt(g['total_s'], ' s')}, peak {_fmt(g['peak_rss_mb'], ' MB')}, "
            f"{g['bytes'] / 1e6:,.0f} MB on disk (target ≤ 60 s)."
        )
    f = r["floor_pandas_read_csv"]
    lines += [
        f"Floor (plain `pandas.read_csv` of the four files): {_fmt(f['total_s'], ' s')}, "
        f"peak {_fmt(f['peak_rss_mb'], ' MB')}. Arrow's CSV reader on the same files: "
        f"{_fmt(r['floor_arrow_read_csv']['total_s'], ' s')}.",
        "",
        "| database | step | read s | validate s | write s | total s | records/s "
        "| peak MB | × floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for db in ("sqlite", "postgresql"):
        if db not in r:
            continue
        for step in ("load", "reload"):
            m = r[db][step]
            lines.append(
                f"| {db} | {step} | {_fmt(m['read_s'])} | {_fmt(m['validate_s'])} "
                f"| {_fmt(m['write_s'])} | {_fmt(m['total_s'])} | {m['rows_per_s']:,.0f} "
                f"| {_fmt(m['peak_rss_mb'])} | {m['total_s'] / f['total_s']:.1f} |"
            )
    lines += [
        "",
        "Targets: load ≤ 60 s and peak ≤ 4 GB on each database; re-load ≤ 45 s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
