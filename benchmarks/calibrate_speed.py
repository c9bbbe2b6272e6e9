"""`adapt calibrate` on a 100k-incident force: target ≤ 10 minutes (issue 13).

Builds (or reuses) a generated force of ``--incidents`` incidents over 4 years
(seed 21, generated, loaded and resolved through the pipeline, cached under the
evaluation work folder; not timed here), copies its database so that the
draft is written to a copy, then times ``adapt calibrate`` in a child process
with its peak RSS, and the stages in process (read the history, the search
and the evidence).

Run: ``.venv/bin/python benchmarks/calibrate_speed.py [--incidents 100000]``;
writes benchmarks/results/calibrate_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from adapt.core.resources import evaluation_workdir
from adapt.core.settings import default_settings
from adapt.db import connect
from adapt.db.history import load_history
from adapt.evaluation.calibrate import calibrate
from adapt.pipeline import synthetic_history, synthetic_name

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SEED = 21
TARGET_S = 600


def _timed(command: list[str]) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-2000:])
    peak_kb = next(
        int(line.split(":")[1]) for line in proc.stderr.splitlines() if "Maximum resident" in line
    )
    return {
        "wall_s": round(time.perf_counter() - t, 1),
        "peak_gb": round(peak_kb / 2**20, 2),
        "output": proc.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    work = evaluation_workdir()
    history = synthetic_history(work, SEED, args.incidents, years=4.0)
    source = work / f"{synthetic_name(SEED, args.incidents)}.db"

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "calibrate.db"
        shutil.copyfile(source, copy)
        url = f"sqlite:///{copy}"
        cli = _timed([sys.executable, "-m", "adapt", "calibrate", "--db", url])
        engine = connect(url)
        t = time.perf_counter()
        history = load_history(engine, with_protected=False)
        read_s = time.perf_counter() - t
        engine.dispose()
    t = time.perf_counter()
    result = calibrate(history, history.last_date, default_settings())
    search_s = time.perf_counter() - t
    oot = result.out_of_time()
    out = {
        "incidents": len(history.incidents),
        "seed": SEED,
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "origins": [f"{o.as_of:%Y-%m-%d} ({o.role})" for o in result.origins],
        "cli_wall_s": cli["wall_s"],
        "cli_peak_gb": cli["peak_gb"],
        "read_history_s": round(read_s, 1),
        "calibrate_s": round(search_s, 1),
        "target_s": TARGET_S,
        "out_of_time_top100": {k: round(v, 4) for k, v in oot.items()},
        "fitted_top100": round(result.fitted_capture, 4),
        "multipliers": result.multipliers,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calibrate_speed.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "# `adapt calibrate` speed",
        "",
        f"A generated force of {out['incidents']:,} incidents (seed {SEED}, 4 years to "
        f"2026-10-31), loaded and resolved beforehand; as of {out['as_of']}, origins "
        f"{', '.join(out['origins'])}.",
        "",
        "| what | seconds | target |",
        "|---|---:|---:|",
        f"| `adapt calibrate` (child process, peak {out['cli_peak_gb']} GB) | "
        f"{out['cli_wall_s']} | {TARGET_S} |",
        f"| of which: read the history | {out['read_history_s']} | |",
        f"| of which: features per origin, search, evidence | {out['calibrate_s']} | |",
        "",
        "Out of time (the held-out year, not fitted on), top 100, share of next-year harm: "
        + ", ".join(f"{k} {v:.1%}" for k, v in out["out_of_time_top100"].items())
        + f". Fitted (in-sample) {out['fitted_top100']:.1%}.",
        "",
        "```",
        cli["output"].rstrip(),
        "```",
        "",
    ]
    (RESULTS / "calibrate_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
