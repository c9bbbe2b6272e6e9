"""The Spark engine against the default engine at 100k incidents (issue 15).

Builds a 100k-incident extract (generator, seed 1515) and loads it into
SQLite; ``adapt resolve`` trains and stores the model (not timed). Then, each
in a child process with its wall time and peak RSS (of the largest process:
with Spark that is the driver's JVM):

* ``adapt resolve --full`` (default engine, the stored model) and
  ``adapt resolve --engine spark`` (same model, splink on Spark, local mode):
  the ratio of their times, and the pairwise agreement of the two clusterings
  (the people each run stored);
* ``adapt score`` and ``adapt score --engine spark`` over the same people:
  the ratio, and whether the two stored score tables are identical.

Run: ``nice .venv/bin/python benchmarks/spark_engine.py [--incidents 100000]``;
writes benchmarks/results/spark_engine.{md,json}. Needs ``adapt[spark]`` and Java 17.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import pair_confusion_matrix

from adapt.db import connect
from adapt.db import identity as store
from adapt.db.scores import score_run_frame

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
RESULTS = ROOT / "benchmarks" / "results"
ADAPT = [sys.executable, "-m", "adapt"]


def _timed(command: list[str]) -> dict[str, float]:
    """Run a command under /usr/bin/time -v: wall seconds and peak GB."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-3000:])
    peak_kb = next(
        int(line.split(":")[1]) for line in proc.stderr.splitlines() if "Maximum resident" in line
    )
    return {"wall_s": round(time.perf_counter() - t, 1), "peak_gb": round(peak_kb / 2**20, 2)}


def _people(url: str) -> pd.DataFrame:
    engine = connect(url)
    try:
        return store.assignments(engine)[["row_key", "person_id"]]
    finally:
        engine.dispose()


def _scores(url: str, run_id: int) -> pd.DataFrame:
    engine = connect(url)
    try:
        return score_run_frame(engine, run_id)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    n = args.incidents
    extract = WORK / f"spark_{n}"
    db = WORK / f"spark_{n}.sqlite"
    url = f"sqlite:///{db}"
    WORK.mkdir(parents=True, exist_ok=True)
    if not (extract / "involvements.csv").exists():
        subprocess.run(
            [*ADAPT, "generate", str(extract), "--seed", "1515", "--incidents", str(n)], check=True
        )
    db.unlink(missing_ok=True)
    load_at_start = os.getloadavg()[0]
    steps: dict[str, dict[str, float]] = {}
    steps["load"] = _timed([*ADAPT, "load", str(extract), "--db", url])
    steps["resolve_train"] = _timed([*ADAPT, "resolve", "--db", url])
    steps["resolve_default"] = _timed([*ADAPT, "resolve", "--full", "--db", url])
    default_people = _people(url)
    steps["resolve_spark"] = _timed([*ADAPT, "resolve", "--engine", "spark", "--db", url])
    spark_people = _people(url)
    steps["score_default"] = _timed([*ADAPT, "score", "--db", url])
    steps["score_spark"] = _timed([*ADAPT, "score", "--engine", "spark", "--db", url])

    people = default_people.merge(spark_people, on="row_key", suffixes=("_d", "_s"))
    (tn, fp), (fn, tp) = pair_confusion_matrix(people["person_id_d"], people["person_id_s"])
    total = int(tn + fp + fn + tp)
    agreement = (int(tn) + int(tp)) / total
    a, b = (_scores(url, run).drop(columns="run_id") for run in (1, 2))
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        identical, difference = True, ""
    except AssertionError as exc:
        identical, difference = False, str(exc)[:500]
    out = {
        "incidents": n,
        "person_rows": len(people),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg()[0],
        "steps": steps,
        "resolve_ratio_spark_to_default": round(
            steps["resolve_spark"]["wall_s"] / steps["resolve_default"]["wall_s"], 1
        ),
        "score_ratio_spark_to_default": round(
            steps["score_spark"]["wall_s"] / steps["score_default"]["wall_s"], 1
        ),
        "pair_agreement": agreement,
        "pairs_disagreeing": int(fp + fn),
        "persons_default": int(default_people["person_id"].nunique()),
        "persons_spark": int(spark_people["person_id"].nunique()),
        "scores_identical": identical,
        "scores_difference": difference,
        "score_rows": len(a),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spark_engine.json").write_text(json.dumps(out, indent=2) + "\n")
    rows = "\n".join(f"| {k} | {v['wall_s']} | {v['peak_gb']} |" for k, v in steps.items())
    md = f"""# Spark engine (local mode) against the default engine, {n:,} incidents

`nice .venv/bin/python benchmarks/spark_engine.py --incidents {n}` on {out["machine"]}
(load average {load_at_start:.1f} at the start, {out["load_average_at_end"]:.1f} at the end:
other work shared the cores).
Spark runs in local mode (`local[*]`), the driver and the executor in one JVM.

| step | wall s | peak GB (largest process) |
|---|---|---|
{rows}

* resolve, Spark ÷ default: **{out["resolve_ratio_spark_to_default"]}×**
* score, Spark ÷ default: **{out["score_ratio_spark_to_default"]}×**
* people: {out["persons_default"]:,} (default) and {out["persons_spark"]:,} (Spark) over
  {out["person_rows"]:,} person rows; pairwise agreement of the two clusterings
  **{agreement:.6f}** ({out["pairs_disagreeing"]:,} pairs of rows differ)
* score tables identical (every column, exact): **{identical}** ({len(a):,} people)

Local mode measures the engine's overhead, not its reach: on one 2-core box
Spark is slower than DuckDB and pandas (job scheduling, checkpoints between
splink's stages, Python workers for the features). Its use is more than one
box (docs/national-scale.md).
"""
    (RESULTS / "spark_engine.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
