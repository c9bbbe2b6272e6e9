"""The harm model's card: what it predicts, on what data, how well, for whom,
and where it fails. Rendered from a trained :class:`HarmModel` (its metadata
holds the data and the held-out metrics), so card and model never disagree."""

from __future__ import annotations

from typing import Any

import pandas as pd

from adapt.learned.matrix import RECENCY_CAP_DAYS
from adapt.learned.model import HarmModel


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return "n/a" if x != x else f"{x:.{digits}f}"
    return str(x)


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.to_dict(orient="records"):  # keeps each column's type (ints stay ints)
        lines.append("| " + " | ".join(_f(row[c], digits) for c in cols) + " |")
    return "\n".join(lines)


def render_card(model: HarmModel) -> str:
    """The markdown model card (``models/harm-model-card.md``)."""
    meta = model.metadata_
    data, metrics = meta["data"], meta["metrics"]
    pooled = metrics["pooled"]
    threshold = model.threshold_days
    coefs = model.coefficients().reset_index()
    coefs = coefs.reindex(coefs["coefficient"].abs().sort_values(ascending=False).index)
    top = ", ".join(
        f"{r.feature} ({'+' if r.coefficient > 0 else '−'})" for r in coefs.head(5).itertuples()
    )

    auc_rows = [
        {
            "ranking": "harm model",
            "AUC harm ≥ threshold": pooled["auc"]["harm_target"],
            "AUC any incident": pooled["auc"]["any_incident"],
        }
    ]
    for name, auc in metrics["baselines_auc"].items():
        auc_rows.append(
            {
                "ranking": f"baseline: {name}",
                "AUC harm ≥ threshold": auc["harm_target"],
                "AUC any incident": auc["any_incident"],
            }
        )
    seed_rows = [
        {
            "test seed": seed,
            "as of": m["as_of"],
            "people": m["people"],
            "harm ≥ threshold rate": m["harm_target_rate"],
            "any incident rate": m["any_incident_rate"],
            "AUC harm": m["auc"]["harm_target"],
            "AUC any incident": m["auc"]["any_incident"],
            "Brier": m["brier"],
            "mean predicted": m["mean_predicted"],
        }
        for seed, m in metrics["per_seed"].items()
    ]
    calib = pd.DataFrame(metrics["calibration"])[
        ["decile", "people", "mean_predicted", "observed_rate", "min_predicted", "max_predicted"]
    ]
    fair = pd.DataFrame(metrics["fairness_by_sex"])[
        [
            "sex", "people", "share_of_people", "observed_rate", "mean_predicted",
            "predicted_over_observed", "auc_harm", "auc_any_incident", "top_selected",
            "share_of_top", "share_of_harm_positives",
        ]
    ]  # fmt: skip
    losses = meta.get("c_grid_log_loss", {})
    loss_text = ", ".join(f"C={c}: {v:.4f}" for c, v in losses.items()) or "not searched"
    excluded = ", ".join(
        f"`{c}`"
        for c in ("incidents_total", "victims_total", "frequency_p_value", "severity_ratio")
    )

    return f"""# Model card: ADAPT learned harm model (models/harm-model.json)

**What it does.** For each person who has been a suspect on a domestic-abuse
incident up to an as-of date, estimates the probability that the crime harm
recorded against them as a suspect in the next {model.horizon_days} days reaches
**{threshold:g} CHI days** (Cambridge Crime Harm Index, table
`{meta["harm_table"]}`). An L2-regularised logistic regression on scaled
inputs, Platt-calibrated on out-of-fold scores of the latest training as-of
date (`adapt/learned/`).

**Advisory, never the sole basis.** The probability sits beside the RFG score
and its parts; an officer decides, and the decision and reason are recorded.
Every probability can be shown as its parts (`explain`: per-feature
contributions that sum to the log-odds). The model file is plain JSON: every
number it uses is readable and diffable, and loading it runs no code.

**Target and threshold, and why.** 1 when the person's summed harm as a
suspect over the following {model.horizon_days} days is at least {threshold:g}
days: at least one violence-without-injury, harassment or stalking offence (10
days each), or worse (coercive control 180, violence with injury 365, …), or
an accumulation of lesser crimes. Below it sit non-crime attendances (0 days),
verbal arguments and contact disputes (1), criminal damage (2) and bail
breaches (1): the incidents that show a person is still in contact with
police but not that they caused harm. So the harm target asks a different
question from "will police be called again"; a higher threshold (365 days,
violence with injury and above) would ask about the rarest events, where a
ranking rests on fewer cases and is most open to chance. The same model is
also judged against "any incident in the
next 12 months", the target of the published work.

## Data

Synthetic only (`adapt.synthetic` through generate → load → resolve,
`adapt.pipeline.synthetic_history`), {data["incidents_per_seed"]:,}
incidents per seed over {data["years"]} years, noise 1.0.

* **Training:** seeds {", ".join(map(str, data["train_seeds"]))}; everyone who was
  a suspect up to each as-of date {", ".join(data["train_as_of"])} (end of year
  2, each quarter after, end of year 3), labelled with the following 12 months:
  {data["train_rows"]:,} rows, {data["train_people"]:,} people, positive rate
  {data["train_positive_rate"]:.3f}. A person appears once per as-of date;
  calibration folds keep all of a person's rows together. The positive rate
  falls as the extract lengthens (old, inactive names accumulate), so the
  Platt scaling is fitted only to the latest as-of date, the case the model
  is used in (3 years of history or more); fitted to all dates it
  over-predicted the test seeds by about 15% on average.
* **Test (never seen in training, penalty choice or calibration):** seeds
  {", ".join(map(str, data["test_seeds"]))}, as of {", ".join(data["test_as_of"])}
  (end of year 3), judged on year 4: {data["test_rows"]:,} people.
* Features are computed by `adapt.features.compute_features` with settings
  `{meta["feature_settings"]}`; the model assumes those windows (12 months,
  6-month halves, 3-year serial window). Trained {meta["trained_at"]},
  scikit-learn {meta["sklearn_version"]}.

## Inputs

{len(model.feature_names_)} numeric features, all behaviour recorded by police:
counts and harm as `log(1 + x)`, flags as 0/1, the frequency rate ratio as a
log, `days_since_last` as `log(1 + days)` capped at {RECENCY_CAP_DAYS} days. Not
inputs: sex/gender, date of birth or age, ethnicity, postcode, area, address
(protected characteristics and their proxies; none is among the features, the
loader refuses a model file naming one, and a test checks that changing them
in the history changes no prediction). Also left out: {excluded} and others,
see `adapt/learned/matrix.py` for each reason.

Penalty C = {model.C:g}, chosen by leave-one-training-seed-out log loss
({loss_text}).

## Performance on the held-out seeds

{_table(pd.DataFrame(auc_rows))}

Brier score {pooled["brier"]:.4f} (predicting the base rate for everyone:
{pooled["brier_base_rate"]:.4f}); log loss {pooled["log_loss"]:.4f}; mean
predicted {pooled["mean_predicted"]:.4f} against an observed rate of
{pooled["observed_rate"]:.4f}. Published anchor on real data (Turner, Brown and
Medina-Ariza 2022, 350,000 incidents, further abuse): AUC ≈ 0.75. The
synthetic force is far more predictable than a real one: recency alone
(a baseline above) already reaches the high 0.8s, because the generator's
one-off suspects almost never return and its repeat suspects keep their rate.
Read the gap over the baselines, not the level; on real data expect a figure
near the published one. Identity resolution ran over the whole four-year
extract, so a link made from a later record also helps the earlier features:
a small look-ahead a live deployment does not have.

{_table(pd.DataFrame(seed_rows))}

### Calibration (pooled test seeds, by decile of predicted probability)

{_table(calib)}

## Coefficients

On the standardised input (`(input − mean) / scale`), before calibration;
`odds_ratio_per_sd` includes the Platt slope ({model.calibration_["slope"]:.3f};
intercept {model.calibration_["intercept"]:.3f}). Correlated inputs (the
12-month counts overlap) share their weight, so read a coefficient as "given
the others", not alone. Largest: {top}.

{_table(coefs, 4)}

## Fairness audit by sex (audit only; sex is never an input)

Sex is each person's most common recorded gender over their involvement rows
(`unknown` when none or a tie), joined to the test rows after scoring. The top
100 is taken within each test seed, as an ADAPT list would be.
`predicted_over_observed` is calibration-in-the-large (1 = the model's
average matches what happened to that group). Compare `share_of_top` with
`share_of_harm_positives`: a list that matched who went on to cause harm would
select each group at about its share of those people.

{_table(fair)}

## Limits

* **Synthetic data.** Every number above is measured on the project's
  generator, whose offending patterns are the generator's assumptions; it says
  the model and pipeline work, not how it will rank a real force's people.
  Retrain and re-audit on the force's own history before any use.
* **Police-recorded harm only.** The target is harm recorded against the
  person as a suspect; unreported abuse is invisible, and more than half of the
  highest-harm pairs in the research had no earlier police contact: no model on
  police history sees them.
* **Identity errors propagate.** Features come from resolved identities; a
  false merge inflates a person's history.
* **Management is not modelled.** `managed_status` (in custody, deceased, IOM,
  MAPPA) is not an input: someone in custody can score high. Show it beside
  the probability; the cohort rule handles it.
* **Settings-bound.** Trained on the default feature windows; if an analyst
  changes them, the inputs change meaning and the model must be retrained.
* **Counter-allegations.** The secondary party's incidents against the
  predominant aggressor are left out by the features; where the
  predominant/secondary call is wrong, so is the probability.
* **Fairness is audited, not guaranteed.** The audit is on synthetic data with
  the generator's sex mix; repeat it on real data. Differences in selection
  by sex can reflect differences in recorded offending; they must be looked at
  by a person, not corrected silently.
* **Small groups.** Figures for `X` and `unknown` rest on few people.

## Use and retraining

```python
from adapt.learned import load_model, predict_proba, explain
model = load_model()                 # models/harm-model.json
p = predict_proba(features)          # features = compute_features(history, as_of, settings)
parts = explain(features.loc[person_id])
```

Retrain: `adapt train-harm-model` (writes this card and the model).
"""


def render_force_card(model: HarmModel, evidence: dict[str, Any], version: str) -> str:
    """The card of a model ``adapt calibrate`` trained on the force's own past
    (stored with the model in ``learned_models`` and written next to ``--out``)."""
    meta = model.metadata_
    held = evidence["held_out"]
    train = evidence["train"]
    auc = held.get("auc", {})
    cap = pd.DataFrame(evidence["capture"])
    cap_rows = []
    if len(cap):
        wide = cap.pivot(index="method", columns="k", values="harm_share")
        order = [m for m in ("learned", "score", "attendances_window", "seven_in_12",
                             "harm_window", "visible_oracle") if m in wide.index]  # fmt: skip
        for m in order:
            cap_rows.append({"method": m, **{f"K={k}": wide.loc[m, k] for k in wide.columns}})
    coefs = model.coefficients().reset_index()
    coefs = coefs.reindex(coefs["coefficient"].abs().sort_values(ascending=False).index)
    calib = pd.DataFrame(evidence["calibration"])
    calib_text = (
        _table(calib[["decile", "people", "mean_predicted", "observed_rate"]])
        if len(calib)
        else "No held-out people."
    )
    fair = evidence.get("fairness_by_sex")
    fair_cols = [
        "sex", "people", "share_of_people", "observed_rate", "mean_predicted",
        "predicted_over_observed", "auc", "top_selected", "share_of_top", "share_of_positives",
    ]  # fmt: skip
    fair_text = (
        _table(pd.DataFrame(fair)[fair_cols])
        if fair
        else "Not run: the recorded sex was not available to the audit."
    )
    return f"""# Model card: learned model {version}, trained on this force's own past

**Advice beside the RFG score, not a decision.** The probability that a person
is recorded as a suspect in **any further domestic-abuse incident in the next
{model.horizon_days} days**, shown beside the score and its parts on the
Cohort page, the Person pathway and the cohort export (`model_probability`,
`model_version`). It never changes a score or a rank, never decides who is in
the cohort, and is never the sole basis of a decision: an officer decides and
records the reason.

**How it was trained.** By `adapt calibrate` as of {meta.get("as_of")}, on this
force's stored history only, cut at the end of that date (nothing after it
was read). Rolling origin: fitted on everyone who had been a suspect by
{", ".join(train["origins"])} (the fit as-of dates), labelled with the year
after each ({train["rows"]:,} rows, {train["people"]:,} people, {train["positive_rate"]:.1%}
with a further incident); judged out of time as of {held["as_of"]} on the
year after it, which it never saw. The figures below are of this very model
(its coefficients are not refitted). An L2-regularised logistic regression
(C = {model.C:g}, chosen by grouped out-of-fold log loss on the fit rows) on
{len(model.feature_names_)} scaled behaviour inputs. Its probability scale
(Platt: two numbers) is fitted on {evidence.get("scale_fitted_on", "the fit rows")}:
the AUC and capture below do not depend on it; the Brier score and
calibration table are measured on the year the scale was fitted on (see the
Quality benchmark for a calibration on a later year). scikit-learn
{meta.get("sklearn_version")}; features under settings `{meta.get("feature_settings")}`.

**Inputs.** Behaviour recorded by police only (counts and harm over 90 days,
12 months, 3 years and the whole record, recency, victims, markers, MARAC,
counter-allegations). Not inputs: sex, age or date of birth, ethnicity,
postcode, area or address. Sex is read only by the audit below, after scoring.

## Out of time (as of {held["as_of"]}, judged on the year after)

{held["people"]:,} people; {held["any_incident_rate"]:.1%} had a further incident.
AUC for any further incident {_f(auc.get("any_incident"))}; for harm of
{HARM_WORDS} {_f(auc.get("harm_target"))}. Brier {_f(held.get("brier"), 4)}
(the base rate alone: {_f(held.get("brier_base_rate"), 4)}). Published anchor on
real data (Turner, Brown and Medina-Ariza 2022): AUC about 0.75.

Share of the next year's harm (CHI days) the top K would have covered:

{_table(pd.DataFrame(cap_rows)) if cap_rows else "No capture figures."}

### Calibration (held-out people, by decile of predicted probability)

{calib_text}

## Fairness audit by sex (audit only; sex is never an input)

Top 100 by the model's probability; `share_of_top` against
`share_of_positives` (the share of the people who did have a further
incident): a list that mirrored who went on to offend would select each group
at about its share of them.

{fair_text}

## Coefficients (scaled inputs, before calibration)

{_table(coefs, 4)}

## Limits

* Trained on this force's recording: what the force did not record, or
  recorded differently over the years, it cannot learn.
* More than half of the highest-harm pairs had no earlier police contact: no
  history-based model reaches them.
* Retrained at every `adapt calibrate`; each version is kept with its figures.
"""


HARM_WORDS = "at least 10 CHI days"
