"""Every window, band, weight and threshold of the features, score and cohort
rule: one settings object that round-trips to JSON, carries a name, version,
author and reason, and is validated with clear errors.

The default settings live in ``settings/default.json`` beside this module (a
file a force can copy, edit and pass with ``--settings``). Validation errors
name the setting by its path (``gravity.bands[2].points``).

Each setting is declared once, with its help text: the ``description`` of its
field says what it does, its unit and why its default (with the research the
default comes from). :func:`setting_descriptions` gives them by dotted path
for the Tuning page and the transparency record; :func:`window_words` says a
window in words ("12 months", "180 days") wherever a label names one.
"""

from __future__ import annotations

import itertools
import json
import math
from importlib import resources
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adapt.core.harm import available_harm_tables

MANAGEMENT_STATUSES = ("iom", "mappa", "in_custody", "deceased")


class SettingsError(ValueError):
    """A settings file or object is invalid; the message names each bad setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The average Gregorian month in days (365.2425 / 12).
_MONTH_DAYS = 365.2425 / 12


def window_words(days: int) -> str:
    """A window of ``days`` in the words a reader uses: whole months when the
    days are within one day of a whole number of average months (365.2425 / 12
    days each), else days. Write "in", "within" or "the last" before it.

    >>> window_words(365), window_words(730), window_words(182)
    ('12 months', '24 months', '6 months')
    >>> window_words(180), window_words(90), window_words(1095)
    ('180 days', '90 days', '36 months')
    >>> window_words(30), window_words(1)
    ('1 month', '1 day')
    """
    months = round(days / _MONTH_DAYS)
    if months >= 1 and abs(days - months * _MONTH_DAYS) <= 1:
        return f"{months} month{'' if months == 1 else 's'}"
    return f"{days} day{'' if days == 1 else 's'}"


_POINTS = "Points given in this band, before the part's weight."


class Band(_Strict):
    """A band of a part: ``points`` when the value reaches ``at_least``."""

    at_least: float = Field(
        ge=0,
        description="The value from which this band applies (the highest band reached counts).",
    )
    points: float = Field(ge=0, description=_POINTS)


class FrequencyBand(Band):
    at_least: float = Field(
        ge=0,
        description="Attendances as suspect in the window (crimes and non-crimes) from which "
        "this band applies; the highest band reached counts.",
    )


class GravityBand(Band):
    at_least: float = Field(
        ge=0,
        description="Crime harm in the window, in CHI days (days of custody from the harm "
        "table), from which this band applies; the highest band reached counts.",
    )


class RecencyBand(_Strict):
    """A recency band: ``points`` when the days since the last incident are at most
    ``at_most_days``."""

    at_most_days: int = Field(
        ge=0,
        description="Days from the last incident as suspect to the as-of date up to which "
        "(inclusive) this band applies; the first band that holds counts.",
    )
    points: float = Field(ge=0, description=_POINTS)


def _check_ascending(values: list[float], what: str) -> None:
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{what} must be strictly increasing")


class Windows(_Strict):
    """Time windows, in days, all ending at the end of the as-of date."""

    window_days: int = Field(
        365,
        ge=30,
        le=3650,
        description="The main window, in days: attendances, crimes, harm, victims, high-risk "
        "markers and MARAC referrals and repeats are counted in it, and the cohort reason "
        "names it (365 days reads 'in 12 months'). Default 365: the ADAPT cohort is people "
        "who in the past 12 months required police attendance on multiple occasions (the "
        "Leicestershire ADAPT papers), and the Met's V100 also looks back 365 days.",
    )
    escalation_half_days: int = Field(
        182,
        ge=30,
        le=730,
        description="Escalation compares the incidents of the last N days with the N days "
        "before them, in days (frequency: how many; severity: harm per incident). Default "
        "182: six months against the six before, one year in all like the main window.",
    )
    serial_days: int = Field(
        1095,
        ge=90,
        le=3650,
        description="The serial window, in days: victims and incidents counted for the serial "
        "flag and the serial part. Default 1095 (three years): Northumbria's MATAC definition "
        "of a serial perpetrator, a suspect on more than one domestic abuse record against two "
        "or more victims within the last three years.",
    )
    new_partner_alert_days: int = Field(
        90,
        ge=1,
        le=730,
        description="How recent, in days, a first incident with a new partner victim must be "
        "to raise the new-partner alert for a person who had earlier victims. Default 90 "
        "(about three months): recent enough to act at the first incident with the new "
        "partner; a project choice, not a published figure.",
    )
    marac_repeat_days: int = Field(
        365,
        ge=30,
        le=730,
        description="The MARAC repeat window, in days: an incident between the same victim and "
        "perpetrator within this many days of the pair's last referral is a repeat. Default "
        "365: the SafeLives definition (revised in 2018), any instance of abuse within 12 "
        "months of the last referral.",
    )
    counter_allegation_days: int = Field(
        1095,
        ge=30,
        le=3650,
        description="How far back, in days, two people each recorded as the other's suspect "
        "make a counter-allegation pair (the predominant aggressor is then decided by harm, "
        "injuries and incidents). Default 1095 (three years), the span of the serial window.",
    )
    short_days: int = Field(
        90,
        ge=7,
        le=365,
        description="The short window, in days: attendances and harm in the last N days "
        "(attendances_short, harm_short), to set the latest weeks beside the main window. "
        "Default 90 (about three months), the span of the new-partner alert.",
    )
    long_days: int = Field(
        1095,
        ge=365,
        le=3650,
        description="The long window, in days: attendances and harm in the last N days "
        "(attendances_long, harm_long); the trend compares the main window with the yearly "
        "average of the N days before it. Default 1095 (three years): older history still "
        "predicts harm, and three years is the serial window's span.",
    )


class Escalation(_Strict):
    """How frequency and severity escalation are tested (shown as separate signals)."""

    frequency_min_incidents: int = Field(
        3,
        ge=2,
        description="Fewest incidents across both halves before frequency escalation is "
        "tested; with fewer, one more call would look like a rise. Default 3: the MARAC "
        "referral criterion of potential escalation is commonly 3 or more incidents in 12 "
        "months.",
    )
    frequency_alpha: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="One-sided significance level (a probability) of the test that the recent "
        "rate is higher: under equal rates the recent count given the total is binomial with "
        "p = 1/2 (conditional binomial test). Default 0.1: lenient, as the flag is a prompt "
        "to look, not a decision; 4 recent incidents and none before give p = 0.0625 "
        "(escalating), 3 and none before p = 0.125 (not).",
    )
    severity_ratio: float = Field(
        2.0,
        gt=1,
        description="Severity is escalating when (mean harm per incident in the recent half "
        "+ 1) / (mean harm per incident in the half before + 1), harm in CHI days, reaches "
        "this ratio. Default 2: harm per incident about doubled. Research finds frequency "
        "rises before severity and severity escalation is real but uneven, so the two are "
        "separate signals.",
    )


class RecencyPart(_Strict):
    """The recency part of the RFG (recency, frequency, gravity) score."""

    weight: float = Field(
        1.0,
        ge=0,
        description="Multiplies the recency points (0 turns the part off). Default 1.",
    )
    bands: list[RecencyBand] = Field(
        description="Points by days since the last incident: the first band whose "
        "at_most_days holds gives its points, beyond the last band 0. Default 30, 90, 180 and "
        "365 days give 10, 7, 4 and 2: time since the last incident predicted further abuse "
        "best (Turner, Brown and Medina-Ariza 2022), and recency leads the RFG matrix MATAC "
        "forces use.",
    )

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[RecencyBand]) -> list[RecencyBand]:
        _check_ascending([b.at_most_days for b in bands], "recency bands' at_most_days")
        return bands


class BandedPart(_Strict):
    """A part scored by the highest band its value reaches."""

    weight: float = Field(
        1.0, ge=0, description="Multiplies the part's points (0 turns the part off). Default 1."
    )
    bands: list[Band] = Field(description="Points by the highest band the value reaches.")

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        _check_ascending([b.at_least for b in bands], "bands' at_least")
        return bands


class FrequencyPart(BandedPart):
    """The frequency part: attendances as suspect in the window."""

    weight: float = Field(
        1.0,
        ge=0,
        description="Multiplies the frequency points (0 turns the part off). Default 1.",
    )
    bands: list[FrequencyBand] = Field(
        description="Points by attendances as suspect in the window, crimes and non-crimes "
        "(about four in ten domestic abuse incidents are not crimes): the highest band "
        "reached. Default 1, 2, 3, 5, 7 and 10 attendances give 2, 5, 8, 12, 16 and 20: three "
        "(the repeat-victim and MARAC escalation mark) already gives 8, since HMIC (2014) "
        "found a threshold of seven incidents in twelve months far too high.",
    )


class GravityPart(BandedPart):
    """The gravity part: crime harm (CHI days) in the window."""

    weight: float = Field(
        1.0,
        ge=0,
        description="Multiplies the gravity points (0 turns the part off). Default 1.",
    )
    bands: list[GravityBand] = Field(
        description="Points by crime harm in the window, in CHI days (Cambridge Crime Harm "
        "Index: days of custody per offence, from the harm table): the highest band reached. "
        "Default 1, 10, 100, 365, 1000 and 2555 days give 1, 3, 6, 10, 14 and 18, following "
        "the table's steps (common assault 10, violence with injury 365, rape 2555).",
    )


class SerialPart(_Strict):
    """The serial part: victims beyond the first in the serial window."""

    points_per_extra_victim: float = Field(
        ge=0,
        description="Points per distinct victim beyond the first in the serial window, given "
        "only when the person is serial (more than one incident against two or more victims "
        "there: the MATAC definition). Default 3: RFG matrices weigh serial offending against "
        "several victims more.",
    )
    max_points: float = Field(
        ge=0, description="Most points the serial part gives. Default 9 (four or more victims)."
    )


class EscalationPart(_Strict):
    """Points for escalation (tested as set in ``escalation``)."""

    frequency_points: float = Field(
        ge=0,
        description="Points when frequency is escalating (the recent rate significantly "
        "higher). Default 5: escalating offending is a priority item of the PPIT (Cardiff "
        "University), and frequency rises before severity does.",
    )
    severity_points: float = Field(
        ge=0,
        description="Points when severity is escalating (harm per incident rose by the set "
        "ratio). Default 4: a little under frequency, as severity escalation is real but "
        "uneven and harm per incident often falls while frequency rises.",
    )


class MarkersPart(_Strict):
    """Points per high-risk marker kind present in the window (each kind once)."""

    strangulation: float = Field(
        ge=0,
        description="Points when an incident in the window records strangulation. Default 4, "
        "the highest marker: non-fatal strangulation is a recognised risk factor for domestic "
        "homicide, an offence of its own since 2022 and a DASH question.",
    )
    weapon: float = Field(
        ge=0,
        description="Points when an incident in the window involved a weapon (a DASH "
        "question). Default 2.",
    )
    threats_to_kill: float = Field(
        ge=0,
        description="Points when an incident in the window is recorded as threats to kill (a "
        "DASH question). Default 3.",
    )
    breach: float = Field(
        ge=0,
        description="Points for a breach of bail or of a protective order in the window (a "
        "DASH question, and a SafeLives repeat counts it). Default 2.",
    )
    children_present: float = Field(
        ge=0,
        description="Points when children were present at an incident in the window. Default 1.",
    )
    dash_high: float = Field(
        ge=0,
        description="Points when an incident in the window was graded DASH high (14 or more "
        "'yes' answers, a MARAC referral criterion). Default 3: modest, since officers' DASH "
        "gradings predicted little (Turner et al. 2019; Turner, Brown and Medina-Ariza 2022).",
    )
    max_points: float = Field(
        ge=0, description="Most points the markers part gives, all kinds together. Default 10."
    )


class MaracPart(_Strict):
    """Points for MARAC referrals and SafeLives repeats in the window."""

    repeat_points: float = Field(
        ge=0,
        description="Points for a SafeLives repeat in the window (abuse of a referred victim by "
        "the same perpetrator within windows.marac_repeat_days of their last referral): the "
        "abuse went on after a multi-agency plan (about a third of MARAC cases repeat: "
        "SafeLives, 32% in the year to June 2023). Default 4.",
    )
    referral_points: float = Field(
        ge=0,
        description="Points for a MARAC referral naming the person as perpetrator in the "
        "window: a victim of theirs was assessed as high risk. Default 2.",
    )


class SeriousHarmBand(Band):
    at_least: float = Field(
        ge=0,
        description="The largest single incident's harm on record, in CHI days, from which "
        "this band applies; the highest band reached counts.",
    )


class SeriousHistory(_Strict):
    """The history-of-serious-harm part: serious incidents over the whole recorded
    history up to the date, not only the window."""

    threshold_days: float = Field(
        365,
        ge=1,
        description="An incident as suspect with at least this much harm, in CHI days, is a "
        "serious incident (serious_incidents_total, days_since_last_serious). Default 365: "
        "violence with injury, non-fatal strangulation and sexual assault and above (the "
        "harm table's steps), the incidents a history of serious harm means.",
    )
    weight: float = Field(
        1.0,
        ge=0,
        description="Multiplies the part's points, after the cap (0 turns the part off). "
        "Default 1.",
    )
    bands: list[SeriousHarmBand] = Field(
        default_factory=lambda: [
            SeriousHarmBand(at_least=365, points=4),
            SeriousHarmBand(at_least=1095, points=6),
            SeriousHarmBand(at_least=2555, points=10),
        ],
        description="Points by the largest single incident's harm on record, in CHI days, for "
        "a person with at least one serious incident: the highest band reached. Default 365, "
        "1095 and 2555 days give 4, 6 and 10 (violence with injury or strangulation, GBH, "
        "rape and above): a rape two years ago still weighs about as much as a year's "
        "repeated minor incidents.",
    )
    points_per_extra_incident: float = Field(
        3,
        ge=0,
        description="Points per serious incident on record beyond the first. Default 3: "
        "repeated serious harm weighs more than one serious incident.",
    )
    max_points: float = Field(
        16,
        ge=0,
        description="Most points the part gives before its weight. Default 16: a little "
        "under the frequency part's highest band, so the part adds to the recent record "
        "rather than replacing it.",
    )

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[SeriousHarmBand]) -> list[SeriousHarmBand]:
        _check_ascending([b.at_least for b in bands], "serious_history bands' at_least")
        return bands


class CohortRule(_Strict):
    """Who is in the cohort: (attendances ≥ N or score ≥ S), seen within the
    window, and not under an excluded management status on the date."""

    min_attendances: int | None = Field(
        3,
        ge=1,
        description="In the cohort with at least this many attendances as suspect in the "
        "window (null: not used). Default 3: the force passed victims with three contacts in "
        "a year to local commanders, MARAC treats 3 or more incidents in 12 months as "
        "potential escalation, and HMIC (2014) found seven in twelve months far too high.",
    )
    min_score: float | None = Field(
        None,
        ge=0,
        description="In the cohort with a score of at least this (null: not used), so that "
        "one or two very harmful incidents can bring a person in. Default 40: chosen on "
        "generator data (benchmarks/score_quality.py), not a published figure.",
    )
    max_days_since_last: int = Field(
        365,
        ge=1,
        description="Out of the cohort when the last incident as suspect is more than this "
        "many days before the as-of date, whatever the counts. Default 365: the ADAPT cohort "
        "is people attended in the past 12 months.",
    )
    exclude_statuses: list[Literal["iom", "mappa", "in_custody", "deceased"]] = Field(
        default_factory=lambda: list(MANAGEMENT_STATUSES),
        description="Management statuses on the as-of date that keep a person out (iom, "
        "mappa, in_custody, deceased): ADAPT is for perpetrators not already managed by IOM "
        "or MAPPA, and not in custody. Default all four.",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> CohortRule:
        if self.min_attendances is None and self.min_score is None:
            raise ValueError("set min_attendances, min_score or both")
        return self


class Retention(_Strict):
    """How long each group of stored records is kept before it is reviewed
    (Management of Police Information, MoPI). A record past its review date is
    listed by ``adapt retention report``; nothing is deleted by itself."""

    violent_or_sexual_years: int = Field(
        10,
        ge=1,
        le=100,
        description="Years after a person's last recorded incident before records of violent "
        "or sexual offending (MoPI group 2; domestic abuse is mostly here) are reviewed. "
        "Default 10: the MoPI review period for group 2.",
    )
    other_crime_years: int = Field(
        6,
        ge=1,
        le=100,
        description="Years after the last incident before records of other crimes (MoPI "
        "group 3) are reviewed. Default 6: the MoPI clear period for group 3.",
    )
    non_crime_years: int = Field(
        6,
        ge=1,
        le=100,
        description="Years after the last incident before non-crime domestic incidents are "
        "reviewed. Default 6, as for group 3.",
    )
    quarantine_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Days a rejected input row (which holds the raw row, personal data "
        "included) is kept for correction before it is due for deletion. Default 90.",
    )
    decisions_years: int = Field(
        6,
        ge=1,
        le=100,
        description="Years after a person's management ends (or their last decision) before "
        "cohort decisions and plan entries about them are reviewed. Default 6.",
    )


class Governance(_Strict):
    """Sessions, sign-in, documents and retention: how the force runs the tool."""

    session_idle_minutes: int = Field(
        30,
        ge=1,
        le=1440,
        description="Minutes without activity after which a signed-in user must sign in "
        "again. Default 30.",
    )
    session_absolute_hours: int = Field(
        10,
        ge=1,
        le=72,
        description="Hours after sign-in after which the user must sign in again, active or "
        "not. Default 10: one shift.",
    )
    lockout_after_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Wrong passwords in a row after which an account is locked for "
        "lockout_minutes (each failure before that also waits longer). Default 5.",
    )
    lockout_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Minutes an account stays locked after lockout_after_failures wrong "
        "passwords. Default 15.",
    )
    protective_marking: str = Field(
        "OFFICIAL-SENSITIVE",
        min_length=1,
        max_length=100,
        description="The Government Security Classification marking printed on every page "
        "of a PDF and at the top of exports. Default OFFICIAL-SENSITIVE.",
    )
    retention: Retention = Field(Retention(), description="Review periods by record group (MoPI).")


class Cycle(_Strict):
    """The four-weekly cycle: reviews of the cohort and officers' caseloads."""

    review_interval_days: int = Field(
        28,
        ge=1,
        le=365,
        description="Days between reviews of the cohort (MATAC forces meet every four "
        "weeks). Default 28.",
    )
    score_change_step: float = Field(
        5,
        ge=0,
        description="A score change since the last review at least this large is listed. "
        "Default 5 points.",
    )
    plan_review_days: int = Field(
        28,
        ge=1,
        le=365,
        description="Days after which an adopted person's plan is due for review (from "
        "adoption or the last plan review). Default 28.",
    )


class Settings(_Strict):
    """A named, versioned, authored set of scoring settings."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="The name of these settings, shown with every score run and export.",
    )
    version: str = Field(
        min_length=1,
        max_length=40,
        description="The version of these settings; each saved change is a new version, so "
        "every score run names the exact settings it used.",
    )
    author: str = Field(
        min_length=1, max_length=100, description="Who made or changed these settings."
    )
    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why these settings, in words, kept with every saved version.",
    )
    harm_table: str = Field(
        "cambridge_chi_v1",
        description="The harm table: days of custody per offence, a versioned file with its "
        "source. Default cambridge_chi_v1, the Cambridge Crime Harm Index (Sherman, Neyroud "
        "and Neyroud 2016).",
    )
    windows: Windows = Field(
        Windows(), description="Time windows, in days, each ending at the end of the as-of date."
    )
    escalation: Escalation = Field(
        Escalation(),
        description="How frequency and severity escalation are tested (separate signals).",
    )
    recency: RecencyPart = Field(
        description="Recency, the R of RFG (recency, frequency, gravity; the matrix MATAC "
        "forces use): points by days since the last incident."
    )
    frequency: FrequencyPart = Field(
        description="Frequency, the F of RFG: points by attendances as suspect in the window."
    )
    gravity: GravityPart = Field(
        description="Gravity, the G of RFG: points by crime harm (CHI days) in the window."
    )
    serial: SerialPart = Field(
        description="Serial offending: points per victim beyond the first (MATAC)."
    )
    escalation_points: EscalationPart = Field(
        description="Points for frequency and for severity escalation."
    )
    markers: MarkersPart = Field(
        description="Points per high-risk marker kind present in the window, capped."
    )
    marac: MaracPart = Field(
        description="Points for MARAC referrals and SafeLives repeats in the window."
    )
    serious_history: SeriousHistory = Field(
        SeriousHistory(),
        description="History of serious harm: points by the serious incidents over the "
        "whole recorded history up to the date (not only the window) and the largest harm "
        "among them, capped.",
    )
    cohort: CohortRule = Field(
        CohortRule(),
        description="Who the rule proposes for the cohort: (attendances or score) and seen "
        "recently, not already managed. It only proposes: an officer decides.",
    )
    governance: Governance = Field(
        Governance(),
        description="Sessions, sign-in lockout, the PDF's protective marking and retention "
        "periods: how the force runs the tool, approved like any other setting.",
    )
    cycle: Cycle = Field(
        Cycle(),
        description="The four-weekly cycle: how often the cohort is reviewed, which score "
        "changes a review lists, and when a plan review falls due.",
    )

    @field_validator("harm_table")
    @classmethod
    def _known_table(cls, name: str) -> str:
        if name not in available_harm_tables():
            raise ValueError(
                f"unknown harm table {name!r} (have: {', '.join(available_harm_tables())})"
            )
        return name

    # ---- JSON round trip -------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "settings") -> Settings:
        return cls.from_dict(parse_json(text, source), source)

    @classmethod
    def from_dict(cls, raw: object, source: str = "settings") -> Settings:
        if not isinstance(raw, dict):
            raise SettingsError(
                f"{source}: settings must be a JSON object ({{...}}), not {_json_kind(raw)}"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            raise SettingsError(f"{source}: {_describe(err)}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> Settings:
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SettingsError(f"{path.name}: cannot be read ({type(err).__name__})") from None
        return cls.from_json(text, source=path.name)

    def with_changes(self, changes: dict, **meta: str) -> Settings:
        """A copy with ``changes`` (a nested dict) merged in and new name/version/author/reason."""
        data = _merge(self.model_dump(mode="json"), changes)
        data.update(meta)
        return Settings.from_dict(data)


# Settings are a few kilobytes, a few levels deep, with small numbers: anything
# far beyond that is a mistake or an attack, refused with a message rather than
# a RecursionError, a ValueError from int() or an infinite weight.
MAX_JSON_CHARS = 1_000_000
MAX_JSON_DEPTH = 32
MAX_NUMBER_DIGITS = 30


def parse_json(text: str, source: str = "settings") -> object:
    """``text`` parsed as settings JSON, or :class:`SettingsError` naming the problem.

    Stricter than :func:`json.loads`: no ``Infinity``/``NaN`` (nor a number
    too large for a float), no number longer than :data:`MAX_NUMBER_DIGITS`
    digits, no nesting deeper than :data:`MAX_JSON_DEPTH` and no text longer
    than :data:`MAX_JSON_CHARS`.

    >>> parse_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json("[NaN]", "gravity.bands")
    Traceback (most recent call last):
    ...
    adapt.core.settings.SettingsError: gravity.bands: NaN is not allowed (numbers must be finite)
    """
    if not isinstance(text, str):
        raise SettingsError(f"{source}: expected JSON text, not {type(text).__name__}")
    if len(text) > MAX_JSON_CHARS:
        raise SettingsError(
            f"{source}: too long ({len(text):,} characters; at most {MAX_JSON_CHARS:,})"
        )
    try:
        raw = json.loads(
            text,
            parse_constant=lambda name: _refuse_number(source, name),
            parse_int=lambda digits: _number(source, digits, int),
            parse_float=lambda digits: _number(source, digits, float),
        )
    except json.JSONDecodeError as err:
        raise SettingsError(
            f"{source}: not valid JSON (line {err.lineno}, column {err.colno})"
        ) from None
    except RecursionError:
        raise SettingsError(
            f"{source}: nested too deeply (at most {MAX_JSON_DEPTH} levels of [ and {{)"
        ) from None
    if _depth(raw) > MAX_JSON_DEPTH:
        raise SettingsError(
            f"{source}: nested too deeply (at most {MAX_JSON_DEPTH} levels of [ and {{)"
        )
    return raw


def _refuse_number(source: str, name: str) -> float:
    raise SettingsError(f"{source}: {name} is not allowed (numbers must be finite)")


def _number(source: str, digits: str, kind: type) -> int | float:
    if sum(c.isdigit() for c in digits) > MAX_NUMBER_DIGITS:
        shown = digits[:12] + "…"
        raise SettingsError(
            f"{source}: the number {shown} is too long ({len(digits):,} characters; "
            f"at most {MAX_NUMBER_DIGITS} digits)"
        )
    value = kind(digits)
    if kind is float and not math.isfinite(value):
        raise SettingsError(f"{source}: the number {digits} is too large (numbers must be finite)")
    return value


def _depth(raw: object) -> int:
    """How deeply ``raw`` nests lists and dicts (0 for a scalar), without recursion."""
    deepest, stack = 0, [(raw, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _json_kind(raw: object) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}  # fmt: skip
    return kinds.get(type(raw), type(raw).__name__)


def setting_descriptions() -> dict[str, str]:
    """Every setting's description by its dotted path, in the settings' order.

    A section (``windows``) comes before its settings (``windows.window_days``);
    the fields of each band of a list are under ``bands[]``
    (``gravity.bands[].at_least``).

    >>> d = setting_descriptions()
    >>> d["windows.window_days"].startswith("The main window, in days")
    True
    >>> "gravity.bands[].at_least" in d and "cohort.min_attendances" in d
    True
    """
    out: dict[str, str] = {}
    _describe_fields(Settings, "", out)
    return out


def _describe_fields(model: type[BaseModel], prefix: str, out: dict[str, str]) -> None:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        out[path] = field.description or ""
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _describe_fields(annotation, f"{path}.", out)
        elif get_origin(annotation) is list:
            (item,) = get_args(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                _describe_fields(item, f"{path}[].", out)


def _merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = (
            _merge(base[key], value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return out


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ""
        for item in e["loc"]:
            loc += f"[{item}]" if isinstance(item, int) else (f".{item}" if loc else str(item))
        parts.append(f"{loc or 'settings'}: {e['msg']}")
    return "; ".join(parts)


def default_settings() -> Settings:
    """The packaged default settings (``adapt/core/settings/default.json``)."""
    text = resources.files("adapt.core").joinpath("settings/default.json").read_text("utf-8")
    return Settings.from_json(text, source="default.json")
