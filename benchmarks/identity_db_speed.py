"""`adapt resolve` through the database at 1M incidents: the whole stored path.

What issue 11 item 7 measures: read the person rows from the database, train
the match model on them (a first run trains), resolve, and store ids, lineage,
links and the review queue — `adapt resolve` in a child process under
``/usr/bin/time -v`` (wall seconds, peak RSS). Then a monthly extract of
20,000 incidents is loaded on top and the incremental `adapt resolve` (which
reuses the stored model) is timed the same way. Targets: full ≤ 300 s and
≤ 6 GB peak; incremental ≤ 60 s.

The 1M extract is the identity benchmark's (seed 303, generated once into
benchmarks/_work/identity_1m); the month is seed 304 with its ids prefixed so
that its incidents and referrals are new records, not updates.

Run: ``.venv/bin/python benchmarks/identity_db_speed.py [--db URL]`` (default
a fresh SQLite file under benchmarks/_work); writes
benchmarks/results/identity_db_speed.{md,json}. Say how loaded the machine
was: the figures are wall-clock.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
RESULTS = ROOT / "benchmarks" / "results"
EXTRACT = WORK / "identity_1m"
MONTH = WORK / "identity_month_20k"
ADAPT = [sys.executable, "-m", "adapt"]
TARGETS = {"full": {"wall_s": 300.0, "peak_gb": 6.0}, "incremental": {"wall_s": 60.0}}
ID_FILES = ("incidents.csv", "involvements.csv", "marac.csv")  # first column: the record id


def _timed(command: list[str]) -> dict[str, object]:
    """Run a command under /usr/bin/time -v: wall seconds, peak GB, its output."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    peak_kb = next(
        int(line.split(":")[1]) for line in proc.stderr.splitlines() if "Maximum resident" in line
    )
    return {
        "wall_s": round(time.perf_counter() - t, 1),
        "peak_gb": round(peak_kb / 2**20, 2),
        "output": proc.stdout.strip().splitlines()[-3:],
    }


def _generate(folder: Path, seed: int, incidents: int) -> None:
    if not (folder / "involvements.csv").exists():
        subprocess.run(
            [*ADAPT, "generate", str(folder), "--seed", str(seed), "--incidents", str(incidents)],
            check=True,
        )


def _month() -> Path:
    """A 20,000-incident month whose incident and referral ids are new.

    Read with the csv module (the generator plants malformed rows, which must
    stay as they are for the import to quarantine); the id is each file's first
    column."""
    raw = WORK / "identity_month_raw"
    _generate(raw, 304, 20_000)
    if not (MONTH / "involvements.csv").exists():
        MONTH.mkdir(parents=True, exist_ok=True)
        for path in raw.glob("*.csv"):
            with path.open(encoding="utf-8", newline="") as src:
                rows = list(csv.reader(src))
            if path.name in ID_FILES:
                for row in rows[1:]:
                    if row:
                        row[0] = "M1-" + row[0]
            with (MONTH / path.name).open("w", encoding="utf-8", newline="") as dst:
                csv.writer(dst).writerows(rows)
    return MONTH


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file in _work)")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    _generate(EXTRACT, 303, 1_000_000)
    month = _month()
    if args.db:
        url = args.db
    else:
        db = WORK / "identity_db_speed.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    out: dict[str, object] = {"database": url.split(":")[0], "load_before": _load_average()}
    out["load"] = _timed([*ADAPT, "load", str(EXTRACT), "--db", url])
    out["full"] = _timed([*ADAPT, "resolve", "--db", url])
    out["load_month"] = _timed([*ADAPT, "load", str(month), "--db", url])
    out["incremental"] = _timed([*ADAPT, "resolve", "--db", url])
    out["load_after"] = _load_average()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity_db_speed.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "# Identity resolution through the database (1M incidents)",
        "",
        "`.venv/bin/python benchmarks/identity_db_speed.py`: `adapt resolve` in a child "
        f"process on {out['database']}; machine load average before {out['load_before']}, "
        f"after {out['load_after']} (2 cores; above 2 means other work shared them).",
        "",
        "| step | wall s | peak GB | target | met |",
        "|---|---|---|---|---|",
    ]
    for step in ("load", "full", "load_month", "incremental"):
        r = out[step]
        target = TARGETS.get(step, {})
        met = all(r[k] <= v for k, v in target.items()) if target else None  # type: ignore[operator]
        want = ", ".join(f"{k} ≤ {v:g}" for k, v in target.items()) or "—"
        lines.append(
            f"| {step} | {r['wall_s']} | {r['peak_gb']} | {want} | "  # type: ignore[index]
            f"{'—' if met is None else ('yes' if met else 'NO')} |"
        )
    lines += ["", "What `adapt resolve` printed:", ""]
    for step in ("full", "incremental"):
        lines += [f"* {step}: " + " / ".join(out[step]["output"])]  # type: ignore[index]
    (RESULTS / "identity_db_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
