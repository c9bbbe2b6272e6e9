"""Counter-allegation benchmark: is the true aggressor of a pair labelled predominant?

On generator data (``--seeds``, ``--incidents`` per seed over 4 years, cached
under the evaluation workdir by :func:`adapt.pipeline.synthetic_history`), the
history is read back with the TRUE person on every involvement row (the
generator's ``involvements_truth.csv``, joined on the source row) and the
roles as recorded (a counter-allegation's swapped layout keeps the victim
recorded as suspect). At each as-of date (``--as-of``), every pair the
features find (each the other's suspect within
``windows.counter_allegation_days``) that is a planted counter-allegation
dyad (``dyads.csv``, ``counter_allegation``) is scored:

* right: the true aggressor is labelled predominant (the other secondary);
* wrong: the true aggressor is labelled secondary;
* unclear: a tie (nothing left out);
* harm wrongly dropped: CHI days of the true aggressor's incidents against
  the other inside the window, left out of his features because he was
  labelled secondary, as a share of the harm of all such incidents.

Prints the figures (``--json PATH`` writes them too); the committed results
are in benchmarks/results/counter_allegations.md.

Run: ``.venv/bin/python benchmarks/counter_allegations.py``
(``--seeds 11,12,13 --incidents 40000 --as-of 2025-10-31,2026-10-31``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from adapt.core.history import History
from adapt.core.resources import evaluation_workdir
from adapt.core.settings import default_settings
from adapt.db.engine import connect
from adapt.db.history import load_history
from adapt.db.models import involvements
from adapt.features.compute import counter_allegation_pairs
from adapt.pipeline import load, synthetic_history, synthetic_name

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.90
DEMO = ROOT / "data" / "synthetic" / "demo"


def _name(seed: int, incidents: int) -> str:
    return synthetic_name(seed, incidents)


def _truth_history(db: str, truth: Path) -> tuple[History, pd.DataFrame]:
    engine = connect(db)
    try:
        stored = load_history(engine, with_protected=False)
        v = involvements.c
        stmt = select(v.incident_id, v.role, v.relationship, v.source_row).where(
            v.withdrawn_import_id.is_(None), v.source_file == "involvements.csv"
        )
        with engine.connect() as conn:
            rows = pd.DataFrame(
                conn.execute(stmt).fetchall(), columns=list(stmt.selected_columns.keys())
            )
    finally:
        engine.dispose()
    who = pd.read_csv(truth / "involvements_truth.csv", usecols=["source_row", "person_id"])
    inv = rows.merge(who, on="source_row")[["incident_id", "role", "person_id", "relationship"]]
    inv["person_id"] = inv["person_id"].astype(str)
    history = History.build(stored.incidents, inv, stored.marac.iloc[0:0], stored.management)
    dyads = pd.read_csv(truth / "dyads.csv", dtype=str)
    planted = dyads.loc[dyads["counter_allegation"] == "true", ["perpetrator_id", "victim_id"]]
    return history, planted.reset_index(drop=True)


def truth_history(workdir: Path, seed: int, incidents: int) -> tuple[History, pd.DataFrame]:
    """The stored history with every involvement's true person (and the roles as
    recorded), and the planted counter-allegation dyads (perpetrator_id, victim_id)."""
    synthetic_history(workdir, seed, incidents)  # builds the cached database once
    name = _name(seed, incidents)
    return _truth_history(f"sqlite:///{workdir / f'{name}.db'}", workdir / f"{name}-truth")


def demo_truth_history(workdir: Path) -> tuple[History, pd.DataFrame]:
    """The committed demo extract (data/synthetic/demo) with its truth."""
    db = workdir / "counter-allegations-demo.db"
    if not db.exists():
        load(f"sqlite:///{db}", DEMO)
    return _truth_history(f"sqlite:///{db}", DEMO.parent / "demo-truth")


def score(history: History, planted: pd.DataFrame, as_of: str) -> dict:
    """Right / wrong / unclear pairs and the harm wrongly dropped at ``as_of``."""
    pairs = counter_allegation_pairs(history, as_of, default_settings())
    # One row per planted pair found: the true aggressor's row of the pair.
    mine = pairs.merge(
        planted, left_on=["person_id", "victim_id"], right_on=["perpetrator_id", "victim_id"]
    )
    found = len(mine)
    right = int((mine["role"] == "predominant").sum())
    wrong = int((mine["role"] == "secondary").sum())
    unclear = found - right - wrong
    dropped = float(mine.loc[mine["role"] == "secondary", "harm"].sum())
    at_stake = float(mine["harm"].sum())
    keys = set(zip(planted["perpetrator_id"], planted["victim_id"], strict=True))
    keys |= {(b, a) for a, b in keys}
    other = sum(
        (a, b) not in keys for a, b in zip(pairs["person_id"], pairs["victim_id"], strict=True)
    )
    return {
        "as_of": as_of,
        "planted": len(planted),
        "found": found,
        "right": right,
        "wrong": wrong,
        "unclear": unclear,
        "share_right": right / found if found else 1.0,
        "harm_wrongly_dropped": dropped,
        "harm_of_true_aggressors": at_stake,
        "share_harm_dropped": dropped / at_stake if at_stake else 0.0,
        "other_pairs": other // 2,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="11,12,13")
    p.add_argument("--incidents", type=int, default=40000)
    p.add_argument("--as-of", default="2025-10-31,2026-10-31")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--label", default="after", help="name of this run in the output")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    workdir = args.workdir or evaluation_workdir()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows = []
    demo, planted = demo_truth_history(workdir)
    demo_as_of = str(demo.last_date.date())
    demo_row = {"seed": "demo", **score(demo, planted, demo_as_of)}
    print(f"demo as of {demo_as_of}: {demo_row['right']}/{demo_row['found']} right, "
          f"{demo_row['wrong']} wrong, {demo_row['unclear']} unclear")  # fmt: skip
    for seed in (int(s) for s in args.seeds.split(",")):
        history, planted = truth_history(workdir, seed, args.incidents)
        for as_of in args.as_of.split(","):
            rows.append({"seed": seed, **score(history, planted, as_of)})
            r = rows[-1]
            print(f"seed {seed} as of {as_of}: {r['right']}/{r['found']} right, "
                  f"{r['wrong']} wrong, {r['unclear']} unclear; harm dropped "
                  f"{r['share_harm_dropped']:.1%}")  # fmt: skip
    total = {k: sum(r[k] for r in rows) for k in ("found", "right", "wrong", "unclear")}
    dropped = sum(r["harm_wrongly_dropped"] for r in rows)
    stake = sum(r["harm_of_true_aggressors"] for r in rows)
    summary = {
        "label": args.label,
        **total,
        "share_right": total["right"] / total["found"] if total["found"] else 1.0,
        "share_harm_dropped": dropped / stake if stake else 0.0,
        "target_share_right": TARGET,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": platform.platform(),
        "command": "benchmarks/counter_allegations.py " + " ".join(argv or []),
    }
    summary["target_met"] = summary["share_right"] >= TARGET
    summary["demo"] = demo_row
    print(json.dumps(summary, indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
