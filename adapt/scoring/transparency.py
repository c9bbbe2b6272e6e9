"""The algorithmic transparency record (docs/transparency.md), generated.

Shaped like the UK Algorithmic Transparency Recording Standard (ATRS): tier 1
(a short public summary) then tier 2 (owner, description and rationale,
decision process and human oversight, data, technical specification, risks
and mitigations, evaluation). Every feature, weight and threshold is read from
the settings (each shown with its description: what it does, its unit and why
its default), every figure from the committed benchmark results and the
packaged model, so the record cannot drift from the code: ``adapt transparency``
rewrites it and a test checks the committed file equals a fresh render.

Benchmark results live in the source checkout (``benchmarks/results/``), not in
an installed package: the caller passes the folder, and the record says the
results are not available in this installation when it is absent. No path of
the machine it runs on ever appears in the record.
"""

from __future__ import annotations

import json
from importlib.resources.abc import Traversable
from pathlib import Path

from adapt.core.harm import load_harm_table
from adapt.core.history import PROTECTED_COLUMNS
from adapt.core.resources import model_file
from adapt.core.settings import Settings, setting_descriptions, window_words
from adapt.features.compute import FEATURES
from adapt.scoring.score import PARTS

# Where ``adapt transparency`` looks for the committed benchmark results by
# default: relative to the working directory (a checkout's root), like its
# default output ``docs/transparency.md``.
DEFAULT_RESULTS = Path("benchmarks") / "results"


def _read_json(path: Path | Traversable) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(value: object) -> str:
    if value is None:
        return "not used"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(" → ".join(f"{v:g}" for v in band.values()) for band in value)
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _settings_table(s: Settings) -> list[str]:
    """Every setting (dotted path), its value in force and its description."""
    data = s.model_dump(mode="json")
    lines = [
        "Every setting, its value in force, and what it does, its unit and why its default "
        "(a band list reads value → points):",
        "",
        "| setting | value | what it does and why |",
        "|---|---|---|",
    ]
    for path, text in setting_descriptions().items():
        # Walk the dotted path (sections nest: governance.retention.decisions_years).
        head, _, rest = path.partition(".")
        value = data[head]
        while rest:
            if rest.startswith("bands[]."):
                value = [band[rest.removeprefix("bands[].")] for band in value["bands"]]
                break
            key, _, rest = rest.partition(".")
            value = value[key]
        shown = "" if isinstance(value, dict) else _value(value)
        name = f"**`{path}`**" if isinstance(value, dict) else f"`{path}`"
        lines.append(f"| {name} | {_cell(shown)} | {_cell(text)} |")
    return lines


def _bands(part: object, key: str) -> str:
    bands = getattr(part, "bands")  # noqa: B009
    return "; ".join(f"{key} {getattr(b, key):g} → {b.points:g}" for b in bands)


def _settings_section(s: Settings) -> list[str]:
    w, e, c = s.windows, s.escalation, s.cohort
    m, h = s.markers, s.serious_history
    window, half = window_words(w.window_days), window_words(w.escalation_half_days)
    lines = [
        f"Settings in force: **{s.name}** version {s.version}, by {s.author}. Reason: {s.reason}",
        "",
        "| part | how it is computed (from the settings) |",
        "|---|---|",
        f"| `score_recency` | weight {s.recency.weight:g} × points by days since the last "
        f"incident: {_bands(s.recency, 'at_most_days')} (else 0) |",
        f"| `score_frequency` | weight {s.frequency.weight:g} × points by attendances as "
        f"suspect in {window}: {_bands(s.frequency, 'at_least')} |",
        f"| `score_gravity` | weight {s.gravity.weight:g} × points by crime harm (CHI days) in "
        f"{window}: {_bands(s.gravity, 'at_least')} |",
        f"| `score_serial` | {s.serial.points_per_extra_victim:g} per victim beyond the first "
        f"within {window_words(w.serial_days)}, at most {s.serial.max_points:g}, only when "
        "serial (more than one incident against two or more victims) |",
        f"| `score_frequency_escalation` | {s.escalation_points.frequency_points:g} when the "
        f"incidents of the last {half} outnumber the {half} before, with at least "
        f"{e.frequency_min_incidents} incidents and a one-sided conditional binomial test at "
        f"p ≤ {e.frequency_alpha:g} |",
        f"| `score_severity_escalation` | {s.escalation_points.severity_points:g} when (mean harm "
        f"per incident recently + 1) / (before + 1) ≥ {e.severity_ratio:g} |",
        f"| `score_markers` | per marker kind present in {window}: strangulation "
        f"{m.strangulation:g}, weapon {m.weapon:g}, threats to kill {m.threats_to_kill:g}, "
        f"breach of bail or order {m.breach:g}, children present {m.children_present:g}, DASH "
        f"high {m.dash_high:g}; at most {m.max_points:g} |",
        f"| `score_marac` | {s.marac.repeat_points:g} for a SafeLives repeat (an incident "
        f"against a referred victim within {window_words(w.marac_repeat_days)} of the pair's "
        f"last referral) and {s.marac.referral_points:g} for a MARAC referral, in {window} |",
        f"| `score_serious_history` | weight {h.weight:g} × (points by the largest harm on "
        f"record: {_bands(h, 'at_least')}; plus {h.points_per_extra_incident:g} per serious "
        f"incident beyond the first), at most {h.max_points:g} before the weight; a serious "
        f"incident has harm ≥ {h.threshold_days:g} CHI days; over the whole history up to the "
        "date, not only the window |",
        "",
        "The score is the sum of these parts; every export and the app show each part.",
        "",
        "**Cohort rule.** In the cohort when "
        + " or ".join(
            x
            for x in (
                f"attendances in {window} ≥ {c.min_attendances}"
                if c.min_attendances is not None
                else "",
                f"score ≥ {c.min_score:g}" if c.min_score is not None else "",
            )
            if x
        )
        + f", the last incident was within {window_words(c.max_days_since_last)}, and the "
        "person is "
        f"not under {', '.join(c.exclude_statuses) or 'any excluded status'} on the date. "
        "The rule only proposes: a named officer adopts or declines each person, with a "
        "reason that is recorded with the score they saw. Its `reason` column says why in "
        f"words and names the window (`… attendances in {window} …`).",
        "",
        *_settings_table(s),
    ]
    return lines


def _quality_lines(q: dict) -> list[str]:
    ks = sorted({int(r["k"]) for r in q.get("summary", [])})
    methods = list(dict.fromkeys(r["method"] for r in q.get("summary", [])))
    share = {(r["method"], int(r["k"])): r for r in q.get("summary", [])}
    lines = [
        f"Backtest on generator data (seeds {', '.join(str(x['seed']) for x in q['seeds'])}; "
        f"{q['incidents_per_seed']:,} incidents each over 4 years; as of {q['as_of']}; "
        f"default settings chosen on seed {q['tuning_seed']}): share of the next 12 months' "
        "harm caused by the top K, mean over seeds [min, max] "
        "(`benchmarks/results/score_quality.md`). `score` is the default settings, "
        "`calibrated` the draft `adapt calibrate` makes from each force's own history before "
        "the date, `learned` the learned model it trains the same way (advice only).",
        "",
        "| method | " + " | ".join(f"K={k}" for k in ks) + " |",
        "|---|" + "---|" * len(ks),
    ]
    for m in methods:
        cells = [
            f"{share[m, k]['mean']:.3f} [{share[m, k]['min']:.3f}, {share[m, k]['max']:.3f}]"
            for k in ks
            if (m, k) in share
        ]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    t = q.get("targets_on_mean", {})
    spread = {(r.get("method", "score"), int(r["k"])): r for r in q.get("ratio_spread", [])}

    def met(name: str) -> str:
        return "met" if t.get(name) else "missed"

    if ("calibrated", 100) in spread:
        c, d = spread["calibrated", 100], spread["score", 100]
        lines += [
            "",
            f"At K = 100 the calibrated settings capture {c['best_mean']:.2f}× the best "
            f"baseline (seeds {c['best_min']:.2f}–{c['best_max']:.2f}; target 1.2× on the "
            f"mean: {met('calibrated_k100_at_least_1.2x_best_baseline')}, at least 1.0× on "
            f"every seed: {met('calibrated_k100_at_least_1.0x_best_baseline')}) and "
            f"{c['vo_mean']:.2f} of the visible oracle (target 0.6: "
            f"{met('calibrated_k100_at_least_60pct_of_visible_oracle')}); the default "
            f"settings {d['best_mean']:.2f}× (seeds {d['best_min']:.2f}–{d['best_max']:.2f}; "
            f"target 1.1×: {met('default_k100_at_least_1.1x_best_baseline')}).",
        ]
    elif ("score", 100) in spread:
        r = spread["score", 100]
        lines += [
            "",
            f"At K = 100 the score captures {r['best_mean']:.2f}× the best baseline "
            f"(seeds {r['best_min']:.2f}–{r['best_max']:.2f}) and {r['vo_mean']:.2f} of the "
            "visible oracle.",
        ]
    rows = [
        (x["seed"], x["calibration"], x.get("learned", {}))
        for x in q["seeds"]
        if "calibration" in x
    ]
    if rows:
        lines += [
            "",
            "Calibration evidence (what `adapt calibrate` drafted on each force before the "
            "date; the search is fitted on the earlier as-of dates and judged on the latest "
            "year, which it never saw, and a draft goes live only when a second person "
            "approves it on Tuning):",
            "",
            "| seed | part multipliers | out of time, top 100: draft / live settings "
            "| learned model's AUC, any further incident, year after the date |",
            "|---|---|---|---|",
        ]
        for seed, cal, lm in rows:
            moved = ", ".join(
                f"{p.removeprefix('score_')} ×{m:g}" for p, m in cal["multipliers"].items()
                if m != 1
            )  # fmt: skip
            oot = cal["out_of_time_k100"]
            auc = lm.get("auc_any_incident")
            lines.append(
                f"| {seed} | {moved or 'none changed'} | {oot.get('draft', 0):.3f} / "
                f"{oot.get('live', 0):.3f} | {'n/a' if auc is None else f'{auc:.3f}'} |"
            )
    return lines


def _evaluation_section(results: Path | None) -> list[str]:
    lines: list[str] = []
    if results is None or not results.is_dir():
        lines.append(
            "Benchmark results are not available in this installation: they are committed "
            "with the source, in `benchmarks/results/` (`benchmarks/score_quality.py` makes "
            "the backtest)."
        )
    else:
        quality = _read_json(results / "score_quality.json")
        if quality and quality.get("summary"):
            lines += _quality_lines(quality)
        else:
            lines.append("No backtest results are committed yet (`benchmarks/score_quality.py`).")
        if _read_json(results / "identity_accuracy.json"):
            lines += [
                "",
                "Identity resolution accuracy: `benchmarks/results/identity_accuracy.md`.",
            ]
    model = _read_json(model_file("harm-model.json"))
    if model:
        lines += [
            "",
            "The learned model trained on synthetic forces (`models/harm-model-card.md`) is a "
            "reference only: the pages and exports show only a model trained on the force's "
            "own past by `adapt calibrate`, whose card (training dates, out-of-time AUC and "
            "capture, calibration table, fairness audit by sex) is stored with it.",
        ]
    return lines


def render_transparency(settings: Settings, results: Path | None = DEFAULT_RESULTS) -> str:
    """The transparency record as Markdown.

    ``results`` is the folder of committed benchmark results (a checkout's
    ``benchmarks/results``; by default that folder under the working
    directory); when it is absent or None the record says they are not
    available in this installation.
    """
    window = window_words(settings.windows.window_days)
    harm = load_harm_table(settings.harm_table)
    protected = sorted({c for cols in PROTECTED_COLUMNS.values() for c in cols})
    out = [
        "# ADAPT — algorithmic transparency record",
        "",
        "<!-- Generated by `adapt transparency` from the code, the settings and the committed",
        "     benchmark results. Do not edit by hand: a test regenerates it. -->",
        "",
        "Shaped like the UK Algorithmic Transparency Recording Standard (tier 1, then tier 2).",
        "",
        "## Tier 1: summary",
        "",
        "ADAPT helps a police Adult Domestic Abuse Perpetrator Team find the people it should "
        f"look at: perpetrators the police attended several times in the past {window}, "
        "including those who move from partner to partner. It resolves who is who across "
        "incident records, ranks people who were suspects by recency, frequency and harm of "
        "their incidents with serial, escalation, risk-marker, MARAC and serious-history terms "
        "(serious harm over the whole recorded history, not only the last year), and shows every "
        "part of every score. It proposes; officers decide, and each decision, its author and "
        "reason are recorded.",
        "",
        "## Tier 2",
        "",
        "### 1. Owner and responsibility",
        "",
        "The force's ADAPT / IOM lead owns the tool's use; analysts own the settings (each "
        "saved version carries its author and reason); the data protection officer owns the "
        "access log review.",
        "",
        "### 2. Description and rationale",
        "",
        "Forces attend the same perpetrators repeatedly. Hand-set thresholds (a 7-in-12 rule "
        "was called too high by the inspectorate) and unpublished weights leave no way to "
        "check a choice. ADAPT ranks with every part shown and tests its settings against the "
        "harm that followed (backtest below).",
        "",
        "### 3. Decision-making process and human oversight",
        "",
        "- The ranked list is advisory. An officer adopts or declines a person with a "
        "required reason; the decision, author, time and the score they saw are stored.",
        "- Counter-allegations: where two people were each other's suspect, the one with less "
        "harm, fewer injuries and fewer incidents is never ranked on those incidents alone.",
        "- Analysts can reverse identity joins; every later run respects their decisions.",
        "- Settings calibrated on the force's own past (`adapt calibrate`) are a draft: the "
        "search is fitted on earlier as-of dates and judged on the latest year it never saw "
        "(the out-of-time figure is reported, never the fitted one), its evidence is stored "
        "with it, and it goes live only when a second person approves it.",
        "- **The learned model's place: advice beside the RFG score, not a decision.** "
        "`adapt calibrate` also trains a model on the force's own past the same rolling way "
        "(the probability of any further incident as a suspect in the next 12 months). It is "
        "shown beside the score and its parts, with its own parts (`model_probability` and "
        "`model_version` in the cohort export); it changes no score, no rank and no cohort "
        "membership, and is never the sole basis of a decision. A model that ranks its "
        "held-out year no better than chance is not kept; with no model trained on the "
        "force, nothing is shown (a model trained on synthetic data is never used in its "
        "place). Sex is read only by its fairness audit, never as an input.",
        "- Every view or export of a person's record is audited (who, when, which person, "
        "purpose).",
        "",
        "### 4. Data",
        "",
        "Police incident records (incidents and the people named on them), MARAC referrals "
        "and management records (IOM, MAPPA, custody), per the extract data contract. Only "
        "records dated up to the as-of date are used.",
        "",
        "**Excluded from every feature and score**, and why: sex/gender, date of birth and "
        "age (protected characteristics), ethnicity, religion and nationality (not held, and "
        "protected), and home address, postcode, incident address and policing area (proxies "
        "for deprivation and ethnicity; Durham's HART model was criticised for postcode "
        "features). The history carries these columns only so that audits can check outcomes "
        f"by them ({', '.join(protected)}); a test swaps them and shows no score moves.",
        "",
        f"Harm weights: **{harm.name}** v{harm.version} ({harm.source}). Non-crime incidents "
        f"carry {harm.non_crime_days:g} days of harm but count as attendances.",
        "",
        "### 5. Technical specification",
        "",
        "Features (per person, as of a date):",
        "",
        "| feature | meaning |",
        "|---|---|",
        *[f"| `{k}` | {v} |" for k, v in FEATURES.items()],
        "",
        "Score parts:",
        "",
        "| part | meaning |",
        "|---|---|",
        *[f"| `{k}` | {v} |" for k, v in PARTS.items()],
        "",
        *_settings_section(settings),
        "",
        "### 6. Risks and mitigations",
        "",
        "- **False merges** make someone look serial: identity resolution guards automatic "
        "merges (date of birth or forename must agree, one date of birth per cluster) and "
        "puts uncertain links in a review queue.",
        "- **Unseen harm**: much of next year's harm comes from people never recorded before; "
        "no history-based score sees them (see the visible-oracle ceiling below).",
        "- **Feedback loops**: people the police attend more are ranked higher; the ranking "
        "measures recorded attendance, not offending.",
        "- **Proxies**: no address, postcode or area feature; tested.",
        "",
        "### 7. Evaluation",
        "",
        *_evaluation_section(results),
        "",
    ]
    return "\n".join(out)
