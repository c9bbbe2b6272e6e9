"""The model card of a match model trained on the force's own rows.

:func:`render_model_card` turns a stored model
(:func:`adapt.db.identity_models.latest_model`) into Markdown: when it was
trained and on what, what it learned (the prior, m and u of every comparison
level beside the starting model's m), how (the EM passes with their blocking
rules, pair counts and iterations) and what was not learned from the data
(the decision settings). Pure: the app and exports show the text it returns.
The packaged model's own card is ``models/identity-model-card.md``.
"""

from __future__ import annotations

from typing import Any

from adapt.db.identity_models import StoredModel


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "—"
    x = float(x)
    return f"{x:.{digits}f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2e}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_model_card(stored: StoredModel) -> str:
    """Markdown card of a stored trained model.

    >>> from datetime import datetime
    >>> card = render_model_card(StoredModel(
    ...     id=3, trained_at=datetime(2026, 12, 4, 23, 0), rows=52000, seed=7, sha256="ab" * 32,
    ...     figures={"prior": {"probability_two_random_records_match": 0.0002},
    ...              "levels": [{"comparison": "dob", "level": "exact", "m": 0.9,
    ...                          "u": 0.001, "weight": 9.81}],
    ...              "em_passes": [{"blocking_rule": 'l."dob" = r."dob"', "pairs": 90000,
    ...                             "pairs_used": 90000, "iterations": 5, "converged": True}]},
    ...     model={"params": {"threshold_weight": 5.0}}))
    >>> card.splitlines()[0]
    '# Identity match model 3'
    >>> "| dob | exact | 0.9000 | 1.00e-03 | 9.81 | — |" in card
    True
    """
    f = stored.figures
    prior = f.get("prior", {})
    params = stored.model.get("params", {})
    start = {(lv["comparison"], lv["level"]): lv for lv in f.get("start", {}).get("levels", [])}
    lines = [
        f"# Identity match model {stored.id}",
        "",
        f"Trained on this force's own records on {stored.trained_at:%Y-%m-%d %H:%M} UTC: "
        f"{stored.rows:,} person rows, seed {stored.seed}, starting from the packaged model "
        f"({f.get('started_from', 'identity-splink.json')}). Model sha256 `{stored.sha256}`; "
        "the same rows and seed give the same model.",
        "",
        "## What was learned from the data",
        "",
        "splink's Fellegi–Sunter parameters, nothing else:",
        "",
        f"* **Prior** (probability that two random rows are one person): "
        f"{_num(prior.get('probability_two_random_records_match'), 6)}. Estimated from the "
        "pairs the exact rules find"
        + (
            f" ({', '.join(f'{n:,}' for n in prior['deterministic_rule_pairs'])} pairs)"
            if prior.get("deterministic_rule_pairs")
            else ""
        )
        + (
            f" over those rules' recall among true pairs, {_num(prior.get('recall_used'), 3)}"
            + (
                ", read from the m values learned below"
                if prior.get("recall_from_trained_m")
                else ", assumed"
            )
            if prior.get("recall_used") is not None
            else ""
        )
        + ".",
        f"* **u** (how often two different people agree at each level): random sampling of "
        f"up to {float(f.get('u_sampling', {}).get('max_pairs', 0)):,.0f} pairs, seeded.",
        "* **m** (how often the same person agrees at each level): expectation maximisation, "
        "one pass per blocking rule below; each pass learns the fields it does not block on. "
        "No pass blocks on surname + postcode (that would teach the model that relatives "
        "in one household are one person).",
        "",
        "| EM pass blocked on | pairs | pairs used | iterations | converged |",
        "|---|---|---|---|---|",
    ]
    for p in f.get("em_passes", []):
        if p.get("skipped"):
            lines.append(
                f"| `{_cell(p['blocking_rule'])}` | {p['pairs']:,} | skipped: "
                f"{_cell(p['skipped'])} | — | — |"
            )
        else:
            lines.append(
                f"| `{_cell(p['blocking_rule'])}` | {p['pairs']:,} | {p.get('pairs_used', 0):,} "
                f"| {p.get('iterations', '—')} | {'yes' if p.get('converged') else 'no'} |"
            )
    lines += [
        "",
        "## Parameters",
        "",
        "Match weight = log2(m / u): how much a level moves the evidence that two rows are "
        "one person. The last column is the starting (packaged) model's m.",
        "",
        "| comparison | level | m | u | weight | m before |",
        "|---|---|---|---|---|---|",
    ]
    for lv in f.get("levels", []):
        before = start.get((lv["comparison"], lv["level"]), {}).get("m")
        weight = "—" if lv.get("weight") is None else f"{lv['weight']:.2f}"
        lines.append(
            f"| {_cell(lv['comparison'])} | {_cell(lv['level'])} | {_num(lv.get('m'))} | "
            f"{_num(lv.get('u'))} | {weight} | {_num(before)} |"
        )
    notes = f.get("splink_notes") or []
    if notes:
        lines += ["", "Levels EM could not estimate keep the starting model's m:", ""]
        lines += [f"* {_cell(n)}" for n in notes]
    lines += [
        "",
        "## Not learned from the data",
        "",
        "The decision settings are the packaged model's, chosen on labelled synthetic data "
        "(see the packaged model card): a pair joins automatically when its final weight "
        f"reaches {params.get('threshold_weight', '—')}, guards permitting; incident context "
        f"adds {params.get('victim_context_weight', '—')} (suspects against the same victim) "
        f"and {params.get('place_context_weight', '—')} (same role, same address, same month). "
        "The guards (dates of birth and forenames that must not conflict, people on one "
        "incident kept apart) and analysts' decisions apply whatever the model says.",
        "",
        "Advisory: every join is explained and can be challenged; a model trained on a "
        "force's data has not been checked against labelled truth from that force.",
    ]
    return "\n".join(lines) + "\n"
