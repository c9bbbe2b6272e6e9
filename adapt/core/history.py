"""The resolved incident history every feature, score and graph is computed from.

A :class:`History` is four DataFrames with person ids in place of names. It is
built from the database by :func:`adapt.db.history.load_history`, or by hand in
tests. Nothing here reads a database; everything downstream is a pure function
of a History (and an as-of date).

Columns (extra columns are kept and ignored):

``incidents``
    incident_id, occurred_at (datetime64), offence, is_crime (bool), dash_risk,
    injury, weapon, children_present, outcome, area, address, postcode
``involvements``
    incident_id, role (victim/suspect/witness/other), person_id (NA when the
    row is not resolved), relationship; and, for auditing only (no feature
    reads them): gender, date_of_birth, home_address, home_postcode
``marac``
    referral_id, referral_date, meeting_date, flagged_at, victim_person_id,
    perpetrator_person_id
``management``
    person_id, status (iom/mappa/in_custody/deceased), from_date, to_date
``counter_overrides`` (optional)
    person_a, person_b, aggressor: an officer's live label of the predominant
    aggressor of a counter-allegation pair (adapt.db.counter); features use it
    instead of the rule for that pair
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

INCIDENT_COLUMNS = (
    "incident_id", "occurred_at", "offence", "is_crime", "dash_risk", "injury", "weapon",
    "children_present", "outcome", "area", "address", "postcode",
)  # fmt: skip
INVOLVEMENT_COLUMNS = (
    "incident_id", "role", "person_id", "relationship", "gender", "date_of_birth",
    "home_address", "home_postcode",
)  # fmt: skip
MARAC_COLUMNS = (
    "referral_id", "referral_date", "meeting_date", "flagged_at", "victim_person_id",
    "perpetrator_person_id",
)  # fmt: skip
MANAGEMENT_COLUMNS = ("person_id", "status", "from_date", "to_date")
COUNTER_OVERRIDE_COLUMNS = ("person_a", "person_b", "aggressor")

# Columns that describe who a person is rather than what they did. They are in
# the history so that auditors can check outcomes by them and tests can change
# them; no feature or score may read them (tests/test_fairness.py).
PROTECTED_COLUMNS = {
    "involvements": ("gender", "date_of_birth", "home_address", "home_postcode"),
    "incidents": ("area", "address", "postcode"),
}

_DATES = {
    "incidents": ("occurred_at",),
    "involvements": ("date_of_birth",),
    "marac": ("referral_date", "meeting_date", "flagged_at"),
    "management": ("from_date", "to_date"),
}
_TEXT = {
    "incidents": ("incident_id", "offence", "dash_risk", "injury", "outcome", "area", "address",
                  "postcode"),
    "involvements": ("incident_id", "role", "person_id", "relationship", "gender",
                     "home_address", "home_postcode"),
    "marac": ("referral_id", "victim_person_id", "perpetrator_person_id"),
    "management": ("person_id", "status"),
    "counter_overrides": COUNTER_OVERRIDE_COLUMNS,
}  # fmt: skip
_BOOLS = {"incidents": ("is_crime", "weapon", "children_present")}
_COLUMNS = {
    "incidents": INCIDENT_COLUMNS,
    "involvements": INVOLVEMENT_COLUMNS,
    "marac": MARAC_COLUMNS,
    "management": MANAGEMENT_COLUMNS,
    "counter_overrides": COUNTER_OVERRIDE_COLUMNS,
}
_REQUIRED = {
    "incidents": ("incident_id", "occurred_at", "offence", "is_crime"),
    "involvements": ("incident_id", "role", "person_id"),
    "marac": ("referral_id", "referral_date", "victim_person_id"),
    "management": ("person_id", "status", "from_date"),
    "counter_overrides": COUNTER_OVERRIDE_COLUMNS,
}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in _COLUMNS[name]})


def _typed(name: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """Check the required columns and give every known column its dtype."""
    if frame is None:
        frame = _empty(name)
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"history.{name} lacks required column(s): {', '.join(missing)}")
    out = frame.reindex(columns=[*_COLUMNS[name], *[c for c in frame if c not in _COLUMNS[name]]])
    for col in _TEXT.get(name, ()):
        out[col] = out[col].astype("string")
    for col in _DATES.get(name, ()):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for col in _BOOLS.get(name, ()):
        out[col] = out[col].astype("boolean")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class History:
    """Resolved incidents, involvements, MARAC referrals and management records."""

    incidents: pd.DataFrame
    involvements: pd.DataFrame
    marac: pd.DataFrame = field(default_factory=lambda: _empty("marac"))
    management: pd.DataFrame = field(default_factory=lambda: _empty("management"))
    counter_overrides: pd.DataFrame = field(default_factory=lambda: _empty("counter_overrides"))

    @classmethod
    def build(
        cls,
        incidents: pd.DataFrame,
        involvements: pd.DataFrame,
        marac: pd.DataFrame | None = None,
        management: pd.DataFrame | None = None,
        counter_overrides: pd.DataFrame | None = None,
    ) -> History:
        """A History with every column typed; raises ValueError naming a missing column."""
        inc = _typed("incidents", incidents)
        inc["is_crime"] = inc["is_crime"].fillna(True).astype(bool)
        return cls(
            incidents=inc,
            involvements=_typed("involvements", involvements),
            marac=_typed("marac", marac),
            management=_typed("management", management),
            counter_overrides=_typed("counter_overrides", counter_overrides),
        )

    @property
    def last_date(self) -> pd.Timestamp | None:
        """The latest incident date (the default as-of date), or None when empty."""
        if not len(self.incidents):
            return None
        return self.incidents["occurred_at"].max().normalize()

    def unresolved_rows(self) -> int:
        """Involvement rows with no person id (resolve has not seen them)."""
        return int(self.involvements["person_id"].isna().sum())
