"""Generator figures: does the synthetic force look like the research says real data does?

Issue 13 item 5. For several generator seeds (4 years, default noise), the
figures of ``../shared/domain.md`` measured on the generator's truth
(:mod:`adapt.synthetic.research`):

(a) harm concentration: the share of victim–perpetrator pairs causing 80% of
    the harm (Suffolk: under 2%), pairs seen only once (Suffolk: 76% never
    called again), perpetrators causing 90% of two years' harm (Thames
    Valley: 3%);
(b) of the highest-harm pairs (the fewest pairs causing 80% of the harm),
    the share with no earlier police contact before their first serious
    incident (research: more than half), the share whose perpetrator was
    never seen before, and the share of the last year's harm from people
    unseen before it;
(c) harm per incident across a pair's incidents (later over first: falls in
    the research), severity escalation rare (share of pairs with 4+ incidents
    whose second half is 10x the first in harm), frequency escalation more
    common (second half's gaps at most half the first's);
(d) the learned model's AUC for "any incident next year" (published on real
    data: about 0.75; the committed model card measured 0.927 on the
    generator): the real pipeline (generate → load → resolve,
    :func:`adapt.pipeline.synthetic_history`) and the real training code
    (:mod:`adapt.learned.train`: rows at its five as-of dates on the
    training seeds, :class:`adapt.learned.HarmModel` at the committed C, then
    :func:`adapt.learned.train.evaluate` on the test seeds as of the end of
    year 3), plus a quick proxy on true identities for every seed.

Writes one column (``--column before`` or ``after``) into
benchmarks/results/generator_figures.{json,md}, keeping the other column.

Run: ``nice .venv/bin/python benchmarks/generator_figures.py --column after``
(``--seeds 11,12,13,14 --incidents 40000 --model-incidents 20000``; the
pipeline forces are built in a fresh temporary folder every run, so a cached
force from an older generator is never measured). About 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from adapt.learned.model import HarmModel
from adapt.learned.train import (
    HORIZON_DAYS,
    THRESHOLD_DAYS,
    _latest,
    evaluate,
    held_out_rows,
    training_rows,
)
from adapt.pipeline import synthetic_history
from adapt.synthetic import research

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODEL_C = 0.1  # the penalty the committed model chose (models/harm-model-card.md)

# (key, label, research figure, target test on the mean)
FIGURES = [
    ("pairs_for_80pct_harm", "(a) pairs causing 80% of harm", "Suffolk: under 2%",
     lambda v: v < 0.02),
    ("pairs_seen_once", "(a) pairs seen only once", "Suffolk: 76% never called again",
     lambda v: 0.65 <= v <= 0.85),
    ("perpetrators_for_90pct_harm_2y", "(a) perpetrators causing 90% of 2 years' harm",
     "Thames Valley: 3%", lambda v: v <= 0.05),
    ("power_few_new_pair", "(b) highest-harm pairs with no earlier contact",
     "more than half", lambda v: v > 0.5),
    ("power_few_new_perpetrator", "(b) ... whose perpetrator was never seen before",
     "(not published; part of the above)", None),
    ("next_year_harm_from_unseen", "(b) last year's harm from people unseen before it",
     "(not published)", None),
    ("later_to_first_harm", "(c) harm per later incident / first incident",
     "falls (below 1)", lambda v: v < 1.0),
    ("severity_escalating", "(c) pairs (4+ incidents) escalating in severity",
     "rare, a high-harm few", lambda v: v < 0.10),
    ("severity_deescalating", "(c) pairs (4+ incidents) de-escalating in severity",
     "more than escalate", None),
    ("frequency_escalating", "(c) pairs (4+ incidents) escalating in frequency",
     "frequency rises first: more than severity", None),
    ("auc_model", "(d) proxy AUC any incident next year (true identities)",
     "about 0.75", lambda v: 0.70 <= v <= 0.82),
    ("auc_recency", "(d) proxy AUC of recency alone (true identities)", "", None),
]  # fmt: skip


def truth_figures(seeds: list[int], incidents: int) -> dict[str, dict[str, float]]:
    worlds = {s: research.true_incidents(s, incidents) for s in seeds}
    out = {}
    for i, s in enumerate(seeds):
        w = worlds[s]
        train = worlds[seeds[(i + 1) % len(seeds)]]  # the proxy is fitted on another seed
        out[str(s)] = {
            **research.concentration(w),
            **research.unseen_high_harm(w),
            **research.severity_course(w),
            **research.reoffending_auc(train, w),
        }
    return out


def model_auc(train_seeds: list[int], test_seeds: list[int], incidents: int) -> dict:
    """The learned model's test AUC, trained and tested as adapt.learned.train does."""
    with tempfile.TemporaryDirectory(prefix="adapt-genfig-") as tmp, threadpool_limits(limits=1):
        work = Path(tmp)
        train = training_rows(train_seeds, incidents, work, synthetic_history)
        test = held_out_rows(test_seeds, incidents, work, synthetic_history)
        model = HarmModel(C=MODEL_C, threshold_days=THRESHOLD_DAYS, horizon_days=HORIZON_DAYS)
        model.fit(train, train["harm_target"], groups=train["group"], calibrate_on=_latest(train))
        m = evaluate(model, test)
    return {
        "incidents_per_seed": incidents,
        "train_seeds": train_seeds,
        "test_seeds": test_seeds,
        "auc_any_incident": m["pooled"]["auc"]["any_incident"],
        "auc_harm_target": m["pooled"]["auc"]["harm_target"],
        "any_incident_rate": m["pooled"]["any_incident_rate"],
        "per_seed_auc_any_incident": {
            s: v["auc"]["any_incident"] for s, v in m["per_seed"].items()
        },
        "baselines_auc_any_incident": {k: v["any_incident"] for k, v in m["baselines_auc"].items()},
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.3f}"


def render(results: dict) -> str:
    cols = [c for c in ("before", "after") if c in results]
    lines = [
        "# Generator figures: the synthetic force against the research",
        "",
        "Issue 13 item 5. `benchmarks/generator_figures.py` (method in its docstring; "
        "measures in `adapt/synthetic/research.py`). Truth figures: mean over the seeds "
        "(min–max in brackets), 4 years, default noise. Sources in `../shared/domain.md`.",
        "",
    ]
    for c in cols:
        r = results[c]
        lines.append(
            f"- **{c}**: commit {r['commit']}, seeds {r['seeds']}, {r['incidents']:,} incidents "
            f"per seed, {r['seconds']:.0f} s"
        )
    lines += ["", "| figure | research | " + " | ".join(cols) + " |",
              "|---|---|" + "---|" * len(cols)]  # fmt: skip
    for key, label, source, target in FIGURES:
        cells = []
        for c in cols:
            vals = [v[key] for v in results[c]["per_seed"].values()]
            mean = statistics.fmean(vals)
            ok = "" if target is None else (" ✓" if target(mean) else " ✗")
            cells.append(f"{mean:.3f} ({min(vals):.3f}–{max(vals):.3f}){ok}")
        lines.append(f"| {label} | {source} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("## (d) The learned model's AUC, real pipeline")
    lines.append("")
    lines += ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    rows = [
        ("AUC any incident next year (published: about 0.75)", "auc_any_incident"),
        ("AUC harm ≥ 10 CHI days next year", "auc_harm_target"),
        ("any-incident rate", "any_incident_rate"),
    ]
    for label, key in rows:
        vals = [results[c]["model"][key] for c in cols]
        lines.append(f"| {label} | " + " | ".join(map(_fmt, vals)) + " |")
    seeds = sorted({s for c in cols for s in results[c]["model"]["per_seed_auc_any_incident"]})
    for s in seeds:
        vals = [results[c]["model"]["per_seed_auc_any_incident"].get(s) for c in cols]
        lines.append(f"| test seed {s}: AUC any incident | " + " | ".join(map(_fmt, vals)) + " |")
    names = sorted({n for c in cols for n in results[c]["model"]["baselines_auc_any_incident"]})
    for n in names:
        vals = [results[c]["model"]["baselines_auc_any_incident"].get(n) for c in cols]
        lines.append(f"| baseline {n}: AUC any incident | " + " | ".join(map(_fmt, vals)) + " |")
    m = results[cols[-1]]["model"]
    lines += [
        "",
        f"Trained on seeds {m['train_seeds']} at the five as-of dates of `adapt.learned.train`, "
        f"C = {MODEL_C}, tested on seeds {m['test_seeds']} as of the end of year 3, "
        f"{m['incidents_per_seed']:,} incidents per seed (the model card used 40,000: the "
        "district's shape does not depend on its size, and this keeps the run short).",
        "",
        "## Per seed",
        "",
    ]
    for c in cols:
        lines.append(f"### {c}")
        lines.append("")
        seeds = list(results[c]["per_seed"])
        lines += ["| figure | " + " | ".join(seeds) + " |", "|---|" + "---|" * len(seeds)]
        for key, label, _, _ in FIGURES:
            vals = [results[c]["per_seed"][s][key] for s in seeds]
            lines.append(f"| {label} | " + " | ".join(map(_fmt, vals)) + " |")
        lines.append("")
    lines += [
        "Command: `nice .venv/bin/python benchmarks/generator_figures.py --column before|after`",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--column", choices=("before", "after"), default="after")
    p.add_argument("--seeds", default="11,12,13,14")
    p.add_argument("--incidents", type=int, default=40_000)
    p.add_argument("--model-incidents", type=int, default=20_000)
    p.add_argument("--no-model", action="store_true", help="skip the pipeline AUC (quick look)")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    per_seed = truth_figures(seeds, args.incidents)
    half = max(1, len(seeds) // 2)
    model = None if args.no_model else model_auc(seeds[:half], seeds[half:], args.model_incidents)
    column = {
        "commit": _commit(),
        "seeds": seeds,
        "incidents": args.incidents,
        "per_seed": per_seed,
        "model": model,
        "seconds": time.perf_counter() - started,
        "machine": f"{platform.machine()} {platform.system()}",
    }
    for key, label, _, _ in FIGURES:
        vals = [v[key] for v in per_seed.values()]
        print(f"{label}: {statistics.fmean(vals):.3f}")
    if model is None:
        return 0
    print(f"(d) model AUC any incident: {model['auc_any_incident']:.3f}")
    path = RESULTS / "generator_figures.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[args.column] = column
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "generator_figures.md").write_text(render(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
