"""Who is the predominant aggressor of a counter-allegation pair: the rule, once.

Two people each recorded as the other's suspect are a counter-allegation pair.
Officers decide who is the predominant aggressor from the evidence forces use
(College of Policing APP on domestic abuse, "identifying the primary
perpetrator"): each party's history with other partners, injuries, the DASH
grading, and the pattern of the abuse over time. Each piece of evidence here is
a vote, +1 for the person, -1 for the other, 0 when it does not tell them apart;
the votes are weighted and summed, and the sign decides. A tie is ``unclear``
and nothing is left out.

Evidence (everything dated before the as-of date only; the caller cuts it):

* ``other_victims``: distinct OTHER partners or family members the person was
  recorded as suspect against (weight 2). Abuse of several partners is the
  strongest sign of a primary perpetrator; a victim who retaliates rarely has
  other victims.
* ``other_abusers``: distinct OTHER people the person was recorded as the
  victim of (weight 1, against the person): a history of being victimised.
* ``harm``: crime harm (CHI days) of the person's incidents against the other.
* ``injuries``: those incidents where an injury was recorded (the injury is the
  recorded victim's).
* ``dash``: those incidents graded medium or high on DASH (the grading is the
  recorded victim's risk from the suspect).
* ``first``: the person was the suspect on the pair's first incident (the
  abuse came first, the counter-allegation later).
* ``incidents``: incidents as suspect against the other (the repeat pattern).

The extract contract has no "who called" field (adapt.core.spec), so the rule
cannot use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PREDOMINANT, SECONDARY, UNCLEAR = "predominant", "secondary", "unclear"
ROLES = (PREDOMINANT, SECONDARY, UNCLEAR)

# evidence -> weight of its vote (each vote is -1, 0 or +1)
EVIDENCE_WEIGHTS: dict[str, float] = {
    "other_victims": 2.0,
    "other_abusers": 1.0,
    "harm": 1.0,
    "injuries": 1.0,
    "dash": 1.0,
    "first": 1.0,
    "incidents": 1.0,
}
INJURED = ("minor", "serious")
DASH_GRADED = ("medium", "high")


def _pair_totals(dyads: pd.DataFrame) -> pd.DataFrame:
    d = dyads.assign(
        injured=dyads["injury"].isin(INJURED).fillna(False).astype("int64"),
        graded=dyads["dash_risk"].isin(DASH_GRADED).fillna(False).astype("int64"),
    )
    return d.groupby(["person_id", "victim_id"], sort=False).agg(
        harm=("harm", "sum"),
        injuries=("injured", "sum"),
        dash=("graded", "sum"),
        incidents=("incident_id", "nunique"),
        first_at=("occurred_at", "min"),
    )


def decide_roles(pairs: pd.DataFrame, dyads: pd.DataFrame) -> pd.DataFrame:
    """The role of each person of each counter-allegation pair, with the votes.

    ``pairs``: ordered pairs (person_id, victim_id), both directions present.
    ``dyads``: one row per (incident, suspect ``person_id``, victim
    ``victim_id``) with occurred_at, harm, injury and dash_risk, every incident
    up to the as-of date (the person's whole history, all partners).

    Returns ``pairs`` with a ``vote_<evidence>`` column per evidence (+1 for the
    person, -1 for the other, 0 no difference), ``evidence`` (the weighted sum)
    and ``role`` (predominant, secondary, unclear).

    >>> dy = pd.DataFrame({
    ...     "incident_id": ["1", "2", "3"], "person_id": ["a", "b", "a"],
    ...     "victim_id": ["b", "a", "c"], "occurred_at": pd.to_datetime(["2024-01-01"] * 3),
    ...     "harm": [0.0, 0.0, 0.0], "injury": ["none"] * 3, "dash_risk": ["standard"] * 3})
    >>> pr = pd.DataFrame({"person_id": ["a", "b"], "victim_id": ["b", "a"]})
    >>> decide_roles(pr, dy)[["person_id", "role"]].to_dict("records")
    [{'person_id': 'a', 'role': 'predominant'}, {'person_id': 'b', 'role': 'secondary'}]
    """
    out = pairs[["person_id", "victim_id"]].reset_index(drop=True)
    if not len(out):
        for name in EVIDENCE_WEIGHTS:
            out[f"vote_{name}"] = pd.Series(dtype="int64")
        return out.assign(evidence=pd.Series(dtype="float64"), role=pd.Series(dtype="string"))
    totals = _pair_totals(dyads)
    keys = pd.MultiIndex.from_frame(out[["person_id", "victim_id"]])
    back = pd.MultiIndex.from_arrays([out["victim_id"], out["person_id"]])
    mine, theirs = totals.reindex(keys), totals.reindex(back)

    # Distinct partners as suspect / as victim, minus the other of this pair.
    victims_of = dyads.drop_duplicates(["person_id", "victim_id"])
    n_victims = victims_of.groupby("person_id").size()
    n_abusers = victims_of.groupby("victim_id").size()
    p, o = out["person_id"], out["victim_id"]

    def others(counts: pd.Series, who: pd.Series) -> np.ndarray:
        return counts.reindex(who).fillna(0).to_numpy(dtype=float) - 1.0

    def sign(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.sign(np.nan_to_num(a) - np.nan_to_num(b)).astype("int64")

    m = {c: mine[c].to_numpy(dtype=float) for c in ("harm", "injuries", "dash", "incidents")}
    t = {c: theirs[c].to_numpy(dtype=float) for c in ("harm", "injuries", "dash", "incidents")}
    my_first = mine["first_at"].to_numpy(dtype="datetime64[ns]")
    their_first = theirs["first_at"].to_numpy(dtype="datetime64[ns]")
    votes = {
        "other_victims": sign(others(n_victims, p), others(n_victims, o)),
        "other_abusers": sign(others(n_abusers, o), others(n_abusers, p)),
        "harm": sign(m["harm"], t["harm"]),
        "injuries": sign(m["injuries"], t["injuries"]),
        "dash": sign(m["dash"], t["dash"]),
        "first": np.select([my_first < their_first, my_first > their_first], [1, -1], 0),
        "incidents": sign(m["incidents"], t["incidents"]),
    }
    evidence = np.zeros(len(out))
    for name, weight in EVIDENCE_WEIGHTS.items():
        out[f"vote_{name}"] = votes[name].astype("int64")
        evidence += weight * votes[name]
    out["evidence"] = evidence
    role = np.select([evidence > 0, evidence < 0], [PREDOMINANT, SECONDARY], UNCLEAR)
    out["role"] = pd.Series(role, index=out.index, dtype="string")
    return out


def apply_overrides(pairs: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """An officer's label wins over the rule for its pair.

    ``overrides``: person_a, person_b, aggressor (one of the two), the live
    labels only. Returns ``pairs`` with ``role`` set from the label where one
    exists and ``overridden`` True on those rows.

    >>> pr = pd.DataFrame({"person_id": ["a", "b"], "victim_id": ["b", "a"],
    ...                    "role": pd.array(["secondary", "predominant"], dtype="string")})
    >>> ov = pd.DataFrame({"person_a": ["b"], "person_b": ["a"], "aggressor": ["a"]})
    >>> apply_overrides(pr, ov)[["person_id", "role", "overridden"]].to_dict("records")
    [{'person_id': 'a', 'role': 'predominant', 'overridden': True}, \
{'person_id': 'b', 'role': 'secondary', 'overridden': True}]
    """
    out = pairs.copy()
    out["overridden"] = False
    if not len(out) or not len(overrides):
        return out
    ov = overrides[["person_a", "person_b", "aggressor"]].astype("string")
    both = pd.concat(
        [ov, ov.rename(columns={"person_a": "person_b", "person_b": "person_a"})],
        ignore_index=True,
    ).drop_duplicates(["person_a", "person_b"], keep="last")
    key = out[["person_id", "victim_id"]].astype("string")
    hit = key.merge(
        both, left_on=["person_id", "victim_id"], right_on=["person_a", "person_b"], how="left"
    )["aggressor"]
    has = hit.notna().to_numpy()
    label = np.where(hit.to_numpy(dtype=object) == key["person_id"].to_numpy(dtype=object),
                     PREDOMINANT, SECONDARY)  # fmt: skip
    out["role"] = out["role"].astype("string").where(~has, pd.Series(label, index=out.index))
    out["overridden"] = has
    return out
