"""Score quality benchmark: backtest the RFG score, the learned model and the baselines.

On generator data (several seeds, ``--incidents`` per seed over 4 years, the
as-of date T at the end of year 3), for each seed: the share of the next 12
months' harm (CHI days) and incidents captured by the top K (K = 25, 50, 100,
200) of the default score, the learned model (when ``adapt.learned`` has a
committed model), the baselines (attendances in 12 months, the 7-in-12 rule,
harm in 12 months) and the oracles; the ratios of the score to the best
baseline and to the visible oracle, and the targets met or missed; the learned
model's ROC AUC and calibration; where the score loses. Then the re-rank speed
on a 100,000-incident force.

Writes benchmarks/results/score_quality.{md,json}.

Run: ``.venv/bin/python benchmarks/score_quality.py``
(``--seeds 11,12,13,14 --incidents 40000 --speed-incidents 100000``; the
histories are cached under ``--workdir``, default ``adapt-evalwork`` in the
system temporary folder).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from adapt.core.resources import evaluation_workdir
from adapt.core.settings import default_settings
from adapt.evaluation import (
    BASELINES,
    DEFAULT_KS,
    Future,
    calibration_table,
    cohort_summary,
    evaluate,
    learned_probability,
    method_rankings,
    roc_auc,
)
from adapt.features import compute_features
from adapt.pipeline import synthetic_history
from adapt.scoring.score import rank

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AS_OF = "2025-10-31"  # end of year 3 of 2022-10-31..2026-10-31
TUNING_SEED = 11  # the seed the default settings were chosen on (default.json's reason)
TARGET_KS = (50, 100, 200)
TARGET_MARGIN_K100 = 1.20
TARGET_VISIBLE_K100 = 0.60
HIGH_HARM_DAYS = 2555  # rape and above in the CHI table


def _load_learned() -> tuple[object | None, str]:
    try:
        from adapt.learned import load_model
    except ImportError as err:
        return None, f"adapt.learned not importable ({err})"
    try:
        model = load_model()
    except (OSError, ValueError, KeyError) as err:
        return None, f"no learned model could be loaded ({type(err).__name__}: {err})"
    return model, "loaded from adapt.learned.load_model()"


def _losses(ranked: pd.DataFrame, future: Future, rankings: dict) -> dict:
    """Why the score cannot capture more: where next year's harm comes from."""
    inc = future.incidents
    total = future.total_harm
    high = inc[inc["harm"] >= HIGH_HARM_DAYS]
    seen = set(ranked["person_id"])
    sus = future.suspects
    seen_inc = set(sus.loc[sus["person_id"].isin(seen), "incident_id"])
    feats = ranked.set_index("person_id")
    low_att = set(feats.index[feats["attendances_window"] < 3])
    vo = list(rankings["visible_oracle"][:100])
    vo_harm = future.outcomes.loc[vo, "future_harm"]
    score100 = set(rankings["score"][:100])
    att100 = set(rankings["attendances_window"][:100])
    return {
        "harm_from_unseen_suspects": 1.0
        - float(inc.loc[inc["incident_id"].isin(seen_inc), "harm"].sum()) / total,
        "harm_in_incidents_ge_2555_days": float(high["harm"].sum()) / total,
        "incidents_ge_2555_days": len(high),
        "harm_ge_2555_days_from_unseen": float(
            high.loc[~high["incident_id"].isin(seen_inc), "harm"].sum()
        )
        / total,
        "visible_oracle_top100_people_under_3_attendances": int(sum(p in low_att for p in vo)),
        "visible_oracle_top100_harm_from_them": float(
            vo_harm[[p in low_att for p in vo]].sum() / vo_harm.sum()
        ),
        "score_top100_overlap_with_attendances_top100": len(score100 & att100),
        "score_top100_overlap_with_visible_oracle_top100": len(score100 & set(vo)),
    }


def run_seed(seed: int, incidents: int, workdir: Path, settings, learned) -> dict:
    t0 = time.perf_counter()
    history = synthetic_history(workdir, seed, incidents, years=4.0)
    t_hist = time.perf_counter() - t0
    t0 = time.perf_counter()
    features = compute_features(history, AS_OF, settings)
    t_feat = time.perf_counter() - t0
    ranked = rank(features, settings)
    future = Future.after(history, AS_OF, 365, settings.harm_table)
    probability = learned_probability(learned, features) if learned is not None else None
    rankings = method_rankings(ranked, future, settings, probability)
    table = evaluate(rankings, future, DEFAULT_KS)
    out = {
        "seed": seed,
        "incidents": len(history.incidents),
        "history_seconds": round(t_hist, 1),
        "features_seconds": round(t_feat, 2),
        "backtest": table.to_dict("records"),
        "cohort": cohort_summary(ranked, future),
        "losses": _losses(ranked, future, rankings),
    }
    if probability is not None:
        o = future.outcomes.reindex(features.index)
        any_inc = (o["future_incidents"].fillna(0) > 0).astype(int)
        threshold = float(getattr(learned, "threshold_days", 10.0))
        own = (o["future_harm"].fillna(0) >= threshold).astype(int)
        cal = calibration_table(own, probability)
        out["learned"] = {
            "people": len(features),
            "auc_any_incident": roc_auc(any_inc, probability),
            "auc_own_target": roc_auc(own, probability),
            "own_target": f"future harm >= {threshold:g} CHI days in 365 days",
            "base_rate_any_incident": float(any_inc.mean()),
            "base_rate_own_target": float(own.mean()),
            "brier_own_target": cal.attrs["brier"],
            "ece_own_target": cal.attrs["ece"],
            "calibration_own_target": cal.to_dict("records"),
            "auc_any_incident_score": roc_auc(
                any_inc, ranked.set_index("person_id")["score"].reindex(features.index)
            ),
        }
    return out


def ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Per method (score, learned) and K: ratio to the best baseline and to the visible oracle."""
    wide = table.pivot(index="k", columns="method", values="harm_share")
    best = wide[list(BASELINES)].max(axis=1)
    rows = []
    for method in ("score", "learned"):
        if method not in wide:
            continue
        for k in wide.index:
            rows.append(
                {
                    "method": method,
                    "k": int(k),
                    "harm_share": wide.loc[k, method],
                    "best_baseline": wide.loc[k, list(BASELINES)].idxmax(),
                    "best_baseline_share": best[k],
                    "ratio_to_best_baseline": wide.loc[k, method] / best[k],
                    "ratio_to_visible_oracle": wide.loc[k, method] / wide.loc[k, "visible_oracle"],
                }
            )
    return pd.DataFrame(rows)


def targets(rat: pd.DataFrame, method: str = "score") -> dict[str, bool]:
    r = rat[rat["method"] == method].set_index("k")
    return {
        "beats_every_baseline_k50_100_200": bool(
            (r.loc[list(TARGET_KS), "ratio_to_best_baseline"] > 1.0).all()
        ),
        "k100_at_least_1.2x_best_baseline": bool(
            r.loc[100, "ratio_to_best_baseline"] >= TARGET_MARGIN_K100
        ),
        "k100_at_least_60pct_of_visible_oracle": bool(
            r.loc[100, "ratio_to_visible_oracle"] >= TARGET_VISIBLE_K100
        ),
    }


def speed(seed: int, incidents: int, workdir: Path, repeats: int = 7) -> dict:
    """Features once, then re-rank after changing a weight (median of ``repeats``)."""
    settings = default_settings()
    history = synthetic_history(workdir, seed, incidents, years=4.0)
    t0 = time.perf_counter()
    features = compute_features(history, AS_OF, settings)
    t_feat = time.perf_counter() - t0
    rank(features, settings)  # warm up
    times, change_times = [], []
    for i in range(repeats):
        t0 = time.perf_counter()
        changed = settings.with_changes(
            {"gravity": {"weight": 1.0 + 0.1 * (i + 1)}},
            name="speed",
            version=str(i),
            author="benchmark",
            reason="re-rank timing",
        )
        t1 = time.perf_counter()
        ranked = rank(features, changed)
        t2 = time.perf_counter()
        change_times.append(t1 - t0)
        times.append(t2 - t1)
    return {
        "seed": seed,
        "incidents": len(history.incidents),
        "people_ranked": len(ranked),
        "features_seconds": round(t_feat, 3),
        "rerank_median_seconds": round(statistics.median(times), 4),
        "rerank_max_seconds": round(max(times), 4),
        "settings_change_median_seconds": round(statistics.median(change_times), 5),
        "repeats": repeats,
        "target_seconds": 1.0,
        "met": statistics.median(times) + statistics.median(change_times) <= 1.0,
    }


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def write_markdown(result: dict, path: Path) -> None:
    seeds = [r["seed"] for r in result["seeds"]]
    lines = [
        "# Score quality: backtest of the RFG score, the learned model and the baselines",
        "",
        f"Run: `.venv/bin/python benchmarks/score_quality.py` ({result['run_at']}, "
        f"{result['machine']}).",
        "",
        f"Generator data: seeds {', '.join(map(str, seeds))}, {result['incidents_per_seed']:,} "
        f"incidents each over 4 years (2022-10-31 to 2026-10-31), generated, loaded and resolved "
        f"by the real pipeline; as-of date T = {AS_OF} (end of year 3); horizon 365 days; "
        "default settings. The default settings were chosen on seed "
        f"{TUNING_SEED} (default.json's reason); seeds "
        f"{', '.join(str(s) for s in seeds if s != TUNING_SEED)} are held out.",
        "",
        "A share is the harm (CHI days) of next year's incidents with at least one top-K "
        "person as suspect, over the harm of every incident next year (incidents whose suspect "
        "was never seen before T included), so no incident counts twice. Baseline ties are "
        "broken by the most recent last incident, then by id. The 7-in-12 rule ranks only "
        "people with 7+ attendances (its top K is min(K, eligible)).",
        "",
        "## Future harm captured at K (mean over seeds, [min, max])",
        "",
    ]
    agg = pd.DataFrame(result["summary"])
    methods = [m for m in agg["method"].unique()]
    lines.append("| method | " + " | ".join(f"K={k}" for k in DEFAULT_KS) + " |")
    lines.append("|---|" + "---|" * len(DEFAULT_KS))
    for m in methods:
        cells = []
        for k in DEFAULT_KS:
            r = agg[(agg["method"] == m) & (agg["k"] == k)].iloc[0]
            cells.append(f"{_fmt(r['mean'])} [{_fmt(r['min'])}, {_fmt(r['max'])}]")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "Incidents captured at K (mean over seeds):", ""]
    lines.append("| method | " + " | ".join(f"K={k}" for k in DEFAULT_KS) + " |")
    lines.append("|---|" + "---|" * len(DEFAULT_KS))
    for m in methods:
        cells = []
        for k in DEFAULT_KS:
            r = agg[(agg["method"] == m) & (agg["k"] == k)].iloc[0]
            cells.append(_fmt(r["incident_mean"]))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")

    lines += ["", "## Ratios and targets, per seed", ""]
    lines.append(
        "| seed | method | K | share | best baseline (share) | ratio to best baseline "
        "| ratio to visible oracle |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for r in result["seeds"]:
        for row in r["ratios"]:
            lines.append(
                f"| {r['seed']}{' (tuning)' if r['seed'] == TUNING_SEED else ''} "
                f"| {row['method']} | {row['k']} "
                f"| {_fmt(row['harm_share'])} | {row['best_baseline']} "
                f"({_fmt(row['best_baseline_share'])}) | {row['ratio_to_best_baseline']:.2f} "
                f"| {row['ratio_to_visible_oracle']:.2f} |"
            )
    lines += ["", "Ratio spread over seeds (score):", ""]
    lines.append("| K | ratio to best baseline: mean [min, max] | to visible oracle |")
    lines.append("|---|---|---|")
    for row in result["ratio_spread"]:
        lines.append(
            f"| {row['k']} | {row['best_mean']:.2f} [{row['best_min']:.2f}, "
            f"{row['best_max']:.2f}] | {row['vo_mean']:.2f} [{row['vo_min']:.2f}, "
            f"{row['vo_max']:.2f}] |"
        )
    lines += ["", "Targets (score):", ""]
    lines.append("| target | " + " | ".join(str(s) for s in seeds) + " | on the mean |")
    lines.append("|---|" + "---|" * (len(seeds) + 1))
    for name in result["seeds"][0]["targets"]:
        cells = ["met" if r["targets"][name] else "**missed**" for r in result["seeds"]]
        cells.append("met" if result["targets_on_mean"][name] else "**missed**")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    lines += ["", "## Cohort under the default rule", ""]
    lines.append("| seed | cohort size | harm captured | incidents captured | people ranked "
                 "| future harm from people seen before T |")  # fmt: skip
    lines.append("|---|---|---|---|---|---|")
    for r in result["seeds"]:
        c = r["cohort"]
        lines.append(
            f"| {r['seed']} | {c['cohort_size']} | {_fmt(c['cohort_harm_share'])} "
            f"| {_fmt(c['cohort_incident_share'])} | {c['people_ranked']:,} "
            f"| {_fmt(c['visible_harm_share'])} |"
        )

    lines += ["", "## The learned model", ""]
    lines.append(f"Model: {result['learned_note']}.")
    if "learned" in result["seeds"][0]:
        lines += [""]
        lines.append(
            "| seed | AUC any incident (model) | AUC any incident (score) | AUC own target "
            "| base rate own target | Brier | ECE |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for r in result["seeds"]:
            lm = r["learned"]
            lines.append(
                f"| {r['seed']} | {lm['auc_any_incident']:.3f} "
                f"| {lm['auc_any_incident_score']:.3f} | {lm['auc_own_target']:.3f} "
                f"| {lm['base_rate_own_target']:.3f} | {lm['brier_own_target']:.4f} "
                f"| {lm['ece_own_target']:.4f} |"
            )
        lm = result["seeds"][0]["learned"]
        lines += [
            "",
            f"Own target: {lm['own_target']}. The published anchor on real data "
            "(Turner, Brown and Medina-Ariza 2022) is an AUC of about 0.75 for further abuse.",
            "",
            f"Calibration on seed {result['seeds'][0]['seed']} (deciles of the probability):",
            "",
            "| decile | people | mean predicted | observed |",
            "|---|---|---|---|",
        ]
        for row in lm["calibration_own_target"]:
            lines.append(
                f"| {row['bin']} | {row['people']} | {row['mean_predicted']:.3f} "
                f"| {row['observed_rate']:.3f} |"
            )

    lines += ["", "## Where the score loses, and why", ""]
    lines.append(
        "| seed | harm from suspects unseen before T | harm in incidents >= 2555 days "
        "| of which by unseen suspects | visible-oracle top 100 with < 3 attendances (their "
        "share of its harm) | score top 100 ∩ attendances top 100 | score top 100 ∩ visible "
        "oracle top 100 |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for r in result["seeds"]:
        lo = r["losses"]
        lines.append(
            f"| {r['seed']} | {_fmt(lo['harm_from_unseen_suspects'])} "
            f"| {_fmt(lo['harm_in_incidents_ge_2555_days'])} ({lo['incidents_ge_2555_days']}) "
            f"| {_fmt(lo['harm_ge_2555_days_from_unseen'])} "
            f"| {lo['visible_oracle_top100_people_under_3_attendances']} "
            f"({_fmt(lo['visible_oracle_top100_harm_from_them'])}) "
            f"| {lo['score_top100_overlap_with_attendances_top100']} "
            f"| {lo['score_top100_overlap_with_visible_oracle_top100']} |"
        )
    lines += ["", *result["notes"], ""]

    sp = result["speed"]
    lines += [
        "## Re-rank speed",
        "",
        f"A force of {sp['incidents']:,} incidents (seed {sp['seed']}, 4 years), "
        f"{sp['people_ranked']:,} people ranked. Features computed once: "
        f"{sp['features_seconds']:.2f} s. Then `rank()` after changing the gravity weight, "
        f"{sp['repeats']} times: median {sp['rerank_median_seconds']:.3f} s (max "
        f"{sp['rerank_max_seconds']:.3f} s); building the changed settings "
        f"{sp['settings_change_median_seconds'] * 1000:.1f} ms. Target ≤ 1 s: "
        f"{'met' if sp['met'] else '**missed**'}.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


NOTES = [
    "The learned model (models/harm-model.json) was trained on seeds 11 and 12 at as-of "
    "dates up to 2025-10-30 (models/harm-model-card.md): its rows for seeds 11 and 12 are "
    "in-sample; seeds 13 and 14 are its held-out figures. Its AUCs (about 0.93) are far "
    "above the 0.75 anchor on real data: the generator's careers are more regular than "
    "real ones, so read them as a check of the pipeline, not as expected field performance.",
    "",
    "Reading the table: the oracle is what a list of K people could capture at best, the "
    "visible oracle what a list built on police history could capture at best (it knows "
    "who among the people seen before T will cause harm next year). Every history-based "
    "method is far below it: which of a few hundred frequent suspects commits next year's "
    "rape or grievous bodily harm is mostly chance from the history's point of view, and "
    "one such incident (2,555 CHI days for a rape, 5,475 for a homicide) is a few percent "
    "of a year's harm, so the shares move by several points between seeds.",
    "",
    "Where the score loses: (1) against attendances alone at K = 50 to 100 on some seeds "
    "(seed 11 at K = 100: 0.276 against 0.303; seeds 11, 13 and 14 at K = 50). Its top 100 "
    "shares only 59 to 70 people with the attendance list's top 100; the people it swaps in "
    "carry recent high harm, serious harm on record, markers or MARAC points, and in this "
    "generator past harm is a weaker guide to next year's harm than frequency (harm_window "
    "is the weakest baseline at K = 100). "
    "(2) Against the visible oracle everywhere: only about 30 of the visible oracle's top "
    "100 are in the score's top 100, and 10 to 22 of them had fewer than 3 attendances in "
    "the last 12 months (9 to 19% of that top 100's harm), i.e. people whose record before "
    "T looked unremarkable. (3) Harm from suspects never seen before T is 12 to 13% here; "
    "on real forces it is larger (more than half of the highest-harm pairs had no earlier "
    "DA contact), so real captures will be lower still. About 40% of next year's harm is "
    "in about 110 incidents of 2,555 days or more (rape, attempted murder, homicide): single "
    "events that decide most of the seed-to-seed spread.",
    "",
    "History of serious harm (issue 13): the part that scores serious incidents over the "
    "whole record (harm >= 365 CHI days; the largest harm's band 365 / 1,095 / 2,555 → 4 / 6 "
    "/ 10, +3 per serious incident beyond the first, at most 16, weight 1) raised the score's "
    "mean top-100 capture from 0.245 [0.215, 0.270] to 0.259 [0.252, 0.276], its mean ratio to "
    "the best baseline at K = 100 from 1.02 to 1.08 and to the visible oracle from 0.41 to "
    "0.44; at K = 200 from 1.04 to 1.06; at K = 25 and 50 it moved little or lost (K = 25 mean "
    "ratio 1.42 to 1.34). The defaults were set by reasoning and checked on the tuning seed 11 "
    "only (K = 100 ratio 0.911; weight 0.5, 1.5 and 2 gave 0.888, 0.909 and 0.909, a threshold "
    "of 1,095 days 0.863), so they were kept; the held-out seeds 12, 13 and 14 moved from "
    "1.04 / 1.10 / 1.03 to 1.24 / 1.10 / 1.07.",
    "",
    "Settings tuning (recorded honestly): on the tuning seed 11 two general changes raised "
    "the score's ratio to the best baseline at K = 100 from 0.88 to 0.96: extending the "
    "frequency bands past 10 attendances (15 → 26 points, 20 → 32, so the most frequent "
    "suspects are no longer tied) and capping the high-risk markers at 5 instead of 10 "
    "(they repeat what gravity already counts). On the held-out seeds 12, 13 and 14 the "
    "same change moved the mean ratio at K = 50/100/200 from 1.03/1.07/1.05 to "
    "1.03/1.03/1.04, i.e. it did not generalise; the default settings were therefore left "
    "unchanged. Other single changes tried on seed 11 (frequency weight 1.5 or 2, gravity "
    "weight 0.5, recency weight 0.5 or 1.5, no serial points, no MARAC points or double, "
    "no escalation points) moved the K = 100 ratio by at most ±0.07, within the seed noise.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="11,12,13,14")
    ap.add_argument("--incidents", type=int, default=40000)
    ap.add_argument("--workdir", type=Path, default=evaluation_workdir())
    ap.add_argument("--speed-seed", type=int, default=21)
    ap.add_argument("--speed-incidents", type=int, default=100000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    settings = default_settings()
    learned, learned_note = _load_learned()
    per_seed = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        r = run_seed(seed, args.incidents, args.workdir, settings, learned)
        rat = ratios(pd.DataFrame(r["backtest"]))
        r["ratios"] = rat.to_dict("records")
        r["targets"] = targets(rat)
        if learned is not None:
            r["targets_learned"] = targets(rat, "learned")
        per_seed.append(r)
        print(f"seed {seed}: {r['targets']}", flush=True)

    all_rows = pd.concat(
        [pd.DataFrame(r["backtest"]).assign(seed=r["seed"]) for r in per_seed], ignore_index=True
    )
    summary = (
        all_rows.groupby(["method", "k"], sort=False)
        .agg(
            mean=("harm_share", "mean"),
            min=("harm_share", "min"),
            max=("harm_share", "max"),
            incident_mean=("incident_share", "mean"),
        )
        .reset_index()
    )
    mean_table = summary.rename(columns={"mean": "harm_share"})[["method", "k", "harm_share"]]
    mean_rat = ratios(mean_table)
    all_rat = pd.concat(
        [pd.DataFrame(r["ratios"]).assign(seed=r["seed"]) for r in per_seed], ignore_index=True
    )
    sc = all_rat[all_rat["method"] == "score"].groupby("k")
    spread = pd.DataFrame(
        {
            "best_mean": sc["ratio_to_best_baseline"].mean(),
            "best_min": sc["ratio_to_best_baseline"].min(),
            "best_max": sc["ratio_to_best_baseline"].max(),
            "vo_mean": sc["ratio_to_visible_oracle"].mean(),
            "vo_min": sc["ratio_to_visible_oracle"].min(),
            "vo_max": sc["ratio_to_visible_oracle"].max(),
        }
    ).reset_index()
    result = {
        "run_at": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "as_of": AS_OF,
        "incidents_per_seed": args.incidents,
        "tuning_seed": TUNING_SEED,
        "settings": {"name": settings.name, "version": settings.version},
        "learned_note": learned_note,
        "seeds": per_seed,
        "summary": summary.to_dict("records"),
        "ratios_on_mean": mean_rat.to_dict("records"),
        "ratio_spread": spread.to_dict("records"),
        "targets_on_mean": targets(mean_rat),
        "notes": NOTES,
        "speed": speed(args.speed_seed, args.speed_incidents, args.workdir),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "score_quality.json").write_text(
        json.dumps(result, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    write_markdown(result, args.out / "score_quality.md")
    print(json.dumps({"targets_on_mean": result["targets_on_mean"], "speed": result["speed"]}))


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return str(value)


if __name__ == "__main__":
    main()
