"""What capping the prediction blocks can cost: blocking recall against the truth.

The prediction blocking rules decide which pairs of person rows are ever
scored; a true pair no rule brings together can only be joined through other
rows of the same person. For every true person of a generated force (the
generator's ``involvements_truth.csv``), this counts whether the rules can
still reach all of his rows — the rows of one true person joined by the
blocked pairs among them — under two sets of rules:

* ``before``: the rules as they were before the caps (only the name-only rule
  left out past 100 rows and the sound-alike rule narrowed past 100);
* ``capped``: the rules ADAPT uses (:data:`adapt.identity.splink_adapter.CAPPED_BLOCKS`).

Reported for each: blocked pairs (all rows), persons with two or more
involvement rows reached whole, and the share of true within-person pairs
whose two rows are reachable from each other. This is an upper bound on what
resolution can join (the model still decides), and the difference between
the two is the most the caps can cost.

Run after loading an extract generated with ``--truth-dir``::

    .venv/bin/python benchmarks/blocking_recall.py --db sqlite:///path/adapt.sqlite \\
        --truth path/truth --label 1M

Results are merged into ``benchmarks/results/blocking_recall.{json,md}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from adapt.db import connect
from adapt.db import identity as store
from adapt.identity import splink_adapter as sa
from adapt.identity.normalise import prepare_rows

RESULTS = Path(__file__).resolve().parent / "results"
BEFORE_CAPS = {"blk_name": 100, "blk_sdx": 100}


def _rules(config: str) -> tuple[sa.CappedBlock, ...]:
    if config == "capped":
        return sa.CAPPED_BLOCKS
    return tuple(
        dataclasses.replace(b, cap=BEFORE_CAPS.get(b.column, 10**12)) for b in sa.CAPPED_BLOCKS
    )


def _reach(rows: pd.DataFrame, true: np.ndarray, config: str) -> dict[str, Any]:
    """Blocked pairs, and how much of each true person the blocked pairs reach."""
    original = sa.CAPPED_BLOCKS
    sa.CAPPED_BLOCKS = _rules(config)
    try:
        frame = sa.splink_frame(rows, ids=np.arange(len(rows)), with_tf=False)
    finally:
        sa.CAPPED_BLOCKS = original
    con = duckdb.connect()
    con.register("t", frame)
    rules = [sa.PREDICT_RULES[0], *(b.rule for b in sa.CAPPED_BLOCKS)]
    pairs = {r: sa.block_pairs(con, "t", r) for r in rules}
    con.close()
    n = len(rows)
    known = true >= 0
    src, dst = [], []
    for column in ["ref", *(b.column for b in sa.CAPPED_BLOCKS)]:
        key = pd.Series(frame.column(column).to_pandas())
        ok = known & key.notna().to_numpy()
        idx = np.flatnonzero(ok)
        # rows of one true person sharing a key: chained (reachable from each other)
        codes = pd.factorize(key[ok])[0]
        order = np.lexsort((codes, true[idx]))
        a, b = idx[order[:-1]], idx[order[1:]]
        same = (true[a] == true[b]) & (codes[order[:-1]] == codes[order[1:]])
        src.append(a[same])
        dst.append(b[same])
    s, d = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    frame_t = pd.DataFrame({"true": true[known], "comp": comp[known]})
    per = frame_t.groupby("true").agg(rows=("comp", "size"), parts=("comp", "nunique"))
    many = per[per["rows"] >= 2]
    sizes = frame_t.groupby(["true", "comp"]).size()
    reach_pairs = float((sizes * (sizes - 1) / 2).sum())
    all_pairs = float((per["rows"] * (per["rows"] - 1) / 2).sum())
    return {
        "blocked_pairs": int(sum(pairs.values())),
        "pairs_by_rule": pairs,
        "persons_with_2_rows": len(many),
        "persons_reached_whole": int((many["parts"] == 1).sum()),
        "share_reached_whole": round(float((many["parts"] == 1).mean()), 6),
        "true_pairs": int(all_pairs),
        "true_pairs_reachable": round(reach_pairs / all_pairs, 6) if all_pairs else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--label", required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    engine = connect(args.db)
    try:
        raw = store.person_rows(engine)
    finally:
        engine.dispose()
    rows = prepare_rows(raw.drop(columns=["row_hash"]))
    truth = pd.read_csv(
        args.truth / "involvements_truth.csv", usecols=["source_row", "person_id"], dtype="int64"
    )
    inv = (raw["kind"] == "involvement").to_numpy()
    true = np.full(len(raw), -1, dtype=np.int64)
    where = pd.Series(truth["person_id"].to_numpy(), index=truth["source_row"].to_numpy())
    got = where.reindex(raw.loc[inv, "source_row"].to_numpy())
    true[np.flatnonzero(inv)] = got.fillna(-1).astype("int64").to_numpy()
    del raw
    entry = {
        "rows": len(rows),
        "rows_with_truth": int((true >= 0).sum()),
        "before": _reach(rows, true, "before"),
        "capped": _reach(rows, true, "capped"),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "blocking_recall.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    results[args.label] = entry
    out.write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Blocking recall: what the caps on the prediction blocks can cost",
        "",
        "`benchmarks/blocking_recall.py`: true persons of a generated force (involvement",
        "rows with the generator's truth) and whether the blocked pairs among their rows",
        "reach all of them. An upper bound on what resolution can join; the model decides.",
        "",
        "| extract | rules | blocked pairs | persons (≥ 2 rows) reached whole "
        "| true pairs reachable |",
        "|---|---|---|---|---|",
    ]
    for label, e in results.items():
        for config in ("before", "capped"):
            r = e[config]
            lines.append(
                f"| {label} ({e['rows']:,} rows) | {config} | {r['blocked_pairs']:,} | "
                f"{r['persons_reached_whole']:,} of {r['persons_with_2_rows']:,} "
                f"({r['share_reached_whole']:.4%}) | {r['true_pairs_reachable']:.4%} |"
            )
    (RESULTS / "blocking_recall.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
