"""Score quality benchmark: backtest the RFG score (default and calibrated
settings), the learned model trained on the force's own past, and the baselines.

On generator data (several seeds, ``--incidents`` per seed over 4 years, the
as-of date T at the end of year 3), for each seed: the share of the next 12
months' harm (CHI days) and incidents captured by the top K (K = 25, 50, 100,
200) of

* ``score``: the default settings (chosen once, on seed 11);
* ``calibrated``: the settings ``adapt calibrate`` would draft from this
  force's own history before T (:func:`adapt.evaluation.calibrate.calibrate`,
  rolling origin, nothing after T read);
* ``learned``: the learned model ``adapt calibrate`` trains on the same
  history the same way (:func:`adapt.learned.force.train_force_model`), its
  probability of any further incident;
* the baselines (attendances in 12 months, the 7-in-12 rule, harm in 12
  months, V100-style) and the oracles;

the ratios to the best baseline and to the visible oracle, the targets met or
missed, the learned model's AUC and calibration on the year after T, and
where the score loses. Then the re-rank speed on a 100,000-incident force.

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
import subprocess
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
from adapt.evaluation.calibrate import calibrate
from adapt.features import compute_features
from adapt.learned.audit import person_sex
from adapt.learned.force import train_force_model
from adapt.pipeline import synthetic_history
from adapt.scoring.score import rank

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AS_OF = "2025-10-31"  # end of year 3 of 2022-10-31..2026-10-31
TUNING_SEED = 11  # the seed the default settings were chosen on (default.json's reason)
TARGET_KS = (50, 100, 200)
TARGET_MARGIN_K100 = 1.20  # calibrated, on the mean
TARGET_MARGIN_K100_DEFAULT = 1.10  # default settings, on the mean
TARGET_VISIBLE_K100 = 0.60
RANKED_METHODS = ("score", "calibrated", "calibrated_reviewed", "learned")
HIGH_HARM_DAYS = 2555  # rape and above in the CHI table


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


def run_seed(seed: int, incidents: int, workdir: Path, settings) -> dict:
    t0 = time.perf_counter()
    history = synthetic_history(workdir, seed, incidents, years=4.0)
    t_hist = time.perf_counter() - t0
    t0 = time.perf_counter()
    features = compute_features(history, AS_OF, settings)
    t_feat = time.perf_counter() - t0
    ranked = rank(features, settings)
    future = Future.after(history, AS_OF, 365, settings.harm_table)
    # What `adapt calibrate --as-of T` would do on this force: both read
    # nothing after T (the history is cut at the end of T inside).
    t0 = time.perf_counter()
    cal = calibrate(history, AS_OF, settings, name="calibrated", version="bench", author="bench")
    t_cal = time.perf_counter() - t0
    t0 = time.perf_counter()
    force = train_force_model(history, AS_OF, settings, sex=person_sex(history))
    t_model = time.perf_counter() - t0
    probability = learned_probability(force.model, features)
    rankings = method_rankings(ranked, future, settings, probability)
    rankings["calibrated"] = method_rankings(rank(features, cal.draft), future, cal.draft)["score"]
    # The draft as an analyst following its evidence would treat it: approved
    # when it caught at least as much as the live settings in the held-out
    # year (the CLI and Tuning say when it did not), else the live settings kept.
    oot = cal.out_of_time(100)
    approved = oot.get("draft", 0.0) >= oot.get("live", 0.0)
    rankings["calibrated_reviewed"] = rankings["calibrated" if approved else "score"]
    order = ["score", "calibrated", "calibrated_reviewed", "learned", *BASELINES, "oracle",
             "visible_oracle"]  # fmt: skip
    table = evaluate({m: rankings[m] for m in order}, future, DEFAULT_KS)
    out = {
        "seed": seed,
        "incidents": len(history.incidents),
        "history_seconds": round(t_hist, 1),
        "features_seconds": round(t_feat, 2),
        "calibrate_seconds": round(t_cal, 1),
        "model_seconds": round(t_model, 1),
        "backtest": table.to_dict("records"),
        "cohort": cohort_summary(ranked, future),
        "losses": _losses(ranked, future, rankings),
        "calibration": {
            "multipliers": cal.multipliers,
            "origins": [f"{o.as_of:%Y-%m-%d} ({o.role})" for o in cal.origins],
            "out_of_time_k100": cal.out_of_time(100),
            "fitted_capture": cal.fitted_capture,
            "approved_on_review": approved,
        },
    }
    o = future.outcomes.reindex(features.index)
    any_inc = (o["future_incidents"].fillna(0) > 0).astype(int)
    cal_table = calibration_table(any_inc, probability)
    out["learned"] = {
        "people": len(features),
        "fit_origins": [f"{d:%Y-%m-%d}" for d in force.fit_origins],
        "held_out_origin": f"{force.held_out.as_of:%Y-%m-%d}",
        "held_out_auc_any_incident": force.auc_any_incident,
        "auc_any_incident": roc_auc(any_inc, probability),
        "base_rate_any_incident": float(any_inc.mean()),
        "brier": cal_table.attrs["brier"],
        "ece": cal_table.attrs["ece"],
        "calibration": cal_table.to_dict("records"),
        "auc_any_incident_score": roc_auc(
            any_inc, ranked.set_index("person_id")["score"].reindex(features.index)
        ),
        "fairness_by_sex_held_out": force.evidence.get("fairness_by_sex"),
    }
    return out


def ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Per method (score, learned) and K: ratio to the best baseline and to the visible oracle."""
    wide = table.pivot(index="k", columns="method", values="harm_share")
    best = wide[list(BASELINES)].max(axis=1)
    rows = []
    for method in RANKED_METHODS:
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


def targets(rat: pd.DataFrame) -> dict[str, bool]:
    """The issue's targets at K = 100 (judged per seed and on the mean)."""
    cal = rat[rat["method"] == "calibrated"].set_index("k")
    reviewed = rat[rat["method"] == "calibrated_reviewed"].set_index("k")
    default = rat[rat["method"] == "score"].set_index("k")
    return {
        "calibrated_k100_at_least_1.2x_best_baseline": bool(
            cal.loc[100, "ratio_to_best_baseline"] >= TARGET_MARGIN_K100
        ),
        "calibrated_k100_at_least_1.0x_best_baseline": bool(
            cal.loc[100, "ratio_to_best_baseline"] >= 1.0
        ),
        "calibrated_k100_at_least_60pct_of_visible_oracle": bool(
            cal.loc[100, "ratio_to_visible_oracle"] >= TARGET_VISIBLE_K100
        ),
        "calibrated_reviewed_k100_at_least_1.0x_best_baseline": bool(
            reviewed.loc[100, "ratio_to_best_baseline"] >= 1.0
        ),
        "default_k100_at_least_1.1x_best_baseline": bool(
            default.loc[100, "ratio_to_best_baseline"] >= TARGET_MARGIN_K100_DEFAULT
        ),
        "default_beats_every_baseline_k50_100_200": bool(
            (default.loc[list(TARGET_KS), "ratio_to_best_baseline"] > 1.0).all()
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
        "# Score quality: backtest of the RFG score (default and calibrated settings), the "
        "learned model trained on the force's own past, and the baselines",
        "",
        f"Run: `nice .venv/bin/python benchmarks/score_quality.py` ({result['run_at']}, "
        f"{result['machine']}; {result.get('run_seconds', 0) / 60:.1f} min, of which "
        f"{result.get('history_seconds', 0) / 60:.1f} min reading or generating the seeds' "
        "histories, cached under --workdir after the first run).",
        "",
        f"Generator data: seeds {', '.join(map(str, seeds))}, {result['incidents_per_seed']:,} "
        f"incidents each over 4 years (2022-10-31 to 2026-10-31), generated, loaded and resolved "
        f"by the real pipeline ({result['generator']}); as-of date T = {AS_OF} (end of year 3); "
        "horizon 365 days. `score`: the default settings, chosen once on seed "
        f"{TUNING_SEED} (default.json's reason; seeds "
        f"{', '.join(str(s) for s in seeds if s != TUNING_SEED)} are held out for them). "
        "`calibrated`: the draft `adapt calibrate --as-of T` makes from each seed's own "
        "history before T (rolling origin: fitted as of T-2y, checked as of T-1y; nothing "
        "after T read). `learned`: the learned model `adapt calibrate` trains on the same "
        "history the same way (P(any further incident in 12 months); fitted as of T-2y, "
        "judged as of T-1y). `calibrated_reviewed`: the draft as an analyst following its "
        "evidence would treat it (approved when it caught at least as much as the live "
        "settings in the held-out year, else the live settings kept; the CLI and Tuning say "
        "when it did not). Every figure below is on the year after T, which none of them saw.",
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
    lines += ["", "Ratio spread over seeds (mean [min, max]):", ""]
    lines.append("| method | K | ratio to best baseline | to visible oracle |")
    lines.append("|---|---|---|---|")
    for row in result["ratio_spread"]:
        lines.append(
            f"| {row['method']} | {row['k']} | {row['best_mean']:.2f} [{row['best_min']:.2f}, "
            f"{row['best_max']:.2f}] | {row['vo_mean']:.2f} [{row['vo_min']:.2f}, "
            f"{row['vo_max']:.2f}] |"
        )
    lines += ["", "Ratios of the mean shares at K = 100:", ""]
    lines.append("| method | share | best baseline (share) | ratio | to visible oracle |")
    lines.append("|---|---|---|---|---|")
    for row in result["ratios_on_mean"]:
        if row["k"] == 100:
            lines.append(
                f"| {row['method']} | {_fmt(row['harm_share'])} | {row['best_baseline']} "
                f"({_fmt(row['best_baseline_share'])}) | {row['ratio_to_best_baseline']:.2f} "
                f"| {row['ratio_to_visible_oracle']:.2f} |"
            )
    lines += ["", "Targets (K = 100):", ""]
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

    lines += ["", "## The calibrated settings", ""]
    lines.append(
        "| seed | origins | part multipliers (1 = unchanged) | out of time K=100: draft / "
        "live / attendances | fitted (in-sample) | approved on review |"
    )
    lines.append("|---|---|---|---|---|---|")
    for r in result["seeds"]:
        c = r["calibration"]
        moved = ", ".join(
            f"{p.removeprefix('score_')} x{m:g}" for p, m in c["multipliers"].items() if m != 1
        )
        oot = c["out_of_time_k100"]
        lines.append(
            f"| {r['seed']} | {'; '.join(c['origins'])} | {moved or 'none'} "
            f"| {_fmt(oot.get('draft', 0))} / {_fmt(oot.get('live', 0))} / "
            f"{_fmt(oot.get('attendances_window', 0))} | {_fmt(c['fitted_capture'])} "
            f"| {'yes' if c.get('approved_on_review') else 'no (live kept)'} |"
        )

    lines += ["", "## The learned model trained on each force's own past", ""]
    lines.append(
        "| seed | fit as of | judged as of | AUC any incident, judged year | AUC any incident, "
        "year after T (model) | (default score) | base rate | Brier | ECE |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in result["seeds"]:
        lm = r["learned"]
        lines.append(
            f"| {r['seed']} | {', '.join(lm['fit_origins'])} | {lm['held_out_origin']} "
            f"| {lm['held_out_auc_any_incident']:.3f} | {lm['auc_any_incident']:.3f} "
            f"| {lm['auc_any_incident_score']:.3f} | {lm['base_rate_any_incident']:.3f} "
            f"| {lm['brier']:.4f} | {lm['ece']:.4f} |"
        )
    lm = result["seeds"][0]["learned"]
    lines += [
        "",
        "The published anchor on real data (Turner, Brown and Medina-Ariza 2022) is an AUC of "
        "about 0.75 for further abuse.",
        "",
        f"Calibration on seed {result['seeds'][0]['seed']}, year after T (deciles of the "
        "probability of any further incident):",
        "",
        "| decile | people | mean predicted | observed |",
        "|---|---|---|---|",
    ]
    for row in lm["calibration"]:
        lines.append(
            f"| {row['bin']} | {row['people']} | {row['mean_predicted']:.3f} "
            f"| {row['observed_rate']:.3f} |"
        )
    fair = lm.get("fairness_by_sex_held_out")
    if fair:
        lines += [
            "",
            f"Fairness audit by sex on seed {result['seeds'][0]['seed']} (the judged year; sex "
            "is never an input):",
            "",
            "| sex | people | observed | mean predicted | AUC | share of top 100 "
            "| share of those with a further incident |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in fair:
            lines.append(
                f"| {row['sex']} | {row['people']} | {_fmt(row['observed_rate'])} "
                f"| {_fmt(row['mean_predicted'])} | {_fmt(row['auc'] or float('nan'))} "
                f"| {_fmt(row['share_of_top'])} | {_fmt(row['share_of_positives'])} |"
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
    "## Reading the figures, and where the rankings lose",
    "",
    'Generator: this run is on the generator as made "as hard as real life" for issue 13 '
    "(commit fe72cc8: a grave few of pairs carry the severe harm, about 85% of the "
    "highest-harm pairs are new to police, the first call is often the worst, severity "
    "escalation is rare). On the generator before it (results of commit a01bc8f) the "
    "default score caught 0.259 of next year's harm with its top 100, 1.08x the best "
    "baseline; on this one every history-based ranking catches about 0.10 to 0.15, and the "
    "targets are missed.",
    "",
    "Targets at K = 100, all **missed** on the mean: the calibrated settings reach 0.95x the "
    "best baseline (target 1.2x; 1.0x on every seed: met on seeds 11 and 13 only) and 0.25 of "
    "the visible oracle (target 0.6); the default settings 0.99x (target 1.1x; met on seed "
    "13 only, 1.14x). The default score does beat the attendance count (the pilot's working "
    "rule) at K = 50 and 100 on every seed (0.150 against 0.106 at K = 100; at K = 25 on the "
    "mean, 0.065 against 0.025, but not on seed 11) and the 7-in-12 rule on the mean at "
    "every K; it ties with harm in the last 12 months (V100-style, 0.152), which is "
    "the best baseline here on three seeds of four.",
    "",
    "Why nothing history-based gets near the visible oracle (0.57 at K = 100): about half "
    "of next year's harm is in about 100 incidents of 2,555 CHI days or more (rape, attempted "
    "murder, homicide), and 37 to 50% of all next year's harm comes from suspects never "
    "recorded before T. Among the people who were recorded, those who go on to cause the "
    "most harm mostly looked unremarkable: 42 to 59 of the visible oracle's top 100 had fewer "
    "than 3 attendances in the 12 months before T, and they carry 41 to 60% of its harm. The "
    "score's top 100 shares only 18 to 33 people with the visible oracle's top 100. Which "
    "of some 17,000 people seen before T commits one of next year's hundred gravest "
    "incidents is, from the history, mostly chance; one such incident moves a share by a "
    "point or more, so the seeds differ by several points.",
    "",
    "Where calibration loses: with T at the end of year 3 there is one fit as-of date "
    "(T-2y, with only a year of history before it) and one held-out year. The search fitted "
    "on that single year moved weights on every seed (frequency x3 and gravity x4 on seed 11, "
    "recency x0 on seed 12, gravity x2 and MARAC x1.5 on seed 13, recency x1.5 on seed 14), "
    "and on the held-out year the draft caught less than the live settings on three seeds "
    "(by 0.1 to 0.8 points) and more on one (0.7 points). Judged on the year after T it "
    "loses most on seed 12 (0.091 against 0.117: dropping recency does not generalise). The "
    'evidence says so before anything goes live: `adapt calibrate` prints "the draft caught '
    "less of the held-out year's harm than the live settings: review it\", and "
    "`calibrated_reviewed` (the draft approved only when it did not lose on the held-out "
    "year) keeps the live settings on those seeds. A force with five or more years of "
    "history has two or three fit as-of dates and a steadier search; this benchmark's "
    "forces have three years before T.",
    "",
    "The learned model trained on each force's own past: AUC for any further incident in "
    "the year after T 0.754 to 0.786 (the published figure on real data is about 0.75; the "
    "default score's own AUC 0.735 to 0.752), well calibrated (expected calibration error "
    "about 0.01; its probability scale is refitted on the held-out year). It predicts "
    "whether someone comes back, not how much harm they cause, so as a harm ranking it "
    "trails the score at K = 50 to 200 (0.139 against 0.150 at K = 100) and matches the best "
    "baseline at K = 25; it catches the most incidents of any history-based method at every K. "
    "That is its "
    "place: advice beside the score, not a replacement.",
    "",
    "Reading the table: the oracle is what a list of K people could capture at best, the "
    "visible oracle what a list built on police history could capture at best (it knows "
    "who among the people seen before T will cause harm next year).",
]


def _spread(per_seed: list[dict]) -> pd.DataFrame:
    all_rat = pd.concat(
        [pd.DataFrame(r["ratios"]).assign(seed=r["seed"]) for r in per_seed], ignore_index=True
    )
    g = all_rat.groupby(["method", "k"], sort=False)
    return g.agg(
        best_mean=("ratio_to_best_baseline", "mean"),
        best_min=("ratio_to_best_baseline", "min"),
        best_max=("ratio_to_best_baseline", "max"),
        vo_mean=("ratio_to_visible_oracle", "mean"),
        vo_min=("ratio_to_visible_oracle", "min"),
        vo_max=("ratio_to_visible_oracle", "max"),
    ).reset_index()


def _generator() -> str:
    """The generator's last commit, so the figures name the world they were measured on."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %cs", "--", "adapt/synthetic"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "generator version unknown"
    return f"generator at commit {out.stdout.strip()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="11,12,13,14")
    ap.add_argument("--incidents", type=int, default=40000)
    ap.add_argument("--workdir", type=Path, default=evaluation_workdir())
    ap.add_argument("--speed-seed", type=int, default=21)
    ap.add_argument("--speed-incidents", type=int, default=100000)
    ap.add_argument(
        "--speed-workdir",
        type=Path,
        default=None,
        help="where the speed force is cached (default: --workdir); re-rank time depends on "
        "the number of people, not on the generator's careers",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    started = time.perf_counter()
    settings = default_settings()
    per_seed = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        r = run_seed(seed, args.incidents, args.workdir, settings)
        rat = ratios(pd.DataFrame(r["backtest"]))
        r["ratios"] = rat.to_dict("records")
        r["targets"] = targets(rat)
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
    on_mean = targets(mean_rat)
    # "on every seed" is judged per seed, not on the mean
    for name in (
        "calibrated_k100_at_least_1.0x_best_baseline",
        "calibrated_reviewed_k100_at_least_1.0x_best_baseline",
    ):
        on_mean[name] = all(r["targets"][name] for r in per_seed)
    result = {
        "run_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "generator": _generator(),
        "as_of": AS_OF,
        "incidents_per_seed": args.incidents,
        "tuning_seed": TUNING_SEED,
        "settings": {"name": settings.name, "version": settings.version},
        "seeds": per_seed,
        "summary": summary.to_dict("records"),
        "ratios_on_mean": mean_rat.to_dict("records"),
        "ratio_spread": _spread(per_seed).to_dict("records"),
        "targets_on_mean": on_mean,
        "notes": NOTES,
        "speed": speed(args.speed_seed, args.speed_incidents, args.speed_workdir or args.workdir),
    }
    result["run_seconds"] = round(time.perf_counter() - started)
    result["history_seconds"] = round(sum(r["history_seconds"] for r in per_seed))
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
