"""Per-person features as of a date, from a resolved :class:`History`.

Everything is computed from records dated up to the end of the as-of date and
nothing after it: incidents are cut at the date, a MARAC referral counts only
once received, a flag only once put on, a management period only if it had
started. The protected columns of the history are never read.

One row per person who was a suspect on at least one incident up to the date.
The columns (and what each means) are listed in :data:`FEATURES`; every step
is a vectorised pandas operation over all people at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from adapt.core.dates import DAY, cutoff_of
from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.rules.counter import apply_overrides, decide_roles
from adapt.rules.harm import incident_harm, is_serious_harm
from adapt.rules.pairs import SUSPECT, VICTIM, pairs_of, role_rows
from adapt.rules.safelives import repeat_incidents

PARTNER_RELATIONSHIPS = ("intimate_partner", "ex_partner")

# name -> meaning; the order is the order of the output columns.
FEATURES: dict[str, str] = {
    "attendances_window": "incidents as suspect in the window (crimes and non-crimes)",
    "crimes_window": "of which recorded as crimes",
    "non_crimes_window": "of which non-crime domestic incidents",
    "harm_window": "crime harm (CHI days) of those incidents",
    "max_harm_window": "harm of the most harmful incident in the window",
    "incidents_total": "incidents as suspect up to the date, any time (lifetime attendances)",
    "first_incident_at": "first incident as suspect",
    "last_incident_at": "last incident as suspect",
    "days_since_last": "days from the last incident's date as suspect to the as-of date",
    "attendances_short": "incidents as suspect in the short window (default 90 days)",
    "harm_short": "crime harm (CHI days) of those incidents",
    "attendances_long": "incidents as suspect in the long window (default 3 years)",
    "harm_long": "crime harm (CHI days) of those incidents",
    "harm_total": "crime harm (CHI days) of every incident as suspect up to the date, any time",
    "max_harm_total": "harm of the most harmful incident as suspect up to the date, any time",
    "serious_incidents_total": (
        "serious incidents as suspect (harm at or above serious_history.threshold_days,"
        " default 365 CHI days) up to the date, any time"
    ),
    "serious_incidents_window": "of which in the window",
    "last_serious_at": "last serious incident as suspect",
    "days_since_last_serious": (
        "days from the last serious incident's date to the as-of date (-1: none on record)"
    ),
    "attendances_trend": (
        "(attendances in the window + 0.5) / (attendances in the long window's span before the"
        " window, per window length, + 0.5): by default the last 12 months against the yearly"
        " average of the 3 years before; above 1 more often than before"
    ),
    "harm_trend": (
        "(harm in the window + 1) / (harm in the long window's span before the window, per"
        " window length, + 1): the same comparison for harm"
    ),
    "recent_half": "incidents in the last half-window (default 6 months)",
    "prior_half": "incidents in the half-window before it",
    "frequency_rate_ratio": "(recent + 0.5) / (prior + 0.5)",
    "frequency_p_value": "one-sided conditional binomial test that the recent rate is higher",
    "frequency_escalating": "rate ratio above 1 and significant at the set level",
    "frequency_deescalating": "the same test the other way",
    "severity_recent": "mean harm per incident in the last half-window",
    "severity_prior": "mean harm per incident in the half-window before",
    "severity_ratio": (
        "(severity_recent + 1) / (severity_prior + 1), where both halves have incidents"
    ),
    "severity_escalating": "severity ratio at or above the set ratio",
    "victims_serial_window": "distinct victims in the serial window (default 3 years)",
    "incidents_serial_window": "incidents as suspect in the serial window",
    "serial": "more than one incident against two or more victims in the serial window (MATAC)",
    "victims_window": "distinct victims in the window",
    "new_victims_window": "victims first seen with this person in the window",
    "victims_total": "distinct victims up to the date, any time (lifetime)",
    "max_incidents_one_victim_window": "most incidents against one victim in the window",
    "repeat_victims_window": "victims with two or more incidents in the window",
    "strangulation_window": "incidents in the window with strangulation recorded",
    "weapon_window": "incidents in the window with a weapon",
    "threats_to_kill_window": "incidents in the window recorded as threats to kill",
    "breach_window": "breaches of bail or of an order in the window",
    "children_present_window": "incidents in the window with children present",
    "dash_high_window": "incidents in the window graded DASH high",
    "marac_referrals_total": "MARAC referrals naming the person as perpetrator, up to the date",
    "marac_referrals_window": "of which received in the window",
    "marac_repeats_total": (
        "SafeLives repeats: incidents against a referred victim within the repeat"
        " window (windows.marac_repeat_days) of the pair's last referral"
    ),
    "marac_repeats_window": "of which in the window",
    "late_flag_repeats_total": (
        "repeats before the MARAC flag was on the system (a late flag missed them)"
    ),
    "last_marac_repeat_at": "date of the latest repeat",
    "counter_allegation": (
        "the person and a victim of theirs have each been recorded as the other's suspect"
    ),
    "counter_role": (
        "predominant, secondary, or unclear (a tie) in every such pair: an officer's label,"
        " else the evidence (adapt.rules.counter: other partners as suspect or victim, harm,"
        " injuries, DASH, who was the suspect first, incidents)"
    ),
    "counter_parties": "the other person(s) of such pairs",
    "counter_excluded_incidents": (
        "incidents left out because the person was the secondary"
        " party against the predominant aggressor"
    ),
    "new_partner_alert": (
        "a person with earlier victims seen with a new partner victim within the alert window"
    ),
    "new_partner_first_at": "first incident with the newest partner victim",
    "managed_status": (
        "management status(es) in force on the date (iom, mappa, in_custody, deceased)"
    ),
}

_SUSPECT_COLUMNS = [
    "incident_id", "person_id", "occurred_at", "harm", "offence", "is_crime", "injury",
    "weapon", "children_present", "dash_risk",
]  # fmt: skip


def _incidents_until(history: History, cutoff: pd.Timestamp, harm_table: str) -> pd.DataFrame:
    inc = history.incidents
    inc = inc.loc[inc["occurred_at"] < cutoff, [
        "incident_id", "occurred_at", "offence", "is_crime", "injury", "weapon",
        "children_present", "dash_risk",
    ]].copy()  # fmt: skip
    inc["harm"] = incident_harm(inc, harm_table)
    return inc


def _roles(history: History, inc: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The suspects (with the relationship on their row) and the victims of the
    incidents up to the date (:func:`adapt.rules.pairs.role_rows`)."""
    inv = history.involvements
    inv = inv.loc[inv["incident_id"].isin(inc["incident_id"]).fillna(False).to_numpy(dtype=bool),
                  ["incident_id", "role", "person_id", "relationship"]]  # fmt: skip
    return role_rows(inv, SUSPECT, ["relationship"]), role_rows(inv, VICTIM)


def _dyads(sus: pd.DataFrame, vic: pd.DataFrame, inc: pd.DataFrame) -> pd.DataFrame:
    """One row per (incident, suspect, victim) (:func:`adapt.rules.pairs.pairs_of`:
    no self-pairs), the suspect as ``person_id``, with the incident's date,
    harm, injury and DASH grading."""
    d = pairs_of(sus, vic).rename(columns={"suspect_id": "person_id"})
    cols = ["incident_id", "occurred_at", "harm", "injury", "dash_risk"]
    return d.merge(inc[cols], on="incident_id")


def _counter_allegations(
    dyads: pd.DataFrame, cutoff: pd.Timestamp, days: int, overrides: pd.DataFrame
) -> pd.DataFrame:
    """Ordered pairs (person, other) where each was the other's suspect in the
    window, with the harm of the person's incidents against the other in the
    window, the votes of the evidence and who is the predominant aggressor
    (:func:`adapt.rules.counter.decide_roles` over the whole history up to the
    date; an officer's label wins, :func:`adapt.rules.counter.apply_overrides`)."""
    d = dyads[dyads["occurred_at"] >= cutoff - days * DAY]
    per = d.groupby(["person_id", "victim_id"], sort=False).agg(harm=("harm", "sum"))
    per = per.reset_index()
    rev = per[["person_id", "victim_id"]].rename(
        columns={"person_id": "victim_id", "victim_id": "person_id"}
    )
    pairs = per.merge(rev, on=["person_id", "victim_id"])
    decided = decide_roles(pairs, dyads).drop(columns=["person_id", "victim_id"])
    pairs = pd.concat([pairs.reset_index(drop=True), decided], axis=1)
    return apply_overrides(pairs, overrides)


def counter_allegation_pairs(history: History, as_of: object, settings: Settings) -> pd.DataFrame:
    """The counter-allegation pairs as of ``as_of``: one row per ordered pair
    (person_id, victim_id) with the person's role (predominant, secondary,
    unclear), the evidence's votes, ``overridden`` (an officer's label) and the
    harm of the person's incidents against the other in the window."""
    cutoff = cutoff_of(as_of)
    inc = _incidents_until(history, cutoff, settings.harm_table)
    sus, vic = _roles(history, inc)
    days = settings.windows.counter_allegation_days
    return _counter_allegations(_dyads(sus, vic, inc), cutoff, days, history.counter_overrides)


def _window_counts(si: pd.DataFrame, cutoff: pd.Timestamp, s: Settings) -> pd.DataFrame:
    w = s.windows
    start = cutoff - w.window_days * DAY
    half = w.escalation_half_days * DAY
    in_w = si["occurred_at"] >= start
    in_short = si["occurred_at"] >= cutoff - w.short_days * DAY
    in_long = si["occurred_at"] >= cutoff - w.long_days * DAY
    # The long window's span just before the main window: the trend's baseline.
    before = (si["occurred_at"] < start) & (si["occurred_at"] >= start - w.long_days * DAY)
    serious = is_serious_harm(si["harm"], s.serious_history.threshold_days)
    recent = si["occurred_at"] >= cutoff - half
    prior = (si["occurred_at"] >= cutoff - 2 * half) & ~recent
    flags = pd.DataFrame(
        {
            "person_id": si["person_id"],
            "attendances_window": in_w,
            "crimes_window": in_w & si["is_crime"],
            "non_crimes_window": in_w & ~si["is_crime"],
            "harm_window": si["harm"].where(in_w, 0.0),
            "max_harm_window": si["harm"].where(in_w, 0.0),
            "attendances_short": in_short,
            "harm_short": si["harm"].where(in_short, 0.0),
            "attendances_long": in_long,
            "harm_long": si["harm"].where(in_long, 0.0),
            "attendances_before_window": before,
            "harm_before_window": si["harm"].where(before, 0.0),
            "harm_total": si["harm"],
            "max_harm_total": si["harm"],
            "serious_incidents_total": serious,
            "serious_incidents_window": in_w & serious,
            "last_serious_at": si["occurred_at"].where(serious),
            "recent_half": recent,
            "prior_half": prior,
            "harm_recent": si["harm"].where(recent, 0.0),
            "harm_prior": si["harm"].where(prior, 0.0),
            "strangulation_window": in_w & (si["offence"] == "strangulation"),
            "weapon_window": in_w & si["weapon"].fillna(False).astype(bool),
            "threats_to_kill_window": in_w & (si["offence"] == "threats_to_kill"),
            "breach_window": in_w & si["offence"].isin(["breach_of_bail", "breach_of_order"]),
            "children_present_window": in_w & si["children_present"].fillna(False).astype(bool),
            "dash_high_window": in_w & (si["dash_risk"] == "high"),
        }
    )
    agg = {c: "sum" for c in flags.columns if c != "person_id"}
    agg["max_harm_window"] = agg["max_harm_total"] = agg["last_serious_at"] = "max"
    g = flags.groupby("person_id", sort=False).agg(agg)
    dates = si.groupby("person_id", sort=False)["occurred_at"].agg(["min", "max", "size"])
    g["incidents_total"] = dates["size"]
    g["first_incident_at"] = dates["min"]
    g["last_incident_at"] = dates["max"]
    return g


def _escalation(g: pd.DataFrame, cutoff: pd.Timestamp, s: Settings) -> pd.DataFrame:
    e = s.escalation
    r = g["recent_half"].to_numpy(dtype=float)
    p = g["prior_half"].to_numpy(dtype=float)
    n = r + p
    out = pd.DataFrame(index=g.index)
    out["frequency_rate_ratio"] = (r + 0.5) / (p + 0.5)
    # Under equal rates the recent count given the total is Binomial(n, 1/2).
    p_up = binom.sf(r - 1, n, 0.5)
    p_down = binom.cdf(r, n, 0.5)
    out["frequency_p_value"] = np.where(n > 0, p_up, 1.0)
    enough = n >= e.frequency_min_incidents
    out["frequency_escalating"] = enough & (r > p) & (p_up <= e.frequency_alpha)
    out["frequency_deescalating"] = enough & (r < p) & (p_down <= e.frequency_alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        sev_r = np.where(r > 0, g["harm_recent"].to_numpy(dtype=float) / r, np.nan)
        sev_p = np.where(p > 0, g["harm_prior"].to_numpy(dtype=float) / p, np.nan)
    out["severity_recent"] = sev_r
    out["severity_prior"] = sev_p
    out["severity_ratio"] = (sev_r + 1.0) / (sev_p + 1.0)
    out["severity_escalating"] = (
        np.nan_to_num(out["severity_ratio"].to_numpy(), nan=0.0) >= e.severity_ratio
    )
    # Whole days from the last incident's date to the as-of date (same day: 0).
    last_day = g["last_incident_at"].dt.normalize()
    out["days_since_last"] = (((cutoff - DAY) - last_day) / DAY).astype("int64")
    return out


def _whole_history(feats: pd.DataFrame, cutoff: pd.Timestamp, s: Settings) -> pd.DataFrame:
    """Days since the last serious incident (-1: none) and the trends of the
    main window against the long window's span before it, per window length."""
    w = s.windows
    out = pd.DataFrame(index=feats.index)
    last = feats["last_serious_at"].dt.normalize()
    days = ((cutoff - DAY) - last) / DAY
    out["days_since_last_serious"] = days.fillna(-1).astype("int64")
    per_window = w.window_days / w.long_days
    before = feats["attendances_before_window"].fillna(0).astype(float) * per_window
    out["attendances_trend"] = (feats["attendances_window"].fillna(0) + 0.5) / (before + 0.5)
    harm_before = feats["harm_before_window"].fillna(0.0).astype(float) * per_window
    out["harm_trend"] = (feats["harm_window"].fillna(0.0) + 1.0) / (harm_before + 1.0)
    return out


def _victims(dyads: pd.DataFrame, cutoff: pd.Timestamp, s: Settings) -> pd.DataFrame:
    w = s.windows
    start = cutoff - w.window_days * DAY
    serial_start = cutoff - w.serial_days * DAY
    first_with = dyads.groupby(["person_id", "victim_id"], sort=False)["occurred_at"].transform(
        "min"
    )
    d = dyads.assign(
        in_w=dyads["occurred_at"] >= start,
        in_serial=dyads["occurred_at"] >= serial_start,
        new_w=first_with >= start,
    )
    serial = d[d["in_serial"]]
    out = pd.DataFrame(
        {
            "victims_serial_window": serial.groupby("person_id")["victim_id"].nunique(),
            "incidents_serial_window": serial.groupby("person_id")["incident_id"].nunique(),
            "victims_total": d.groupby("person_id")["victim_id"].nunique(),
        }
    )
    w12 = d[d["in_w"]]
    per_victim = w12.groupby(["person_id", "victim_id"])["incident_id"].nunique()
    out["victims_window"] = per_victim.groupby(level=0).size()
    out["new_victims_window"] = w12[w12["new_w"]].groupby("person_id")["victim_id"].nunique()
    out["max_incidents_one_victim_window"] = per_victim.groupby(level=0).max()
    out["repeat_victims_window"] = (per_victim >= 2).groupby(level=0).sum()
    return out


def _new_partner(dyads: pd.DataFrame, cutoff: pd.Timestamp, s: Settings) -> pd.DataFrame:
    """Alert when a person with an earlier victim is seen with a new partner
    victim (relationship partner or ex-partner, or not recorded) recently."""
    partner = dyads["relationship"].isin(PARTNER_RELATIONSHIPS) | dyads["relationship"].isna()
    firsts = (
        dyads.groupby(["person_id", "victim_id"], sort=False)["occurred_at"]
        .min()
        .rename("first_at")
    )
    firsts = firsts.reset_index()
    is_partner = dyads[partner][["person_id", "victim_id"]].drop_duplicates().assign(partner=True)
    firsts = firsts.merge(is_partner, on=["person_id", "victim_id"], how="left")
    earliest = firsts.groupby("person_id")["first_at"].transform("min")
    recent = firsts["first_at"] >= cutoff - s.windows.new_partner_alert_days * DAY
    new = firsts[
        firsts["partner"].fillna(False).astype(bool) & recent & (firsts["first_at"] > earliest)
    ]
    out = new.groupby("person_id")["first_at"].max().rename("new_partner_first_at").to_frame()
    out["new_partner_alert"] = True
    return out


def _marac(
    history: History, dyads: pd.DataFrame, cutoff: pd.Timestamp, s: Settings
) -> pd.DataFrame:
    m = history.marac
    m = m[
        (m["referral_date"] < cutoff)
        & m["perpetrator_person_id"].notna()
        & m["victim_person_id"].notna()
    ]
    start = cutoff - s.windows.window_days * DAY
    out = pd.DataFrame(
        {
            "marac_referrals_total": m.groupby("perpetrator_person_id")["referral_id"].nunique(),
            "marac_referrals_window": m[m["referral_date"] >= start]
            .groupby("perpetrator_person_id")["referral_id"]
            .nunique(),
        }
    )
    out.index.name = "person_id"
    columns = [
        "marac_referrals_total", "marac_referrals_window", "marac_repeats_total",
        "marac_repeats_window", "late_flag_repeats_total", "last_marac_repeat_at",
    ]  # fmt: skip
    if not len(m) or not len(dyads):
        return out.reindex(columns=columns)
    # The repeat rule (adapt.rules.safelives), with the window in force.
    rep = repeat_incidents(
        dyads[["incident_id", "person_id", "victim_id", "occurred_at"]].rename(
            columns={"person_id": "suspect_id"}
        ),
        m,
        s.windows.marac_repeat_days,
    ).rename(columns={"suspect_id": "person_id"})
    if not len(rep):
        return out.reindex(columns=columns)
    late = rep["late_flag"]
    out = out.join(
        pd.DataFrame(
            {
                "marac_repeats_total": rep.groupby("person_id")["incident_id"].nunique(),
                "marac_repeats_window": rep[rep["occurred_at"] >= start]
                .groupby("person_id")["incident_id"]
                .nunique(),
                "late_flag_repeats_total": rep[late].groupby("person_id")["incident_id"].nunique(),
                "last_marac_repeat_at": rep.groupby("person_id")["occurred_at"].max(),
            }
        ),
        how="outer",
    )
    return out


def _managed(history: History, cutoff: pd.Timestamp) -> pd.Series:
    g = history.management
    day = cutoff - DAY
    live = g[
        g["person_id"].notna()
        & (g["from_date"] <= day)
        & (g["to_date"].isna() | (g["to_date"] >= day))
    ]
    statuses = live[["person_id", "status"]].drop_duplicates().sort_values(["person_id", "status"])
    return statuses.groupby("person_id")["status"].agg(";".join).rename("managed_status")


def compute_features(history: History, as_of: object, settings: Settings) -> pd.DataFrame:
    """Features of every person who was a suspect up to the end of ``as_of``.

    Returns a frame indexed by ``person_id`` with the columns of
    :data:`FEATURES`, sorted by person id.
    """
    cutoff = cutoff_of(as_of)
    inc = _incidents_until(history, cutoff, settings.harm_table)
    sus, vic = _roles(history, inc)
    dyads = _dyads(sus, vic, inc)
    people = pd.Index(sus["person_id"].unique(), name="person_id").sort_values()

    # Counter-allegations: the secondary party's incidents against the
    # predominant aggressor do not count towards the secondary party's features.
    s_days = settings.windows.counter_allegation_days
    pairs = _counter_allegations(dyads, cutoff, s_days, history.counter_overrides)
    secondary = pairs.loc[pairs["role"] == "secondary", ["person_id", "victim_id"]].assign(
        excluded=True
    )
    recent = dyads["occurred_at"] >= cutoff - s_days * DAY
    dyads = dyads.merge(secondary, on=["person_id", "victim_id"], how="left")
    dyads["excluded"] = dyads["excluded"].fillna(False).astype(bool) & recent.to_numpy()
    kept_incidents = dyads.loc[~dyads["excluded"], ["incident_id", "person_id"]].drop_duplicates()
    with_victim = dyads[["incident_id", "person_id"]].drop_duplicates()
    no_victim = sus.merge(with_victim, on=["incident_id", "person_id"], how="left", indicator=True)
    no_victim = no_victim.loc[no_victim["_merge"] == "left_only", ["incident_id", "person_id"]]
    attributed = pd.concat([kept_incidents, no_victim], ignore_index=True)
    si = attributed.merge(inc, on="incident_id")[_SUSPECT_COLUMNS]
    excluded = (
        dyads[dyads["excluded"]][["incident_id", "person_id"]].drop_duplicates()
        .merge(kept_incidents.assign(k=True), on=["incident_id", "person_id"], how="left")
    )  # fmt: skip
    excluded = excluded[excluded["k"].isna()].groupby("person_id")["incident_id"].nunique()
    kept_dyads = dyads[~dyads["excluded"]]

    counts = _window_counts(si, cutoff, settings)
    feats = pd.DataFrame(index=people)
    feats = feats.join(counts).join(_escalation(counts, cutoff, settings))
    feats = feats.join(_victims(kept_dyads, cutoff, settings))
    feats = feats.join(_marac(history, kept_dyads, cutoff, settings))
    feats = feats.join(_new_partner(kept_dyads, cutoff, settings))
    all_pred = (pairs["role"] == "predominant").groupby(pairs["person_id"]).all()
    all_sec = (pairs["role"] == "secondary").groupby(pairs["person_id"]).all()
    roles = pd.Series(
        np.select([all_pred, all_sec], ["predominant", "secondary"], "unclear"),
        index=all_pred.index,
    )
    feats["counter_allegation"] = feats.index.isin(pairs["person_id"])
    feats["counter_role"] = roles.reindex(feats.index).astype("string")
    parties = pairs.sort_values("victim_id").groupby("person_id")["victim_id"].agg(";".join)
    feats["counter_parties"] = parties.reindex(feats.index).astype("string")
    feats["counter_excluded_incidents"] = excluded.reindex(feats.index)
    feats["managed_status"] = _managed(history, cutoff).reindex(feats.index).astype("string")
    feats = feats.join(_whole_history(feats, cutoff, settings))

    for col in (
        "new_partner_alert",
        "frequency_escalating",
        "frequency_deescalating",
        "severity_escalating",
    ):
        feats[col] = feats[col].astype("boolean").fillna(False).astype(bool)
    feats["serial"] = (feats["victims_serial_window"].fillna(0) >= 2) & (
        feats["incidents_serial_window"].fillna(0) >= 2
    )
    dates = (
        "first_incident_at",
        "last_incident_at",
        "last_marac_repeat_at",
        "new_partner_first_at",
        "last_serious_at",
    )
    harms = ("harm_window", "max_harm_window", "harm_short", "harm_long", "harm_total",
             "max_harm_total")  # fmt: skip
    floats = (*harms, "frequency_rate_ratio", "frequency_p_value", "severity_recent",
              "severity_prior", "severity_ratio", "attendances_trend", "harm_trend")  # fmt: skip
    text = ("counter_role", "counter_parties", "managed_status")
    bools = ("counter_allegation", "new_partner_alert", "serial", "frequency_escalating",
             "frequency_deescalating", "severity_escalating")  # fmt: skip
    for col in FEATURES:
        if col in dates or col in text or col in bools:
            continue
        if col in floats:
            feats[col] = feats[col].astype("float64")
            if col in harms:
                feats[col] = feats[col].fillna(0.0)
        else:
            feats[col] = feats[col].fillna(0).astype("int64")
    # A person whose every incident was excluded has no last incident.
    feats["days_since_last"] = feats["days_since_last"].where(feats["incidents_total"] > 0, -1)
    feats.attrs["as_of"] = (cutoff - DAY).date().isoformat()
    # The windows the columns were counted over, so a label can say them in words.
    feats.attrs["windows"] = settings.windows.model_dump()
    return feats[list(FEATURES)]
