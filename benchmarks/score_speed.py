"""`adapt score` on the 1M-incident database: target ≤ 60 s.

Builds the database once (the identity benchmark's 1M extract, seed 303:
`adapt load` then `adapt resolve` into benchmarks/_work/score_1m.sqlite; not
timed here), then times `adapt score` in a child process, several runs, with
its peak RSS, and the stages inside (read history, features, rank, store).

Run: ``.venv/bin/python benchmarks/score_speed.py [--runs 3]``; writes
benchmarks/results/score_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
RESULTS = ROOT / "benchmarks" / "results"
EXTRACT = WORK / "identity_1m"
DB = WORK / "score_1m.sqlite"
ADAPT = [sys.executable, "-m", "adapt"]


def _timed(command: list[str]) -> dict[str, float]:
    """Run a command under /usr/bin/time -v: wall seconds and peak GB."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    peak_kb = next(
        int(line.split(":")[1]) for line in proc.stderr.splitlines() if "Maximum resident" in line
    )
    return {"wall_s": round(time.perf_counter() - t, 1), "peak_gb": round(peak_kb / 2**20, 2)}


def _prepare() -> None:
    """Build the resolved 1M database once; the load and the end-to-end
    `adapt resolve` (read rows, resolve, store ids, lineage and links) are
    timed and kept in benchmarks/_work/score_1m_prepare.json."""
    url = f"sqlite:///{DB}"
    if not (EXTRACT / "involvements.csv").exists():
        subprocess.run([*ADAPT, "generate", str(EXTRACT), "--seed", "303", "--incidents",
                        "1000000"], check=True)  # fmt: skip
    if not (WORK / "score_1m.ready").exists():
        DB.unlink(missing_ok=True)
        steps = {
            "load": _timed([*ADAPT, "load", str(EXTRACT), "--db", url]),
            "resolve": _timed([*ADAPT, "resolve", "--db", url]),
        }
        (WORK / "score_1m_prepare.json").write_text(json.dumps(steps, indent=2) + "\n")
        (WORK / "score_1m.ready").write_text("ok\n")


def _stages() -> dict[str, float]:
    """Run inside a child: time each stage of a score run."""
    from adapt.core.settings import default_settings
    from adapt.db import connect
    from adapt.db.history import load_history
    from adapt.db.scores import store_score_run
    from adapt.features import compute_features
    from adapt.scoring.score import rank

    s = default_settings()
    engine = connect(f"sqlite:///{DB}")
    out: dict[str, float] = {}
    t = time.perf_counter()
    h = load_history(engine, with_protected=False)
    out["read_history"] = time.perf_counter() - t
    t = time.perf_counter()
    feats = compute_features(h, h.last_date, s)
    out["features"] = time.perf_counter() - t
    t = time.perf_counter()
    table = rank(feats, s)
    out["rank"] = time.perf_counter() - t
    t = time.perf_counter()
    store_score_run(engine, table, h.last_date.date(), s, h.unresolved_rows())
    out["store"] = time.perf_counter() - t
    out["persons"] = float(len(table))
    out["incidents"] = float(len(h.incidents))
    out["involvements"] = float(len(h.involvements))
    out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child-stages", action="store_true")
    args = parser.parse_args()
    if args.child_stages:
        print(json.dumps(_stages()))
        return
    _prepare()
    runs = []
    for _ in range(args.runs):
        t = time.perf_counter()
        proc = subprocess.run(
            [*ADAPT, "score", "--db", f"sqlite:///{DB}"], capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        runs.append({"wall_s": round(wall, 1), "peak_gb_so_far": round(peak, 2),
                     "output": proc.stdout.strip()})  # fmt: skip
    stages = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child-stages"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    walls = sorted(r["wall_s"] for r in runs)
    prepare = json.loads((WORK / "score_1m_prepare.json").read_text())
    result = {
        "prepare": prepare,
        "target_s": 60,
        "median_s": walls[len(walls) // 2],
        "runs": runs,
        "stages": {k: round(v, 2) for k, v in stages.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "score_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    st = result["stages"]
    md = [
        "# Score speed: `adapt score` on the 1M-incident database",
        "",
        "2 cores; SQLite; the identity benchmark's 1M extract (seed 303) loaded and resolved",
        "(`benchmarks/score_speed.py`). Each run is `python -m adapt score` in a child process",
        "(wall time includes Python start-up and imports).",
        "",
        "| runs | median | target | met |",
        "|---|---|---|---|",
        f"| {', '.join(f'{w} s' for w in walls)} | {result['median_s']} s | ≤ 60 s | "
        f"{'yes' if result['median_s'] <= 60 else 'NO'} |",
        "",
        f"Stages of one run (separate child): read history {st['read_history']} s, features "
        f"{st['features']} s, rank {st['rank']} s, store {st['store']} s; peak "
        f"{st['peak_gb']:.2f} GB; {int(st['incidents']):,} incidents, "
        f"{int(st['involvements']):,} involvement rows, {int(st['persons']):,} people ranked.",
        "",
        f"Last run's output: `{runs[-1]['output']}`",
        "",
        "Building the database (once, `/usr/bin/time -v`): `adapt load` "
        f"{prepare['load']['wall_s']} s / {prepare['load']['peak_gb']} GB; `adapt resolve` "
        f"end to end (read the person rows, resolve, store ids, lineage, links and the review "
        f"queue) {prepare['resolve']['wall_s']} s / {prepare['resolve']['peak_gb']} GB.",
    ]
    (RESULTS / "score_speed.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
