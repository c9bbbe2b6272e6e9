"""Identity speed benchmark: each step in a child process, with its peak RSS.

Steps:

* ``small``: about 50,000 person rows (20,000 incidents): prepare + resolve;
  target ≤ 15 s.
* ``full``: the 1M-incident extract (about 2.7M rows, generated once into
  benchmarks/_work/): prepare + resolve with the model's own settings
  (resolve picks the prediction chunks); target ≤ 5 min, peak ≤ 6 GB.
  Saves prepared rows and clusters for the next step.
* ``incremental``: a 20,000-incident monthly extract on top of ``full``:
  prepare new rows + resolve_incremental; target ≤ 60 s (loading the stored
  base from parquet is timed separately).

Run: ``.venv/bin/python benchmarks/identity_speed.py`` (all steps), writes
benchmarks/results/identity_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
RESULTS = ROOT / "benchmarks" / "results"
MODEL = ROOT / "models" / "identity-splink.json"
TARGETS = {"small": 15.0, "full": 300.0, "incremental": 60.0}


def _extract(folder: Path, seed: int, incidents: int) -> Path:
    from adapt.synthetic import GeneratorConfig, generate

    if not (folder / "involvements.csv").exists():
        generate(folder, GeneratorConfig(seed=seed, incidents=incidents, noise=1.0))
    return folder


def _rows(folder: Path, prefix: str = "") -> object:
    from adapt.contract import read_extract
    from adapt.identity import person_rows_from_extract

    rows = person_rows_from_extract(read_extract(folder))
    if prefix:  # a second extract's row keys must not collide with the base's
        rows["row_key"] = prefix + rows["row_key"]
    return rows


def _rss_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return round(int(line.split()[1]) / 2**20, 2)
    return 0.0


def _save_rows(rows: object, path: Path, size: int = 250_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    schema = pa.Schema.from_pandas(rows, preserve_index=False)  # one column at a time
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, len(rows), size):
            part = rows.iloc[start : start + size]
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
    tmp.replace(path)


def step(name: str) -> dict:
    from adapt.identity import IdentityModel, prepare_rows, resolve, resolve_incremental

    model = IdentityModel.load(MODEL)
    out: dict = {"step": name}
    if name == "small":
        raw = _rows(_extract(WORK / "identity_50k", 202, 20000))
        t0 = time.perf_counter()
        rows = prepare_rows(raw)
        res = resolve(rows, model)
    elif name == "full":
        raw = _rows(_extract(WORK / "identity_1m", 303, 1_000_000))
        t0 = time.perf_counter()
        rows = prepare_rows(raw)
        del raw
        gc.collect()
        out["prepare_seconds"] = round(time.perf_counter() - t0, 1)
        out["rss_after_prepare_gb"] = _rss_gb()
        res = resolve(rows, model)
        seconds = time.perf_counter() - t0
        # stored for the incremental step (untimed), in slices: one Arrow copy
        # of the whole frame would add ~2 GB to the peak
        _save_rows(rows, WORK / "identity_1m_rows.parquet")
        res.clusters.to_parquet(WORK / "identity_1m_clusters.parquet")
        t0 = time.perf_counter() - seconds
    else:
        import pandas as pd

        t_load = time.perf_counter()
        base = pd.read_parquet(WORK / "identity_1m_rows.parquet")
        stored = WORK / "identity_1m_clusters.parquet"
        if stored.exists():
            clusters = pd.read_parquet(stored)
        else:  # full step did not finish: stand-in base clusters (exact name+DOB)
            from adapt.identity.metrics import baseline_clusters

            clusters = pd.DataFrame(
                {"row_key": base["row_key"], "cluster": baseline_clusters(base, "name_dob")}
            )
            out["base_clusters"] = "stand-in: exact forename+surname+DOB"
        out["load_base_seconds"] = round(time.perf_counter() - t_load, 1)
        raw = _rows(_extract(WORK / "identity_1m_month", 304, 20000), prefix="m1/")
        t0 = time.perf_counter()
        new = prepare_rows(raw)
        res = resolve_incremental(base, clusters, new, model)
        out["existing_rows"] = len(base)
        out["clusters_returned"] = len(res.clusters)
        rows = new
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["rows"] = len(rows)
    out["links"] = len(res.links)
    out["accepted_links"] = int(res.links["accepted"].sum())
    out["timings"] = {k: round(v, 1) for k, v in res.timings.items()}
    out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", choices=sorted(TARGETS))
    ap.add_argument("--steps", default="small,full,incremental")
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step(args.step)))
        return
    results = []
    for name in args.steps.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--step", name], capture_output=True, text=True, check=True
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["target_seconds"] = TARGETS[name]
        r["met"] = r["seconds"] <= TARGETS[name] and (name != "full" or r["peak_rss_gb"] <= 6)
        results.append(r)
        print(json.dumps(r), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity_speed.json").write_text(json.dumps(results, indent=1))
    lines = [
        "# Identity speed",
        "",
        "2 cores; each step in its own process; peak RSS of that process.",
        "",
        "| step | rows | seconds | target | peak RSS GB | met | stages (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['step']} | {r['rows']:,} | {r['seconds']} | ≤ {r['target_seconds']:.0f} | "
            f"{r['peak_rss_gb']} | {'yes' if r['met'] else 'NO'} | {r['timings']} |"
        )
    (RESULTS / "identity_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
