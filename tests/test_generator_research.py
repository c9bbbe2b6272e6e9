"""The synthetic force shows the research figures (issue 13 item 5).

A ranking judged on too regular a world flatters itself, so the generator must
look like what the research says real domestic-abuse data looks like
(``../shared/domain.md``, "What the research says the data looks like"). One
force is simulated once for the module (40,000 incidents over 4 years, seed
21: a seed no benchmark or tuning used), straight from the generator's truth
(:func:`adapt.synthetic.research.true_incidents`, the districts
:func:`adapt.synthetic.generate` writes, before recording noise), and each
figure is checked with its source and tolerance.

The figures were measured on seeds 11 to 14 too (benchmarks/generator_figures.py,
results in benchmarks/results/generator_figures.md); the tolerances below
leave room for the spread seen there, and no more than the research allows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.synthetic import research

SEED, INCIDENTS = 21, 40_000


@pytest.fixture(scope="module")
def force() -> pd.DataFrame:
    return research.true_incidents(SEED, INCIDENTS)


def test_harm_is_concentrated_in_a_power_few_of_pairs(force: pd.DataFrame) -> None:
    # Bland and Ariel (2015), Suffolk, about 36,000 call-outs: fewer than 2% of
    # victim-perpetrator pairs caused 80% of the harm (CHI days), and 76% of
    # pairs never called the police again. The generator's pairs are
    # 1.3-1.8% on seeds 11-14, so "under 2%" is the bound itself, with no
    # tolerance added. Pairs seen once: 79-80% on those seeds; +-9 points
    # around 76% allows for the extract's window cutting some pairs' later calls.
    c = research.concentration(force)
    assert c["pairs_for_80pct_harm"] < 0.02
    assert 0.67 <= c["pairs_seen_once"] <= 0.85
    # Barnham, Barnes and Sherman (2017), Thames Valley: 3% of perpetrators
    # caused 90% of two years' intimate-partner harm. The generator gives
    # 4.5-5% (its perpetrators include family abusers, and its harm table
    # weighs violence with injury at 365 days): bound at 6%, twice the
    # published share at most, and far below the 7.4% it gave before.
    assert c["perpetrators_for_90pct_harm_2y"] <= 0.06


def test_most_of_the_highest_harm_pairs_are_new_to_police(force: pd.DataFrame) -> None:
    # domain.md: "More than half of the highest-harm pairs had no earlier DA
    # contact, so no score built on police history will see everyone." The
    # highest-harm pairs are the power few (the fewest pairs causing 80% of
    # the harm); "no earlier contact" means the pair's first serious
    # incident (>= 365 CHI days) was its first police contact. Seeds 11-14:
    # 83-93%; the research's "more than half" is the bound. Below 95%, so
    # some of the worst pairs are visible beforehand.
    u = research.unseen_high_harm(force)
    assert 0.5 < u["power_few_new_pair"] < 0.95
    # Some of them are new pairs of men police already know (a serial abuser
    # with a new partner), so history still has something to find: the share
    # whose perpetrator was never seen before stays well below all of them
    # (seeds 11-14: 49-57%).
    assert u["power_few_new_perpetrator"] < 0.75
    assert u["power_few_new_perpetrator"] < u["power_few_new_pair"]


def test_harm_per_incident_falls_and_severity_escalation_is_rare(force: pd.DataFrame) -> None:
    # domain.md: "in one force's trajectories, harm per incident fell across a
    # dyad's incidents while frequency rose"; "severity escalation is real but
    # uneven", shown by a rare high-harm few; "frequency rises before severity
    # does". Measured on pairs with at least two (four) incidents:
    # - mean harm of later incidents over the mean harm of first incidents
    #   below 1 (seeds 11-14: 0.78-0.87; it was 1.51-1.62 before);
    # - severity escalation (second half 10x the first half in harm) in under
    #   5% of pairs with 4+ incidents (seeds 11-14: 1-2%; before: 14%), but
    #   present (it is real);
    # - de-escalation more common than escalation, and frequency escalation
    #   (gaps at least halve) more common than both.
    s = research.severity_course(force)
    assert s["later_to_first_harm"] < 1.0
    assert 0.0 < s["severity_escalating"] < 0.05
    assert s["severity_deescalating"] > s["severity_escalating"]
    assert s["frequency_escalating"] > s["severity_deescalating"]


def test_next_year_is_hard_to_predict_from_history(force: pd.DataFrame) -> None:
    # Turner, Brown and Medina-Ariza (2022), 350,000 incidents from one force:
    # a regularised logistic regression predicted further abuse with an AUC
    # of about 0.75. Here: a logistic regression on true identities' history
    # (counts and harm over 90 days, 12 months and all, victims, days since
    # the first and the last incident) fitted on half the perpetrators and
    # scored on the other half, predicting any incident as perpetrator in the
    # force's last year. Seeds 11-14 give 0.76-0.78 (and the learned model
    # through the real pipeline about the same, see
    # benchmarks/results/generator_figures.md; both were 0.92-0.93 before).
    # Band 0.70-0.82: +-0.07 around 0.75 covers the spread of seeds and the
    # proxy's optimism (true identities), and excludes the old 0.93.
    odd = force["perp"] % 2 == 1
    a = research.reoffending_auc(force[~odd], force[odd])
    assert 0.70 <= a["auc_model"] <= 0.82
    # Recency alone is a fair part of it, as in the published work ("time
    # since the last incident mattered most").
    assert 0.65 <= a["auc_recency"] <= a["auc_model"]
