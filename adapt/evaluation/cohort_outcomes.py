"""The outcome panel for the whole cohort: harm in the 12 months before and
after adoption for the adopted people, against a comparison group of similar
people not adopted, measured over the same dates.

For each adoption (a person's first adoption decision, at the data date the
officer decided on, its ``as_of``), the 12 months before are the year up to
the end of that date and the months after are the year from the next day, or
as much of it as the data covers (at least :data:`MIN_FOLLOW_UP_DAYS`; an
adoption with less is "too recent" and left out). The comparison people for
an adoption are the people never adopted who, on the same date, fall in the
same stratum:

* the same band of harm in the 12 months before (:func:`harm_band`; at least
  one incident, so the comparison people were active then too);
* the same band of incidents in the 12 months before (1, 2, 3-4, 5 or more);
* the same score band (:data:`SCORE_BAND` points) when a stored score run on
  that date gives scores (``scores``), otherwise this one is left out and the
  caveat says so.

Each adopted person is compared with the mean of their stratum's comparison
people (exact stratified matching: every adopted person counts once on both
sides); an adopted person with no comparison in their stratum is counted as
unmatched and left out of both averages.

It is not a causal estimate (:func:`caveat`). Harm is attributed to every
suspect on an incident, as everywhere else (:mod:`adapt.evaluation.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.core.dates import DAY, cutoff_of
from adapt.core.history import History
from adapt.rules.harm import incident_harm
from adapt.rules.pairs import SUSPECT, role_rows

YEAR_DAYS = 365
#: An adoption with fewer days of data after it is too recent to judge.
MIN_FOLLOW_UP_DAYS = 30
SCORE_BAND = 10.0
PERIODS = ("Before adoption", "After adoption")  # the chart's short words (12 months each)
CHART_GROUPS = ("Adopted", "Similar, not adopted")
GROUPS = ("Adopted", "Comparison (similar, not adopted)")


@dataclass(frozen=True)
class CohortOutcome:
    """What :func:`cohort_outcomes` found.

    ``per_person``: one row per adopted person with follow-up: ``person_id,
    adopted_as_of, follow_up_days, harm_before, harm_after, incidents_before,
    incidents_after, comparisons, comp_harm_before, comp_harm_after,
    comp_incidents_before, comp_incidents_after`` (the comparison columns are
    the mean over the stratum; NaN and ``comparisons`` 0 when unmatched).
    ``adopted``: people ever adopted; ``too_recent``: adopted too recently to
    judge; ``matched``/``unmatched``: of those with follow-up;
    ``by_score``: whether score bands were part of the matching for every
    adoption date."""

    per_person: pd.DataFrame
    adopted: int
    too_recent: int
    matched: int
    unmatched: int
    comparison_people: int
    by_score: bool

    def table(self) -> pd.DataFrame:
        """The panel's figures (also its chart's text alternative): one row
        per group with the people counted, average harm (days) and incidents
        per person in the 12 months before and after, and the change of harm
        in words."""
        m = self.per_person[self.per_person["comparisons"] > 0]
        rows = []
        for group, prefix in zip(GROUPS, ("", "comp_"), strict=True):
            before = float(m[f"{prefix}harm_before"].mean()) if len(m) else 0.0
            after = float(m[f"{prefix}harm_after"].mean()) if len(m) else 0.0
            rows.append(
                {
                    "Group": group,
                    "People": len(m) if prefix == "" else self.comparison_people,
                    "Harm before (days per person)": round(before, 1),
                    "Harm after (days per person)": round(after, 1),
                    "Incidents before (per person)": round(
                        float(m[f"{prefix}incidents_before"].mean()) if len(m) else 0.0, 2
                    ),
                    "Incidents after (per person)": round(
                        float(m[f"{prefix}incidents_after"].mean()) if len(m) else 0.0, 2
                    ),
                    "Change in harm": change_words(before, after),
                }
            )
        return pd.DataFrame(rows)

    def chart_frame(self) -> pd.DataFrame:
        """Average harm per person, one row per period, one column per group
        (short words: a chart cuts long labels)."""
        t = self.table()
        return pd.DataFrame(
            {
                group: [t.iloc[i]["Harm before (days per person)"],
                        t.iloc[i]["Harm after (days per person)"]]
                for i, group in enumerate(CHART_GROUPS)
            },
            index=pd.Index(list(PERIODS), name="Period"),
        )  # fmt: skip

    def sentence(self) -> str:
        """The panel in one sentence (the chart's text alternative)."""
        if self.adopted == 0:
            return "Nobody has been adopted yet, so there is no outcome to show."
        if self.matched == 0:
            recent = (
                f"{self.too_recent} of {self.adopted} adopted "
                f"{'person was' if self.adopted == 1 else 'people were'} adopted too recently "
                f"(less than {MIN_FOLLOW_UP_DAYS} days of data after)"
            )
            tail = (
                f"; {self.unmatched} had no similar person not adopted to compare with"
                if self.unmatched
                else ""
            )
            return f"No outcome to show yet: {recent}{tail}."
        t = self.table()
        a, c = t.iloc[0], t.iloc[1]
        return (
            f"{self.matched} adopted {'person' if self.matched == 1 else 'people'} with a "
            f"comparison: their harm went from {a['Harm before (days per person)']:g} days per "
            f"person in the 12 months before adoption to {a['Harm after (days per person)']:g} "
            f"after ({a['Change in harm']}); {self.comparison_people} similar people not "
            f"adopted, over the same dates, went from {c['Harm before (days per person)']:g} to "
            f"{c['Harm after (days per person)']:g} ({c['Change in harm']})."
        )

    def caveat(self) -> str:
        return caveat(self)


def change_words(before: float, after: float) -> str:
    """ "down 40%", "up 12%", "no change", or "from none" when before is 0."""
    if before <= 0:
        return "no change" if after <= 0 else "up from none"
    pct = round((after - before) / before * 100)
    if pct == 0:
        return "no change"
    return f"{'down' if pct < 0 else 'up'} {abs(pct)}%"


def caveat(result: CohortOutcome) -> str:
    """What the panel cannot say, in words."""
    score = (
        "score band, harm and incidents in the 12 months before"
        if result.by_score
        else "harm and incidents in the 12 months before (no stored score run on some adoption "
        "dates, so not on score)"
    )
    small = (
        f" Only {result.matched} adopted {'person is' if result.matched == 1 else 'people are'} "
        "compared: with numbers this small a few incidents change the picture."
        if result.matched < 30
        else ""
    )
    return (
        "This is not a causal estimate of what adoption did. The comparison people were matched "
        f"only on {score}, at the same dates; officers adopt people for reasons the data does "
        "not hold, and those may differ between the groups. People are often adopted at a peak "
        "of harm, and harm after a peak tends to fall anyway (regression to the mean); the "
        "comparison group shows only part of that fall. Incidents after adoption are those "
        "recorded: more contact with officers can mean more of them are recorded."
        + small
        + (
            f" {_people(result.unmatched)} adopted with no similar person to compare with "
            f"{'is' if result.unmatched == 1 else 'are'} left out."
            if result.unmatched
            else ""
        )
        + (
            f" {_people(result.too_recent)} adopted too recently to judge "
            f"{'is' if result.too_recent == 1 else 'are'} left out."
            if result.too_recent
            else ""
        )
    )


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


# ------------------------------------------------------------------ pieces
def suspect_harm(history: History, harm_table: str) -> pd.DataFrame:
    """One row per (incident, suspect person): ``person_id, incident_id,
    occurred_at, offence, harm``."""
    inc = history.incidents[["incident_id", "occurred_at", "offence", "is_crime"]].copy()
    inc["harm"] = incident_harm(inc, harm_table)
    rows = role_rows(history.involvements, SUSPECT)
    out = rows.merge(inc, on="incident_id")
    return out[["person_id", "incident_id", "occurred_at", "offence", "harm"]].reset_index(
        drop=True
    )


def first_adoptions(decisions: pd.DataFrame) -> pd.DataFrame:
    """Each person's first adoption (from
    :func:`adapt.db.app_store.decisions_frame`), whatever came after it:
    ``person_id, adopted_as_of``."""
    if decisions.empty:
        return pd.DataFrame(
            {
                "person_id": pd.Series(dtype="string"),
                "adopted_as_of": pd.Series(dtype="datetime64[ns]"),
            }
        )
    adopted = decisions[decisions["decision"] == "adopted"].sort_values("id")
    first = adopted.drop_duplicates("person_id", keep="first")
    return pd.DataFrame(
        {
            "person_id": first["person_id"].astype("string"),
            "adopted_as_of": pd.to_datetime(first["as_of"]).dt.normalize(),
        }
    ).reset_index(drop=True)


def harm_band(harm: pd.Series) -> pd.Series:
    """Bands of harm (days) that double: 0, under 2, 2-3, 4-7, 8-15, ...
    (``floor(log2(harm + 1))``), so similar amounts of harm share a band."""
    return np.floor(np.log2(harm.astype(float).clip(lower=0) + 1)).astype(int)


def incident_band(incidents: pd.Series) -> pd.Series:
    """1, 2, 3-4, 5 or more incidents (0 for none)."""
    return pd.Series(
        np.select([incidents >= 5, incidents >= 3], [3, 2], incidents.clip(upper=2)),
        index=incidents.index,
    )


def _windows(si: pd.DataFrame, as_of: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Harm and incidents per person in the year up to the end of ``as_of`` and
    from then to ``end``."""
    start = cutoff_of(as_of)
    when = si["occurred_at"]
    before = ((when >= start - YEAR_DAYS * DAY) & (when < start)).to_numpy(dtype=bool)
    after = ((when >= start) & (when < end)).to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "person_id": si["person_id"].astype(str),
            "harm_before": np.where(before, si["harm"], 0.0),
            "harm_after": np.where(after, si["harm"], 0.0),
            "incidents_before": before.astype(int),
            "incidents_after": after.astype(int),
        }
    )[before | after]
    return frame.groupby("person_id").sum()


def _scores_on(scores: pd.DataFrame | None, as_of: object) -> pd.Series | None:
    """Each person's score on ``as_of`` (the last stored for the date), or None."""
    if scores is None or not len(scores):
        return None
    on_day = scores[pd.to_datetime(scores["as_of"]).dt.normalize() == pd.Timestamp(as_of)]
    if not len(on_day):
        return None
    ids = on_day["person_id"].astype(str)
    return on_day.assign(_id=ids).drop_duplicates("_id", keep="last").set_index("_id")["score"]


def _score_band(ids: pd.Index, day_scores: pd.Series) -> np.ndarray:
    """The score band of each id (-1 for a person the run does not hold)."""
    score = pd.Series(ids.astype(str), index=ids).map(day_scores).astype(float)
    return np.floor(score / SCORE_BAND).fillna(-1).astype(int).to_numpy()


def cohort_outcomes(
    suspect_incidents: pd.DataFrame,
    adoptions: pd.DataFrame,
    last_date: object,
    scores: pd.DataFrame | None = None,
) -> CohortOutcome:
    """The outcome of the adopted people against similar people not adopted.

    ``suspect_incidents``: :func:`suspect_harm`; ``adoptions``:
    :func:`first_adoptions`; ``last_date``: the last date the data covers;
    ``scores`` (optional): ``as_of, person_id, score`` from stored score runs.
    The loop is over the distinct adoption dates (a few), each vectorised."""
    empty = pd.DataFrame(
        columns=["person_id", "adopted_as_of", "follow_up_days", "harm_before", "harm_after",
                 "incidents_before", "incidents_after", "comparisons", "comp_harm_before",
                 "comp_harm_after", "comp_incidents_before", "comp_incidents_after"]
    )  # fmt: skip
    adopted_ids = set(adoptions["person_id"].astype(str))
    if not len(adoptions) or last_date is None or pd.isna(last_date):
        return CohortOutcome(empty, len(adoptions), len(adoptions), 0, 0, 0, False)
    data_end = cutoff_of(last_date)
    parts, comparison_ids, too_recent, by_score = [], set(), 0, True
    for as_of, group in adoptions.groupby("adopted_as_of"):
        start = cutoff_of(as_of)
        end = min(start + YEAR_DAYS * DAY, data_end)
        follow_up = int((end - start) / DAY)
        if follow_up < MIN_FOLLOW_UP_DAYS:
            too_recent += len(group)
            continue
        w = _windows(suspect_incidents, as_of, end)
        ids = group["person_id"].astype(str)
        mine = w.reindex(ids).fillna(0.0)
        pool = w[(w["incidents_before"] > 0) & ~w.index.isin(list(adopted_ids))]
        keys = ["_h", "_n"]
        mine = mine.assign(
            _h=harm_band(mine["harm_before"]), _n=incident_band(mine["incidents_before"])
        )
        pool = pool.assign(
            _h=harm_band(pool["harm_before"]), _n=incident_band(pool["incidents_before"])
        )
        day_scores = _scores_on(scores, as_of)
        if day_scores is None:
            by_score = False
        else:
            mine["_s"] = _score_band(mine.index, day_scores)
            pool["_s"] = _score_band(pool.index, day_scores)
            keys.append("_s")
        strata = pool.groupby(keys).agg(
            comparisons=("harm_before", "size"),
            comp_harm_before=("harm_before", "mean"),
            comp_harm_after=("harm_after", "mean"),
            comp_incidents_before=("incidents_before", "mean"),
            comp_incidents_after=("incidents_after", "mean"),
        )
        joined = mine.reset_index(names="person_id").merge(
            strata.reset_index(), on=keys, how="left"
        )
        joined["comparisons"] = joined["comparisons"].fillna(0).astype(int)
        matched_strata = joined.loc[joined["comparisons"] > 0, keys].drop_duplicates()
        used = pool.reset_index(names="person_id").merge(matched_strata, on=keys)
        comparison_ids.update(used["person_id"].astype(str))
        joined["adopted_as_of"] = pd.Timestamp(as_of)
        joined["follow_up_days"] = follow_up
        parts.append(joined[empty.columns])
    per_person = (
        pd.concat(parts, ignore_index=True).sort_values("person_id").reset_index(drop=True)
        if parts
        else empty
    )
    matched = int((per_person["comparisons"] > 0).sum()) if len(per_person) else 0
    return CohortOutcome(
        per_person=per_person,
        adopted=len(adoptions),
        too_recent=too_recent,
        matched=matched,
        unmatched=len(per_person) - matched,
        comparison_people=len(comparison_ids),
        by_score=by_score and matched > 0,
    )
