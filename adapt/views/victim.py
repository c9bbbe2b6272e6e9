"""The victim page: one victim's history seen from their side.

* the timeline: every incident in which they were a victim (offence in
  words, harm, the perpetrator, whether it was a SafeLives repeat and whether
  a late flag missed it) and every MARAC referral about them (referred, heard,
  flag on), in date order;
* the perpetrators: everyone recorded as a suspect against them or named as
  the perpetrator on their referrals, with the incidents and harm against this
  victim, the referrals and the SafeLives repeat status of the pair;
* each perpetrator's other victims, with whether they were referred to MARAC.

A pure function of a History (the page passes the rows around the victim and
their perpetrators, :meth:`adapt.views.person.HistoryIndex.local`, and the
whole history's last date). SafeLives repeats come from
:mod:`adapt.rules.safelives` with the window of the settings in force; pairs
from :mod:`adapt.rules.pairs`; harm from :mod:`adapt.rules.harm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from adapt.core.history import History
from adapt.core.settings import Settings, window_words
from adapt.rules.harm import incident_harm
from adapt.rules.pairs import incident_pairs
from adapt.rules.safelives import repeat_incidents, window_end
from adapt.views.marac import (
    count_words,
    counted,
    day_words,
    days_words,
    named,
    yes_no,
)
from adapt.views.text import offence_words, plot_text

DAY = pd.Timedelta(days=1)
NO_PERPETRATOR = "no suspect recorded"


@dataclass(frozen=True)
class VictimView:
    victim_id: str
    as_of: pd.Timestamp
    repeat_days: int
    incidents: pd.DataFrame  # one row per incident and perpetrator (NA: no suspect recorded)
    referrals: pd.DataFrame  # the referrals about the victim
    perpetrators: pd.DataFrame  # one row per perpetrator
    other_victims: pd.DataFrame  # one row per (perpetrator, other victim)
    as_suspect: int  # incidents in which this victim was recorded as a suspect

    def people(self) -> list[str]:
        """Everyone the page shows besides the victim (perpetrators, other victims)."""
        found = [*self.perpetrators["perpetrator_id"], *self.other_victims["victim_id"]]
        return [p for p in dict.fromkeys(str(x) for x in found) if p != self.victim_id]


def perpetrators_of(history: History, victim_id: str) -> list[str]:
    """The suspects in incidents against ``victim_id`` and the perpetrators
    named on referrals about them, first seen first."""
    inv = history.involvements
    mine = (inv["role"] == "victim").fillna(False) & (inv["person_id"] == victim_id).fillna(False)
    ids = inv.loc[mine.to_numpy(dtype=bool), "incident_id"].unique()
    pairs = incident_pairs(inv[inv["incident_id"].isin(ids).to_numpy(dtype=bool)])
    pairs = pairs[pairs["victim_id"] == victim_id].merge(
        history.incidents[["incident_id", "occurred_at"]], on="incident_id"
    )
    m = history.marac
    named_on = m[(m["victim_person_id"] == victim_id).fillna(False).to_numpy(dtype=bool)]
    found = pd.concat(
        [
            pairs[["suspect_id", "occurred_at"]].set_axis(["p", "at"], axis=1),
            named_on[["perpetrator_person_id", "referral_date"]].set_axis(["p", "at"], axis=1),
        ]
    ).dropna(subset=["p"])
    found = found.sort_values("at", kind="stable")
    return list(dict.fromkeys(found["p"].astype(str)))


def victim_view(
    history: History, victim_id: str, as_of: object, *, settings: Settings
) -> VictimView:
    """Everything the victim page shows (see the module docstring). ``as_of``
    (the whole history's last date) decides which repeat windows are open and
    which perpetrators are current (an incident within the repeat window)."""
    repeat_days = settings.windows.marac_repeat_days
    as_of_ts = pd.Timestamp(as_of).normalize()
    inv = history.involvements
    incidents = history.incidents[["incident_id", "occurred_at", "offence", "is_crime",
                                   "dash_risk", "injury"]].copy()  # fmt: skip
    incidents["harm"] = incident_harm(incidents, settings.harm_table).to_numpy()

    # every incident in which they were a victim, one row per suspect against them
    mine = (inv["role"] == "victim").fillna(False) & (inv["person_id"] == victim_id).fillna(False)
    theirs = inv.loc[mine.to_numpy(dtype=bool), ["incident_id"]].drop_duplicates()
    pairs = incident_pairs(inv[inv["incident_id"].isin(theirs["incident_id"]).to_numpy(dtype=bool)])
    pairs = pairs[pairs["victim_id"] == victim_id]
    against = theirs.merge(pairs[["incident_id", "suspect_id"]], on="incident_id", how="left")
    against = against.rename(columns={"suspect_id": "perpetrator_id"}).merge(
        incidents, on="incident_id"
    )

    m = history.marac
    about = m[(m["victim_person_id"] == victim_id).fillna(False).to_numpy(dtype=bool)]
    referrals = about.rename(columns={"perpetrator_person_id": "perpetrator_id"})[
        ["referral_id", "referral_date", "meeting_date", "flagged_at", "perpetrator_id"]
    ].sort_values("referral_date", kind="stable")

    reps = repeat_incidents(
        against.dropna(subset=["perpetrator_id"])
        .rename(columns={"perpetrator_id": "suspect_id"})
        .assign(victim_id=victim_id)
        .astype({"victim_id": "string"})[["incident_id", "suspect_id", "victim_id", "occurred_at"]],
        about,
        repeat_days,
    ).rename(columns={"suspect_id": "perpetrator_id"})
    against = against.merge(
        reps[["incident_id", "perpetrator_id", "referral_id", "late_flag"]],
        on=["incident_id", "perpetrator_id"],
        how="left",
    ).rename(columns={"referral_id": "repeat_of"})
    against["late_flag"] = against["late_flag"].fillna(False).astype(bool)
    against = against.sort_values(["occurred_at", "incident_id"], kind="stable")

    perps = perpetrators_of(history, victim_id)
    others = _other_victims(history, victim_id, perps, incidents)
    perpetrators = _perpetrators(victim_id, perps, against, referrals, others, as_of_ts,
                                 repeat_days)  # fmt: skip
    suspect = (inv["role"] == "suspect").fillna(False) & (inv["person_id"] == victim_id).fillna(
        False
    )
    return VictimView(
        victim_id=victim_id,
        as_of=as_of_ts,
        repeat_days=repeat_days,
        incidents=against.reset_index(drop=True),
        referrals=referrals.reset_index(drop=True),
        perpetrators=perpetrators,
        other_victims=others,
        as_suspect=int(inv.loc[suspect.to_numpy(dtype=bool), "incident_id"].nunique()),
    )


def _perpetrators(
    victim_id: str,
    perps: list[str],
    against: pd.DataFrame,
    referrals: pd.DataFrame,
    others: pd.DataFrame,
    as_of: pd.Timestamp,
    repeat_days: int,
) -> pd.DataFrame:
    frame = pd.DataFrame({"perpetrator_id": pd.Series(perps, dtype="string")})
    inc = (
        against.dropna(subset=["perpetrator_id"])
        .groupby("perpetrator_id")
        .agg(
            incidents=("incident_id", "nunique"),
            harm=("harm", "sum"),
            first_incident=("occurred_at", "min"),
            last_incident=("occurred_at", "max"),
            repeats=("repeat_of", "count"),
            late_flag_missed=("late_flag", "sum"),
        )
    )
    refs = (
        referrals.dropna(subset=["perpetrator_id"])
        .groupby("perpetrator_id")
        .agg(referrals=("referral_id", "nunique"), last_referral_date=("referral_date", "max"))
    )
    other = others.groupby("perpetrator_id")["victim_id"].nunique().rename("other_victims")
    out = frame.join(inc, on="perpetrator_id").join(refs, on="perpetrator_id")
    out = out.join(other, on="perpetrator_id")
    for col in ("incidents", "repeats", "late_flag_missed", "referrals", "other_victims"):
        out[col] = out[col].fillna(0).astype(int)
    out["harm"] = out["harm"].fillna(0.0)
    out["current"] = (out["last_incident"] >= as_of - repeat_days * DAY).fillna(False)
    out["repeat_window_ends"] = window_end(out["last_referral_date"], repeat_days)
    out["window_open"] = (out["repeat_window_ends"] >= as_of).fillna(False)
    return out.reset_index(drop=True)


OTHER_COLUMNS = ["perpetrator_id", "victim_id", "incidents", "harm", "first_incident",
                 "last_incident", "referrals", "last_referral_date"]  # fmt: skip


def _other_victims(
    history: History, victim_id: str, perps: list[str], incidents: pd.DataFrame
) -> pd.DataFrame:
    """Each perpetrator's other victims: people they were a suspect against,
    or named with as the perpetrator on a MARAC referral."""
    inv = history.involvements
    theirs = (inv["role"] == "suspect").fillna(False) & inv["person_id"].isin(perps).fillna(False)
    ids = inv.loc[theirs.to_numpy(dtype=bool), "incident_id"].unique()
    pairs = incident_pairs(inv[inv["incident_id"].isin(ids).to_numpy(dtype=bool)])
    pairs = pairs[pairs["suspect_id"].isin(perps) & (pairs["victim_id"] != victim_id)]
    pairs = pairs.rename(columns={"suspect_id": "perpetrator_id"}).merge(
        incidents, on="incident_id"
    )
    m = history.marac
    named_on = m[m["perpetrator_person_id"].isin(perps).fillna(False).to_numpy(dtype=bool)]
    named_on = named_on[
        (named_on["victim_person_id"] != victim_id).fillna(False).to_numpy(dtype=bool)
    ]
    links = (
        pd.concat(
            [
                pairs[["perpetrator_id", "victim_id"]],
                named_on[["perpetrator_person_id", "victim_person_id"]].set_axis(
                    ["perpetrator_id", "victim_id"], axis=1
                ),
            ]
        )
        .dropna()
        .astype("string")
        .drop_duplicates()
    )
    if not len(links):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OTHER_COLUMNS})
    by_incident = pairs.groupby(["perpetrator_id", "victim_id"]).agg(
        incidents=("incident_id", "nunique"), harm=("harm", "sum"),
        first_incident=("occurred_at", "min"), last_incident=("occurred_at", "max"),
    )  # fmt: skip
    out = links.join(by_incident, on=["perpetrator_id", "victim_id"])
    refs = m[m["victim_person_id"].isin(links["victim_id"]).fillna(False).to_numpy(dtype=bool)]
    refs = refs.groupby("victim_person_id").agg(
        referrals=("referral_id", "nunique"), last_referral_date=("referral_date", "max")
    )
    out = out.join(refs, on="victim_id")
    out[["incidents", "referrals"]] = out[["incidents", "referrals"]].fillna(0).astype(int)
    out["harm"] = out["harm"].fillna(0.0)
    latest = out["last_incident"].fillna(out["last_referral_date"])
    out = out.assign(_latest=latest).sort_values(
        ["perpetrator_id", "_latest"], ascending=[True, False], kind="stable"
    )
    return out[OTHER_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------ words
def timeline_table(view: VictimView, names: dict[str, str]) -> pd.DataFrame:
    """Incidents and referrals in date order, in words (the chart's text alternative)."""
    inc = view.incidents

    def text(column: str) -> pd.Series:  # plain Python strings ("" for missing)
        return inc[column].astype("string").fillna("").astype(object)

    late = np.where(inc["late_flag"].astype(bool), "; the flag was not on yet (a late flag)", "")
    repeat = ("; SafeLives repeat of " + text("repeat_of") + late).where(
        inc["repeat_of"].notna(), ""
    )
    crime = np.where(inc["is_crime"].fillna(True).astype(bool), "crime", "non-crime incident")
    detail = pd.Series(crime, index=inc.index, dtype=object)
    for col, label in (("dash_risk", "DASH risk"), ("injury", "injury")):
        detail = detail + ("; " + label + " " + text(col)).where(inc[col].notna(), "")
    detail = detail + repeat
    incidents = pd.DataFrame(
        {
            "at": inc["occurred_at"],
            "What": "Incident: " + offence_words(inc["offence"]),
            "Reference": inc["incident_id"].astype(object),
            "Perpetrator": named(inc["perpetrator_id"], names, NO_PERPETRATOR),
            "Harm (CHI days)": count_words(inc["harm"]),
            "Details": detail.astype(object),
        }
    )
    ref = view.referrals
    referrals = pd.DataFrame(
        {
            "at": ref["referral_date"],
            "What": "MARAC referral",
            "Reference": ref["referral_id"].astype(object),
            "Perpetrator": named(ref["perpetrator_id"], names, "not recorded"),
            "Harm (CHI days)": "",
            "Details": "heard on " + days_words(ref["meeting_date"]) + "; flag on "
            + days_words(ref["flagged_at"]),
        }
    )  # fmt: skip
    out = pd.concat([p for p in (incidents, referrals) if len(p)] or [incidents])
    out = out.sort_values("at", kind="stable")
    out.insert(0, "Date", days_words(out["at"]))
    # the reference last: the details need the room more
    columns = ["Date", "What", "Perpetrator", "Harm (CHI days)", "Details", "Reference"]
    return out[columns].reset_index(drop=True)


def perpetrators_table(view: VictimView, names: dict[str, str]) -> pd.DataFrame:
    p = view.perpetrators
    window = window_words(view.repeat_days)
    return pd.DataFrame(
        {
            "Perpetrator": named(p["perpetrator_id"], names),
            "Incidents against this victim": count_words(p["incidents"]),
            "Harm (CHI days)": count_words(p["harm"]),
            "First incident": days_words(p["first_incident"]),
            "Last incident": days_words(p["last_incident"]),
            f"Current (an incident in the last {window})": yes_no(p["current"]),
            "MARAC referrals with this victim": count_words(p["referrals"]),
            "SafeLives repeats": count_words(p["repeats"]),
            "Missed by a late flag": count_words(p["late_flag_missed"]),
            "Repeat window open until": days_words(
                p["repeat_window_ends"].where(p["window_open"]), ""
            ),
            "Other victims": count_words(p["other_victims"]),
        }
    )


def other_victims_table(
    view: VictimView, names: dict[str, str], perpetrator_id: str
) -> pd.DataFrame:
    o = view.other_victims[view.other_victims["perpetrator_id"] == perpetrator_id]
    return pd.DataFrame(
        {
            "Victim": named(o["victim_id"], names),
            "Incidents": count_words(o["incidents"]),
            "Harm (CHI days)": count_words(o["harm"]),
            "First incident": days_words(o["first_incident"]),
            "Last incident": days_words(o["last_incident"]),
            "MARAC referrals": count_words(o["referrals"]),
            "Last referral": days_words(o["last_referral_date"], ""),
        }
    ).reset_index(drop=True)


def summary_words(view: VictimView) -> str:
    """The page's opening sentence (also the chart's text alternative)."""
    inc = view.incidents
    n_inc = inc["incident_id"].nunique()
    first, last = inc["occurred_at"].min(), inc["occurred_at"].max()
    span = f" between {day_words(first)} and {day_words(last)}" if n_inc else ""
    repeats = inc.loc[inc["repeat_of"].notna(), "incident_id"].nunique()
    late = inc.loc[inc["late_flag"], "incident_id"].nunique()
    text = (
        f"{counted(n_inc, 'incident')} as a victim{span}; "
        f"{counted(len(view.perpetrators), 'perpetrator')}; "
        f"{counted(len(view.referrals), 'MARAC referral')}; "
        f"{counted(repeats, 'SafeLives repeat')}, {late} of them missed by a late flag."
    )
    if view.as_suspect:
        text += f" Also recorded as a suspect in {counted(view.as_suspect, 'incident')}."
    return text


def timeline_figure(view: VictimView, names: dict[str, str]) -> go.Figure:
    """Harm of each incident by date, coloured by perpetrator; MARAC
    referrals and flags as marks along the bottom."""
    fig = go.Figure()
    inc = view.incidents.assign(
        who=named(view.incidents["perpetrator_id"], names, NO_PERPETRATOR),
        what=offence_words(view.incidents["offence"]),
    )
    for who, part in inc.groupby("who", sort=True):
        fig.add_trace(
            go.Scatter(
                x=part["occurred_at"], y=part["harm"], mode="markers", name=plot_text(who),
                marker={"size": 9, "line": {"width": 0.5, "color": "white"}},
                customdata=np.stack([part["incident_id"].map(plot_text),
                                     part["what"].map(plot_text)], axis=-1),
                hovertemplate="%{x|%d %b %Y}<br>%{customdata[0]}<br>%{customdata[1]}"
                "<br>harm %{y:.0f} days<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    top = float(inc["harm"].max()) if len(inc) else 1.0
    ref = view.referrals
    marks = (("MARAC referral", ref["referral_date"], "triangle-up", "#a93226"),
             ("MARAC flag on", ref["flagged_at"], "x", "#935116"))  # fmt: skip
    for row, (name, at, symbol, colour) in enumerate(marks, start=1):
        below = -0.07 * row * max(top, 1.0)  # each kind of mark on a row of its own
        shown = at.notna()
        if not shown.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=at[shown], y=np.full(int(shown.sum()), below), mode="markers",
                name=name, marker={"symbol": symbol, "size": 11, "color": colour},
                customdata=ref.loc[shown, "referral_id"].map(plot_text).to_numpy(dtype=object),
                hovertemplate="%{x|%d %b %Y}<br>%{customdata}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="date",
        yaxis_title="harm (CHI days)", legend_title_text="perpetrator / mark",
    )  # fmt: skip
    return fig
