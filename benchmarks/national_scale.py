"""National scale (issue 15): generate, load, resolve and score end to end.

At one scale per run (``--incidents``: 250k, 1M, 7.5M), on a fresh database,
each step in a child process of its own, with its wall time, its peak memory
(``ru_maxrss`` of that child, from ``os.wait4``) and the least free disk seen
while it ran (DuckDB spills the scored pairs to disk):

* ``adapt generate`` (``--forces``, streaming to disk; not part of the end-to-end
  time: a force has its extract already);
* ``adapt load``, ``adapt resolve`` (trains the match model on the force's
  rows, as a first run does), ``adapt score``: the end-to-end figure;
* two floors measured in the same run, each in its own child process:
  reading the extract's four CSV files with Arrow (``pyarrow.csv.read_csv``,
  all columns as text), and a plain splink prediction over the same rows
  with the same trained model and blocking rules (``Linker.inference.predict``
  at the same keep weight, the pairs counted in DuckDB, nothing else: no
  context stage, no clustering, no storage). The rows are read from the
  database and prepared as ADAPT prepares them before the clock starts;
* cross-force linking, from the generator's truth: serial perpetrators whose
  offending spans two forces, and how many of them the resolution joined.

Results are merged into ``benchmarks/results/national_scale.json`` (one entry
per scale) and the Markdown table ``national_scale.md`` is written from all
entries, with the issue's targets (1M end to end ≤ 8 min and ≤ 6 GB; 7.5M
≤ 75 min and ≤ 16 GB, each step ≤ 8.5× its 1M time; resolve ÷ plain splink
≤ 2×).

Run (on a quiet 2-core machine)::

    nice .venv/bin/python benchmarks/national_scale.py --incidents 1000000 --forces 10
    nice .venv/bin/python benchmarks/national_scale.py --incidents 7500000 --forces 10 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/adapt_national

``--db`` (default: a SQLite file in the work folder) must name an empty database
(a PostgreSQL database is dropped and created again). ``--reuse`` keeps an extract
already generated at this scale. ``--steps`` runs a part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "national"
RESULTS = ROOT / "benchmarks" / "results"
ADAPT = [sys.executable, "-m", "adapt"]
STEPS = ("generate", "load", "floor_arrow", "resolve", "floor_splink", "score", "cross_force")
# Not in the default run: see _child_truth_ids.
EXTRA_STEPS = ("score_on_truth_ids",)
END_TO_END = ("load", "resolve", "score")
TARGETS = {
    1_000_000: {"seconds": 8 * 60, "peak_gb": 6.0},
    7_500_000: {"seconds": 75 * 60, "peak_gb": 16.0, "step_ratio_to_1m": 8.5},
}
RESOLVE_OVER_SPLINK = 2.0
MAX_GB = 20.0
DEADLINE: float | None = None  # epoch seconds; a step still running then is stopped
MIN_FREE_GB = 4.0
RUN_FIGURES = (
    "killed", "error", "commit", "last_log",
    "seconds", "peak_gb", "cpu_seconds", "disk_used_gb", "exit_code",
)  # fmt: skip


# ---- running a step -------------------------------------------------------------------------
def _rss_gb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
    return kb / 2**20


def _run(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` in a child process: wall seconds, its peak RSS, least free disk.

    A child past ``MAX_GB`` of memory, or leaving less than ``MIN_FREE_GB`` of disk,
    is stopped (the machine is shared with its database server) and the step
    reported as killed at that point.
    """
    least_free = [shutil.disk_usage(WORK).free]
    stop = threading.Event()
    killed: list[str] = []
    proc: subprocess.Popen[bytes] | None = None

    def watch() -> None:
        # when the memory is taken: seconds, GB, the child's last log line
        trace = log.with_suffix(".rss.txt").open("w")
        while not stop.wait(2.0):
            least_free[0] = min(least_free[0], shutil.disk_usage(WORK).free)
            if proc is None or killed:
                continue
            lines = log.read_text(errors="replace").splitlines() or [""]
            elapsed, gb = time.perf_counter() - t0, _rss_gb(proc.pid)
            trace.write(f"{elapsed:7.0f} {gb:6.2f} {lines[-1][:120]}\n")
            trace.flush()
            if DEADLINE is not None and time.time() > DEADLINE:
                killed.append("the run's deadline (--deadline) passed")
            elif _rss_gb(proc.pid) > MAX_GB:
                killed.append(f"memory past {MAX_GB:g} GB")
            elif least_free[0] < MIN_FREE_GB * 2**30:
                killed.append(f"free disk below {MIN_FREE_GB:g} GB")
            if killed:
                proc.kill()
        trace.close()

    watcher = threading.Thread(target=watch, daemon=True)
    start_free = least_free[0]
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})  # fmt: skip
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    stop.set()
    watcher.join()
    code = os.waitstatus_to_exitcode(status)
    result = {
        "seconds": round(seconds, 1),
        "peak_gb": round(usage.ru_maxrss / 2**20, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "disk_used_gb": round((start_free - least_free[0]) / 2**30, 1),
        "exit_code": code,
    }
    if not killed and code == -9:
        killed.append("signal 9 from outside the benchmark (the kernel's out-of-memory killer)")
    if killed:
        result["killed"] = f"stopped after {seconds:.0f} s: {killed[0]}"
        # what the step had done by then (its last log lines)
        result["last_log"] = log.read_text(errors="replace").splitlines()[-8:]
    if code != 0:
        result["error"] = log.read_text(errors="replace")[-1500:]
    return result


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- the floors, run as children of this script (``--child NAME``) ----------------------------
def _child_floor_arrow(extract: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows = 0
    t0 = time.perf_counter()
    for name in ("incidents.csv", "involvements.csv", "marac.csv", "management.csv"):
        path = extract / name
        if not path.exists():
            continue
        with path.open("rb") as fh:
            names = fh.readline().decode().strip().split(",")
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
            # planted bad rows (a field too many) are skipped: a floor, not a validation
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=lambda row: "skip"
            ),
        )
        rows += table.num_rows
        del table
    print(json.dumps({"floor_seconds": round(time.perf_counter() - t0, 1), "rows": rows}))


def _child_floor_splink(url: str) -> None:
    import numpy as np
    from splink import Linker

    from adapt.db import connect
    from adapt.db import identity_models as model_store
    from adapt.identity import splink_adapter
    from adapt.identity.model import IdentityModel
    from adapt.identity.resolve import _keep_weight
    from adapt.identity.runner import load_model, prepared_rows

    engine = connect(url)
    try:
        # read and prepared a million rows at a time, as resolve does (untimed)
        prepared, _ = prepared_rows(engine)
        stored = model_store.latest_model(engine)
    finally:
        engine.dispose()
    packaged = load_model()
    # The model the resolve step trained and stored (as `adapt resolve` reuses it).
    model = (
        IdentityModel.from_json({**stored.model, "params": packaged.get_params()})
        if stored is not None
        else packaged
    )
    settings = model.settings_json_
    session = splink_adapter._Session(model.threads, splink_adapter.predict_memory(len(prepared)))
    try:
        t0 = time.perf_counter()
        frame = splink_adapter.splink_frame(prepared, ids=np.arange(len(prepared)))
        sdf = session.db.register(frame, table_name="plain_rows")
        del frame, prepared
        linker = Linker(sdf, splink_adapter._predict_settings(settings))
        pairs = linker.inference.predict(
            threshold_match_weight=_keep_weight(model), warning_mode="never"
        )
        count = session.db._con.sql(f"SELECT count(*) FROM {pairs.physical_name}").fetchall()[0][0]
        seconds = time.perf_counter() - t0
    finally:
        session.close()
    print(json.dumps({"floor_seconds": round(seconds, 1), "pairs": int(count)}))


def _child_cross_force(url: str, truth: Path) -> None:
    import pandas as pd
    from sqlalchemy import create_engine, text

    from adapt.evaluation.cross_force import cross_force_report

    # Only the two columns the report needs, not every person row's text.
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            resolved = pd.read_sql(
                text(
                    "SELECT v.source_row, a.person_id FROM involvements v "
                    "JOIN person_assignments a ON a.row_key = 'involvements:' || v.id "
                    "WHERE v.source_file = 'involvements.csv'"
                ),
                c,
            )
    finally:
        engine.dispose()
    print(json.dumps(cross_force_report(truth, resolved), default=float))


def _child_truth_ids(url: str, truth: Path) -> None:
    """Store the generator's true person of every record as its resolved id
    (PostgreSQL only): a stand-in resolution so that ``adapt score`` can be
    measured at a scale where ``adapt resolve`` did not finish. Labelled as
    such in the results; never part of the end-to-end figure."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    t0 = time.perf_counter()
    stage = {
        "involvements_truth.csv": ("t_inv", "source_row bigint, person_id bigint, "
                                   "true_role text, incident_id text"),
        "marac_truth.csv": ("t_marac", "source_row bigint, referral_id text, victim_person_id "
                            "bigint, perpetrator_person_id bigint, perpetrator_recorded text, "
                            "repeat text, incident_id text"),
        "management_truth.csv": ("t_mgmt", "source_row bigint, person_id bigint"),
    }  # fmt: skip
    with engine.begin() as c:
        raw = c.connection.dbapi_connection
        for name, (table, columns) in stage.items():
            c.execute(text(f"CREATE TEMP TABLE {table} ({columns})"))
            copy = f"COPY {table} FROM STDIN (FORMAT csv, HEADER)"
            with raw.cursor() as cur, (truth / name).open("rb") as fh, cur.copy(copy) as cp:
                while block := fh.read(1 << 24):
                    cp.write(block)
        c.execute(text("DELETE FROM person_assignments"))
        c.exec_driver_sql(
            "INSERT INTO person_assignments (row_key, person_id, run_id, row_hash) "
            "SELECT 'involvements:' || v.id, 'T' || t.person_id, 0, 0 FROM involvements v "
            "JOIN t_inv t ON t.source_row = v.source_row "
            "WHERE v.source_file = 'involvements.csv' "
            "UNION ALL SELECT 'marac_referrals:' || m.id || ':victim', "
            "'T' || t.victim_person_id, 0, 0 FROM marac_referrals m "
            "JOIN t_marac t ON t.source_row = m.source_row "
            "UNION ALL SELECT 'marac_referrals:' || m.id || ':perpetrator', "
            "'T' || t.perpetrator_person_id, 0, 0 FROM marac_referrals m "
            "JOIN t_marac t ON t.source_row = m.source_row "
            "WHERE t.perpetrator_person_id IS NOT NULL "
            "UNION ALL SELECT 'management:' || g.id, 'T' || t.person_id, 0, 0 "
            "FROM management g JOIN t_mgmt t ON t.source_row = g.source_row"
        )
        n = c.execute(text("SELECT count(*) FROM person_assignments")).scalar()
        c.execute(text("ANALYZE person_assignments"))
    engine.dispose()
    print(
        json.dumps(
            {"assigned_rows": int(n), "stand_in_seconds": round(time.perf_counter() - t0, 1)}
        )
    )


def _last_json(log: Path) -> dict[str, Any]:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


# ---- the database -----------------------------------------------------------------------------
def _fresh_database(url: str | None, work: Path) -> str:
    if url is None:
        db = work / "adapt.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    return url


def _database_size_gb(url: str) -> float | None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return round(path.stat().st_size / 2**30, 2) if path.exists() else None
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            size = c.execute(text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        engine.dispose()
    return round(size / 2**30, 2)


# ---- results ----------------------------------------------------------------------------------
def _git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "adapt"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return out.stdout.strip() + (" + uncommitted changes to adapt/" if dirty else "")


def _markdown(results: dict[str, Any]) -> str:
    scales = sorted(results, key=int)
    lines = [
        "# National scale: load, resolve and score end to end (issue 15)",
        "",
        "`benchmarks/national_scale.py`; each step in a child process of its own (peak = its",
        "`ru_maxrss`); floors measured in the same run. Disk = the most the step took from the",
        "free space while it ran (DuckDB's spill included). Times are wall seconds.",
        "",
        "| incidents | forces | database | commit | step | s | peak GB | CPU s | disk GB "
        "| × floor |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scales:
        r = results[s]
        for step in (*STEPS, *EXTRA_STEPS):
            x = r["steps"].get(step)
            if x is None:
                continue
            ratio = ""
            if step == "load" and "floor_arrow" in r["steps"]:
                ratio = _ratio(x, r["steps"]["floor_arrow"].get("floor_seconds"))
            if step == "resolve" and "floor_splink" in r["steps"]:
                ratio = _ratio(x, r["steps"]["floor_splink"].get("floor_seconds"))
            failed = "" if x.get("exit_code", 0) == 0 else " **failed**"
            lines.append(
                f"| {int(s):,} | {r['forces']} | {r['database']} | {x.get('commit', r['commit'])} "
                f"| {step}{failed} "
                f"| {x.get('seconds', '')} | {x.get('peak_gb', '')} | {x.get('cpu_seconds', '')} "
                f"| {x.get('disk_used_gb', '')} | {ratio} |"
            )
    lines += ["", "## Targets", "", "| scale | target | measured | met |", "|---|---|---|---|"]
    for s in scales:
        r = results[s]
        e2e = r.get("end_to_end")
        target = TARGETS.get(int(s))
        if e2e and target and not e2e.get("all_succeeded"):
            failed = [x for x in END_TO_END if r["steps"].get(x, {}).get("exit_code", 1) != 0]
            lines.append(
                f"| {int(s):,} | end to end ≤ {target['seconds'] / 60:.0f} min, peak ≤ "
                f"{target['peak_gb']:g} GB | not measured: {', '.join(failed)} did not finish "
                f"| NO |"
            )
        elif e2e and target:
            ok_t = e2e["seconds"] <= target["seconds"]
            ok_m = e2e["peak_gb"] <= target["peak_gb"]
            lines.append(
                f"| {int(s):,} | end to end ≤ {target['seconds'] / 60:.0f} min, peak ≤ "
                f"{target['peak_gb']:g} GB | {e2e['seconds'] / 60:.1f} min, {e2e['peak_gb']} GB "
                f"| {'yes' if ok_t else 'NO'} / {'yes' if ok_m else 'NO'} |"
            )
        if int(s) == 7_500_000 and "1000000" in results:
            for step in END_TO_END:
                x = r["steps"].get(step, {})
                a = x.get("seconds") if x.get("exit_code", 0) == 0 else None
                b = results["1000000"]["steps"].get(step, {}).get("seconds")
                if a and b:
                    lines.append(
                        f"| 7,500,000 | {step} ≤ 8.5× its 1M time | {a / b:.1f}× "
                        f"| {'yes' if a / b <= 8.5 else 'NO'} |"
                    )
        res, fl = r["steps"].get("resolve"), r["steps"].get("floor_splink")
        if res and fl and fl.get("floor_seconds"):
            q = res["seconds"] / fl["floor_seconds"]
            lines.append(
                f"| {int(s):,} | resolve ÷ plain splink prediction ≤ {RESOLVE_OVER_SPLINK:g}× "
                f"| {q:.1f}× | {'yes' if q <= RESOLVE_OVER_SPLINK else 'NO'} |"
            )
    lines += ["", "## Cross-force linking (generator truth)", ""]
    for s in scales:
        cf = results[s]["steps"].get("cross_force")
        if cf and cf.get("exit_code", 0) == 0:
            report = {k: v for k, v in cf.items() if k not in RUN_FIGURES}
            lines.append(f"- {int(s):,} incidents: `{json.dumps(report)}`")
    lines += ["", "## Runs", ""]
    for s in scales:
        r = results[s]
        lines.append(
            f"- {int(s):,}: {r['when']}, {r['machine']}, load average before/after "
            f"{r['load_before']} / {r.get('load_after', '?')}; person rows "
            f"{r.get('person_rows', '?')}; database size {r.get('database_gb', '?')} GB"
            + (f". {r['note']}" if r.get("note") else "")
        )
        for step, x in r["steps"].items():
            if x.get("killed"):
                lines.append(f"  - {step}: {x['killed']}")
        for a in r.get("attempts", []):
            lines.append(
                f"  - another {a['step']} run on {a['commit']}: {a['seconds']} s, "
                f"peak {a['peak_gb']} GB, {a['killed']}"
            )
    return "\n".join(lines) + "\n"


def _ratio(step: dict[str, Any], floor: float | None) -> str:
    if not floor or not step.get("seconds"):
        return ""
    return f"{step['seconds'] / floor:.1f}"


def _person_rows(url: str) -> int | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM person_assignments")).scalar())
    except Exception:
        return None
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--forces", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1515)
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in the work folder)")
    ap.add_argument("--reuse", action="store_true", help="keep an extract already generated")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--deadline", help="stop a step still running at this UTC time (HH:MM)")
    ap.add_argument("--child", choices=("floor_arrow", "floor_splink", "cross_force", "truth_ids"))
    ap.add_argument("--arg", action="append", default=[])
    args = ap.parse_args()
    if args.child == "floor_arrow":
        return _child_floor_arrow(Path(args.arg[0]))
    if args.child == "floor_splink":
        return _child_floor_splink(args.arg[0])
    if args.child == "cross_force":
        return _child_cross_force(args.arg[0], Path(args.arg[1]))
    if args.child == "truth_ids":
        return _child_truth_ids(args.arg[0], Path(args.arg[1]))

    if args.deadline:
        global DEADLINE
        hh, mm = (int(x) for x in args.deadline.split(":"))
        now = datetime.now(UTC)
        DEADLINE = now.replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp()
    n = args.incidents
    work = WORK / str(n)
    work.mkdir(parents=True, exist_ok=True)
    extract, truth = work / "extract", work / "truth"
    steps = [s for s in args.steps.split(",") if s]
    results_file = RESULTS / "national_scale.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    entry = results.get(str(n), {}) if args.reuse else {}
    entry.update(
        forces=args.forces,
        seed=args.seed,
        commit=_git_commit(),
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{os.cpu_count()} cores, {platform.python_version()}",
        load_before=_load_average(),
    )
    entry.setdefault("steps", {})
    keep_db = "load" not in steps
    url = args.db or f"sqlite:///{work / 'adapt.sqlite'}"
    entry["database"] = "postgresql" if url.startswith("postgresql") else "sqlite"
    for step in steps:
        log = work / f"{step}.log"
        print(f"[{datetime.now():%H:%M:%S}] {step} ...", flush=True)
        if step == "generate":
            if args.reuse and (extract / "involvements.csv").exists():
                continue
            shutil.rmtree(extract, ignore_errors=True)
            shutil.rmtree(truth, ignore_errors=True)
            forces = ["--forces", str(args.forces)] if args.forces > 1 else []
            r = _run([*ADAPT, "generate", str(extract), "--incidents", str(n), "--seed",
                      str(args.seed), *forces, "--truth-dir", str(truth)], log)  # fmt: skip
        elif step == "load":
            if not keep_db:
                url = _fresh_database(args.db, work)
            r = _run([*ADAPT, "-v", "load", str(extract), "--db", url], log)
        elif step == "resolve":
            r = _run([*ADAPT, "-v", "resolve", "--db", url], log)
        elif step == "score":
            r = _run([*ADAPT, "-v", "score", "--db", url], log)
        elif step == "score_on_truth_ids":
            # resolve did not finish at this scale: score measured on the
            # generator's true identities instead (never part of end to end)
            t = _run([sys.executable, __file__, "--child", "truth_ids", "--arg", url,
                      "--arg", str(truth)], work / "truth_ids.log")  # fmt: skip
            r = _run([*ADAPT, "-v", "score", "--db", url], log)
            r["stand_in"] = {**t, **_last_json(work / "truth_ids.log")}
        elif step == "floor_arrow":
            r = _run([sys.executable, __file__, "--child", "floor_arrow", "--arg", str(extract)],
                     log)  # fmt: skip
            r.update(_last_json(log))
        elif step == "floor_splink":
            r = _run([sys.executable, __file__, "--child", "floor_splink", "--arg", url], log)
            r.update(_last_json(log))
        elif step == "cross_force":
            if not (truth / "cross_force.csv").exists():
                continue
            r = _run([sys.executable, __file__, "--child", "cross_force", "--arg", url,
                      "--arg", str(truth)], log)  # fmt: skip
            r.update(_last_json(log))
        else:
            raise SystemExit(f"unknown step {step}")
        r["commit"] = entry["commit"]
        entry["steps"][step] = r
        print(f"    {json.dumps(r)[:600]}", flush=True)
        results[str(n)] = entry
        RESULTS.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(results, indent=2) + "\n")
    entry["load_after"] = _load_average()
    if all(s in entry["steps"] for s in END_TO_END):
        parts = [entry["steps"][s] for s in END_TO_END]
        entry["end_to_end"] = {
            "seconds": round(sum(p["seconds"] for p in parts), 1),
            "peak_gb": max(p["peak_gb"] for p in parts),
            "all_succeeded": all(p.get("exit_code", 0) == 0 for p in parts),
        }
    entry["person_rows"] = _person_rows(url)
    entry["database_gb"] = _database_size_gb(url)
    results[str(n)] = entry
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "national_scale.md").write_text(_markdown(results))
    print((RESULTS / "national_scale.md").read_text())


if __name__ == "__main__":
    main()
