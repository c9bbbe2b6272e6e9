"""The MARAC meeting list: what a chair brings to the next meeting.

For a meeting date and the previous meeting's date (by default the review
interval before, ``settings.cycle.review_interval_days``), from the history
as known on the meeting day (incidents and referrals up to it):

1. **Cases with a SafeLives repeat since the last meeting.** A referred
   pair (perpetrator, victim) with at least one repeat incident
   (:func:`adapt.rules.safelives.repeat_incidents`, the one rule, with the
   repeat window of the settings in force) on a day after the previous
   meeting and up to the meeting day. One row per pair: how many repeats, the
   first and last, the most serious offence (by the harm table in force), the
   referral they repeat, when its flag went on, how many the flag missed,
   and whether the pair has been referred again since the first of them.
2. **Incidents a late flag missed.** A repeat incident since the last
   meeting on whose day the referral's MARAC flag was not yet on the police
   system (put on later, or no flag date recorded): the officer attending
   could not see that the victim had been referred, so the incident met the
   repeat criterion without the system saying so. One row per incident and
   pair, with how many days after the incident the flag went on.
3. **Perpetrators linked to more than one referred victim.** A referred
   victim is the victim of any referral up to the meeting day; a perpetrator
   is linked to them when named as the perpetrator on their referral or a
   suspect in an incident against them. Listed: perpetrators linked to two or
   more referred victims with something new since the last meeting (a
   referral of one of those victims, or an incident with them as suspect).

Everything here is a pure function of a History; the page, the export and
the printed list (:func:`meeting_list_pdf`) all read :class:`MeetingList`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings, window_words
from adapt.rules.harm import incident_harm
from adapt.rules.pairs import incident_pairs
from adapt.rules.safelives import repeat_incidents
from adapt.views.marac import (
    count_words,
    counted,
    day_words,
    days_words,
    named,
)
from adapt.views.pdf_sheet import Sheet
from adapt.views.text import offence_words

DAY = pd.Timedelta(days=1)
SECTIONS = {
    "repeats": "SafeLives repeat since the last meeting",
    "late_flags": "Incident a late flag missed",
    "serial": "Perpetrator linked to more than one referred victim",
}
REPEAT_CASE_COLUMNS = [
    "perpetrator_id", "victim_id", "repeat_incidents", "first_repeat_at", "last_repeat_at",
    "most_serious_offence", "late_flag_missed", "referral_id", "referral_date", "heard_on",
    "flagged_at", "referred_again_on",
]  # fmt: skip
LATE_FLAG_COLUMNS = [
    "incident_id", "occurred_at", "offence", "perpetrator_id", "victim_id", "referral_id",
    "referral_date", "flagged_at", "flag_days_after_incident",
]  # fmt: skip
SERIAL_COLUMNS = [
    "perpetrator_id", "referred_victims", "victim_ids", "referrals_since", "incidents_since",
    "last_referral_date", "last_incident_at",
]  # fmt: skip
PDF_ITEMS = 60  # rows per section in the printed list; the export has them all
PDF_PAGES = 12


@dataclass(frozen=True)
class MeetingList:
    meeting_date: pd.Timestamp
    since: pd.Timestamp  # the previous meeting's day: "since" means after it
    repeat_days: int  # the SafeLives repeat window the list was made with
    repeats: pd.DataFrame  # REPEAT_CASE_COLUMNS, one row per referred pair
    late_flags: pd.DataFrame  # LATE_FLAG_COLUMNS, one row per incident and pair
    serial: pd.DataFrame  # SERIAL_COLUMNS, one row per perpetrator

    def people(self) -> list[str]:
        """Everyone the list names (victims and perpetrators), each once."""
        found = [
            *self.repeats["victim_id"], *self.repeats["perpetrator_id"],
            *self.late_flags["victim_id"], *self.late_flags["perpetrator_id"],
            *self.serial["perpetrator_id"],
            *[v for ids in self.serial["victim_ids"] for v in ids],
        ]  # fmt: skip
        return list(dict.fromkeys(str(p) for p in found if p is not None and not pd.isna(p)))

    def victims(self) -> list[str]:
        """The victims the list names, for the links to their pages."""
        found = [
            *self.repeats["victim_id"], *self.late_flags["victim_id"],
            *[v for ids in self.serial["victim_ids"] for v in ids],
        ]  # fmt: skip
        return list(dict.fromkeys(str(p) for p in found if p is not None and not pd.isna(p)))

    @property
    def empty(self) -> bool:
        return not (len(self.repeats) or len(self.late_flags) or len(self.serial))


def _among(values: pd.Series, wanted: object) -> np.ndarray:
    """``values.isin(wanted)`` as a boolean array (missing: False), through
    plain object arrays: on Arrow strings pandas converts ``wanted`` one value
    at a time, seconds for the many ids of a large force."""
    found = pd.Series(values.to_numpy(dtype=object), dtype=object).isin(
        np.asarray(wanted, dtype=object)
    )
    return found.to_numpy(dtype=bool)


def previous_meeting(meeting_date: object, settings: Settings) -> pd.Timestamp:
    """The default previous meeting: one review interval before
    (``settings.cycle.review_interval_days``, four weeks by default)."""
    return pd.Timestamp(meeting_date).normalize() - settings.cycle.review_interval_days * DAY


def meeting_list(
    history: History,
    meeting_date: object,
    since: object = None,
    *,
    settings: Settings,
) -> MeetingList:
    """The meeting list for ``meeting_date`` (see the module docstring);
    ``since`` is the previous meeting's date (default :func:`previous_meeting`).
    Raises ValueError when ``since`` is not before the meeting."""
    meeting = pd.Timestamp(meeting_date).normalize()
    since_ts = previous_meeting(meeting, settings) if since is None else pd.Timestamp(since)
    since_ts = since_ts.normalize()
    if since_ts >= meeting:
        raise ValueError("the previous meeting must be before this meeting")
    repeat_days = settings.windows.marac_repeat_days

    m = history.marac
    refs = m[(m["referral_date"].dt.normalize() <= meeting).fillna(False).to_numpy(dtype=bool)]
    incidents = history.incidents
    day = incidents["occurred_at"].dt.normalize()
    known = incidents[(day <= meeting).to_numpy(dtype=bool)]
    inv = history.involvements
    # Only incidents against a referred victim can be repeats or link a perpetrator
    # to a referred victim: pair those alone.
    referred = refs["victim_person_id"].dropna().unique()
    against = (inv["role"] == "victim").fillna(False).to_numpy(dtype=bool) & _among(
        inv["person_id"], referred
    )
    ids = inv.loc[against, "incident_id"].unique()
    pairs = incident_pairs(inv[_among(inv["incident_id"], ids)])
    offences = known[["incident_id", "occurred_at", "offence", "is_crime"]]
    pairs = pairs.merge(offences, on="incident_id")
    pairs["harm"] = incident_harm(pairs, settings.harm_table).to_numpy()

    reps = repeat_incidents(pairs, refs, repeat_days)
    rep_day = reps["occurred_at"].dt.normalize()
    new = reps[((rep_day > since_ts) & (rep_day <= meeting)).to_numpy(dtype=bool)]
    new = new.rename(columns={"suspect_id": "perpetrator_id"})

    return MeetingList(
        meeting_date=meeting,
        since=since_ts,
        repeat_days=repeat_days,
        repeats=_repeat_cases(new, refs),
        late_flags=_late_flags(new),
        serial=_serial(pairs, refs, inv, known, referred, since_ts),
    )


def _repeat_cases(new: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    if not len(new):
        return _empty(REPEAT_CASE_COLUMNS)
    keys = ["perpetrator_id", "victim_id"]
    cases = new.groupby(keys, sort=False).agg(
        repeat_incidents=("incident_id", "nunique"),
        first_repeat_at=("occurred_at", "min"),
        last_repeat_at=("occurred_at", "max"),
        late_flag_missed=("late_flag", "sum"),
    )
    # the most serious repeat (most harm; the latest of equals) and the latest referral repeated
    worst = new.sort_values(["harm", "occurred_at"], kind="stable").groupby(keys).tail(1)
    cases = cases.join(worst.set_index(keys)["offence"].rename("most_serious_offence"))
    latest = new.sort_values(["referral_date", "occurred_at"], kind="stable").groupby(keys).tail(1)
    cases = cases.join(latest.set_index(keys)[["referral_id", "referral_date", "flagged_at"]])
    heard = refs.set_index("referral_id")["meeting_date"]
    cases["heard_on"] = cases["referral_id"].map(heard).astype("datetime64[ns]")
    cases = cases.reset_index()
    # referred again: the pair's first referral on or after the first repeat's day
    again = refs.rename(
        columns={"perpetrator_person_id": "perpetrator_id", "victim_person_id": "victim_id"}
    ).merge(cases[[*keys, "first_repeat_at"]], on=keys)
    again = again[again["referral_date"] >= again["first_repeat_at"].dt.normalize()]
    first_again = again.groupby(keys)["referral_date"].min().rename("referred_again_on")
    cases = cases.merge(first_again.reset_index(), on=keys, how="left")
    cases["late_flag_missed"] = cases["late_flag_missed"].astype(int)
    cases = cases.sort_values(["last_repeat_at", "victim_id"], ascending=[False, True])
    return cases[REPEAT_CASE_COLUMNS].reset_index(drop=True)


def _late_flags(new: pd.DataFrame) -> pd.DataFrame:
    late = new[new["late_flag"].to_numpy(dtype=bool)]
    if not len(late):
        return _empty(LATE_FLAG_COLUMNS)
    late = late.assign(
        flag_days_after_incident=(late["flagged_at"] - late["occurred_at"].dt.normalize()).dt.days
    )
    late = late.sort_values(["occurred_at", "incident_id"], ascending=[False, True])
    return late[LATE_FLAG_COLUMNS].reset_index(drop=True)


def _serial(
    pairs: pd.DataFrame,
    refs: pd.DataFrame,
    inv: pd.DataFrame,
    known: pd.DataFrame,
    referred: object,
    since: pd.Timestamp,
) -> pd.DataFrame:
    named_on = refs.dropna(subset=["perpetrator_person_id"])
    links = pd.concat(
        [
            named_on[["perpetrator_person_id", "victim_person_id"]].set_axis(
                ["perpetrator_id", "victim_id"], axis=1
            ),
            pairs.loc[_among(pairs["victim_id"], referred), ["suspect_id", "victim_id"]].set_axis(
                ["perpetrator_id", "victim_id"], axis=1
            ),
        ]
    )
    links = links.astype("string").drop_duplicates()
    counts = links.groupby("perpetrator_id")["victim_id"].nunique()
    multi = links[_among(links["perpetrator_id"], counts[counts > 1].index)]
    if not len(multi):
        return _empty(SERIAL_COLUMNS)
    # referrals of their referred victims, and their incidents as suspect
    victim_refs = multi.merge(
        refs[["victim_person_id", "referral_id", "referral_date"]].astype(
            {"victim_person_id": "string"}
        ),
        left_on="victim_id",
        right_on="victim_person_id",
    )
    victim_refs = victim_refs.assign(new=victim_refs["referral_date"].dt.normalize() > since)
    ref_stats = victim_refs.groupby("perpetrator_id").agg(
        referrals_since=("new", "sum"), last_referral_date=("referral_date", "max")
    )
    suspects = multi["perpetrator_id"]
    theirs = (inv["role"] == "suspect").fillna(False).to_numpy(dtype=bool) & _among(
        inv["person_id"], suspects
    )
    as_suspect = inv.loc[theirs, ["incident_id", "person_id"]]
    as_suspect = as_suspect.drop_duplicates().merge(known[["incident_id", "occurred_at"]])
    as_suspect = as_suspect.assign(new=as_suspect["occurred_at"].dt.normalize() > since)
    inc_stats = as_suspect.groupby("person_id").agg(
        incidents_since=("new", "sum"), last_incident_at=("occurred_at", "max")
    )
    inc_stats.index = inc_stats.index.astype("string")
    victims = multi.sort_values("victim_id").groupby("perpetrator_id")["victim_id"].agg(list)
    out = (
        pd.DataFrame({"referred_victims": victims.map(len), "victim_ids": victims})
        .join(ref_stats)
        .join(inc_stats)
    )
    out[["referrals_since", "incidents_since"]] = (
        out[["referrals_since", "incidents_since"]].fillna(0).astype(int)
    )
    out = out[(out["referrals_since"] > 0) | (out["incidents_since"] > 0)]
    out = out.rename_axis("perpetrator_id").reset_index()
    out = out.sort_values(
        ["referred_victims", "incidents_since", "perpetrator_id"], ascending=[False, False, True]
    )
    return out[SERIAL_COLUMNS].reset_index(drop=True)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


# ------------------------------------------------------------------ words
def repeats_table(ml: MeetingList, names: dict[str, str]) -> pd.DataFrame:
    """Section 1 as the page shows it."""
    r = ml.repeats
    return pd.DataFrame(
        {
            "Victim": named(r["victim_id"], names),
            "Perpetrator": named(r["perpetrator_id"], names),
            "Repeats since the last meeting": count_words(r["repeat_incidents"]),
            "First repeat": days_words(r["first_repeat_at"]),
            "Last repeat": days_words(r["last_repeat_at"]),
            "Most serious": offence_words(r["most_serious_offence"]),
            "Missed by a late flag": count_words(r["late_flag_missed"]),
            "Referral repeated": r["referral_id"].astype(object),
            "Referred on": days_words(r["referral_date"]),
            "Heard on": days_words(r["heard_on"]),
            "Flag on": days_words(r["flagged_at"]),
            "Referred again": days_words(r["referred_again_on"], "not yet"),
        }
    )


def late_flags_table(ml: MeetingList, names: dict[str, str]) -> pd.DataFrame:
    """Section 2 as the page shows it."""
    f = ml.late_flags
    return pd.DataFrame(
        {
            "Date": days_words(f["occurred_at"]),
            "Incident": f["incident_id"].astype(object),
            "Offence": offence_words(f["offence"]),
            "Victim": named(f["victim_id"], names),
            "Perpetrator": named(f["perpetrator_id"], names),
            "Referral": f["referral_id"].astype(object),
            "Referred on": days_words(f["referral_date"]),
            "Flag on": days_words(f["flagged_at"]),
            "Flag on, days after the incident": count_words(f["flag_days_after_incident"]),
        }
    )


def serial_table(ml: MeetingList, names: dict[str, str]) -> pd.DataFrame:
    """Section 3 as the page shows it."""
    s = ml.serial
    return pd.DataFrame(
        {
            "Perpetrator": named(s["perpetrator_id"], names),
            "Referred victims": count_words(s["referred_victims"]),
            "Victims": s["victim_ids"].map(lambda ids: "; ".join(names.get(v, v) for v in ids)),
            "Referrals since the last meeting": count_words(s["referrals_since"]),
            "Incidents since the last meeting": count_words(s["incidents_since"]),
            "Last referral": days_words(s["last_referral_date"]),
            "Last incident": days_words(s["last_incident_at"]),
        }
    ).astype(object)


def export_table(ml: MeetingList, names: dict[str, str]) -> pd.DataFrame:
    """The whole list as one table for CSV/XLSX: one row per case, incident
    or perpetrator, its section in words first; dates stay dates."""
    name = names.get
    r, f, s = ml.repeats, ml.late_flags, ml.serial
    parts = [
        pd.DataFrame(
            {
                "section": SECTIONS["repeats"],
                "victim_id": r["victim_id"], "perpetrator_id": r["perpetrator_id"],
                "repeat_incidents": r["repeat_incidents"], "first_repeat": r["first_repeat_at"],
                "last_repeat": r["last_repeat_at"],
                "offence": offence_words(r["most_serious_offence"]),
                "missed_by_a_late_flag": r["late_flag_missed"], "referral_id": r["referral_id"],
                "referred_on": r["referral_date"], "heard_on": r["heard_on"],
                "flag_on": r["flagged_at"], "referred_again_on": r["referred_again_on"],
            }
        ),
        pd.DataFrame(
            {
                "section": SECTIONS["late_flags"],
                "victim_id": f["victim_id"], "perpetrator_id": f["perpetrator_id"],
                "incident_id": f["incident_id"], "incident_date": f["occurred_at"],
                "offence": offence_words(f["offence"]), "referral_id": f["referral_id"],
                "referred_on": f["referral_date"], "flag_on": f["flagged_at"],
                "flag_days_after_incident": f["flag_days_after_incident"],
            }
        ),
        pd.DataFrame(
            {
                "section": SECTIONS["serial"],
                "perpetrator_id": s["perpetrator_id"],
                "referred_victims": s["referred_victims"],
                "victims": s["victim_ids"].map(lambda ids: "; ".join(name(v, v) for v in ids)),
                "referrals_since_last_meeting": s["referrals_since"],
                "incidents_since_last_meeting": s["incidents_since"],
                "last_referral": s["last_referral_date"], "last_incident": s["last_incident_at"],
            }
        ),
    ]  # fmt: skip
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if not ml.empty else None
    columns = ["section", "victim", "victim_id", "perpetrator", "perpetrator_id", "incident_id",
               "incident_date", "offence", "repeat_incidents", "first_repeat", "last_repeat",
               "missed_by_a_late_flag", "referral_id", "referred_on", "heard_on", "flag_on",
               "flag_days_after_incident", "referred_again_on", "referred_victims", "victims",
               "referrals_since_last_meeting", "incidents_since_last_meeting", "last_referral",
               "last_incident"]  # fmt: skip
    if out is None:
        return pd.DataFrame(columns=columns)
    out["victim"] = out["victim_id"].map(lambda p: _bare_name(names, p), na_action="ignore")
    out["perpetrator"] = out["perpetrator_id"].map(lambda p: _bare_name(names, p))
    out = out.reindex(columns=columns)
    for col in ("first_repeat", "last_repeat", "incident_date", "referred_on", "heard_on",
                "flag_on", "referred_again_on", "last_referral", "last_incident"):  # fmt: skip
        out[col] = pd.to_datetime(out[col]).dt.normalize()
    for col in ("repeat_incidents", "missed_by_a_late_flag", "flag_days_after_incident",
                "referred_victims", "referrals_since_last_meeting",
                "incidents_since_last_meeting"):  # fmt: skip
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    return out


def _bare_name(names: dict[str, str], person_id: object) -> str:
    """The name of a ``"Name (id)"`` label, without the id (the export has an id column)."""
    label = names.get(str(person_id), "")
    suffix = f" ({person_id})"
    return label[: -len(suffix)] if label.endswith(suffix) else label


def summary_words(ml: MeetingList) -> str:
    """One sentence saying what the list holds and for which dates."""
    return (
        f"Meeting on {day_words(ml.meeting_date)}; since the last meeting on "
        f"{day_words(ml.since)}: {counted(len(ml.repeats), 'case')} with a SafeLives repeat, "
        f"{counted(len(ml.late_flags), 'incident')} a late flag missed, "
        f"{counted(len(ml.serial), 'perpetrator')} linked to more than one referred victim."
    )


# -------------------------------------------------------------------- PDF
def meeting_list_pdf(
    ml: MeetingList,
    names: dict[str, str],
    *,
    generated_by: str,
    generated_at: datetime,
    purpose: str,
    recipient: str,
    marking: str,
) -> bytes:
    """The meeting list to print: the three sections, each row one wrapped
    line; a section longer than :data:`PDF_ITEMS` rows (or a list longer than
    :data:`PDF_PAGES` pages) says how many more there are. The footer of
    every page carries ``marking`` (``governance.protective_marking``)."""
    sheet = Sheet(
        f"Generated by {generated_by} at {generated_at:%d/%m/%Y %H:%M} — {marking}",
        where="all of them are in the CSV or XLSX export",
        max_pages=PDF_PAGES,
    )
    name: Callable[[object], str] = lambda p: names.get(str(p), str(p))  # noqa: E731
    sheet.line("MARAC meeting list", 14, "B", 8)
    sheet.line(summary_words(ml))
    sheet.line(f"Purpose: {purpose}    Recipient: {recipient}")
    sheet.line(
        f"A SafeLives repeat is an incident between a referred pair within "
        f"{window_words(ml.repeat_days)} ({ml.repeat_days} days) of the pair's last referral. "
        "A late flag: the referral's MARAC flag was not on the police system by the day of "
        "the incident."
    )
    worst_words = offence_words(ml.repeats["most_serious_offence"])
    late_words = offence_words(ml.late_flags["offence"])
    sections: list[tuple[str, list[str], str]] = [
        (
            f"Cases with a SafeLives repeat since the last meeting ({len(ml.repeats)})",
            [
                f"{name(r.victim_id)} — perpetrator {name(r.perpetrator_id)}: "
                f"{counted(r.repeat_incidents, 'repeat')} {day_words(r.first_repeat_at)} to "
                f"{day_words(r.last_repeat_at)}, most serious {worst}; repeats "
                f"{r.referral_id} of {day_words(r.referral_date)}, flag on "
                f"{day_words(r.flagged_at)}; {r.late_flag_missed} missed by a late flag; "
                f"referred again: {day_words(r.referred_again_on, 'not yet')}"
                for r, worst in zip(ml.repeats.itertuples(), worst_words, strict=True)
            ],
            "case",
        ),
        (
            f"Incidents a late flag missed ({len(ml.late_flags)})",
            [
                f"{day_words(f.occurred_at)} {f.incident_id}: {what} — {name(f.victim_id)}, "
                f"perpetrator {name(f.perpetrator_id)}; referral {f.referral_id} of "
                f"{day_words(f.referral_date)}; flag on {day_words(f.flagged_at)}"
                + (f" ({int(f.flag_days_after_incident)} days after the incident)"
                   if pd.notna(f.flag_days_after_incident) else "")
                for f, what in zip(ml.late_flags.itertuples(), late_words, strict=True)
            ],
            "incident",
        ),
        (
            f"Perpetrators linked to more than one referred victim ({len(ml.serial)})",
            [
                f"{name(s.perpetrator_id)}: {s.referred_victims} referred victims "
                f"({'; '.join(name(v) for v in s.victim_ids)}); since the last meeting "
                f"{counted(s.referrals_since, 'referral')} of them and "
                f"{counted(s.incidents_since, 'incident')}; "
                f"last incident {day_words(s.last_incident_at)}"
                for s in ml.serial.itertuples()
            ],
            "perpetrator",
        ),
    ]  # fmt: skip
    for n, (title, items, what) in enumerate(sections):
        sheet.gap(2)
        if not sheet.line(title, 11, "B", 6, count=None):
            for _, rest, rest_what in sections[n:]:
                sheet.left_out(len(rest), rest_what)
            break
        if not items:
            sheet.line("Nothing since the last meeting.", indent=3.0)
        sheet.listing(items, limit=PDF_ITEMS, what=what)
    return sheet.output()
