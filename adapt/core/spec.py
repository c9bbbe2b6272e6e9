"""The extract data contract, version 1, as data.

One declaration of every file, column, type and vocabulary in
``shared/data-contract.md``. The reader validates against it, the generator
writes to it, and the database models mirror it: change the contract here and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is parsed."""

    TEXT = "text"
    DATETIME = "datetime"  # ISO date or date-time
    DATE = "date"  # ISO date only
    BOOL = "bool"  # true/false, 1/0, Y/N, yes/no
    CHOICE = "choice"  # one of a closed vocabulary, case-insensitive


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 1000


@dataclass(frozen=True)
class FileSpec:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # At least one of these must be non-empty on every row.
    one_of: tuple[str, ...] = ()
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


OFFENCES: tuple[str, ...] = (
    "verbal_argument",
    "unwanted_contact",
    "child_contact_dispute",
    "harassment",
    "stalking",
    "coercive_control",
    "criminal_damage",
    "common_assault",
    "abh",
    "strangulation",
    "gbh",
    "threats_to_kill",
    "sexual_assault",
    "rape",
    "breach_of_bail",
    "breach_of_order",
    "attempted_murder",
    "homicide",
)
ROLES = ("victim", "suspect", "witness", "other")
DASH_RISKS = ("standard", "medium", "high")
INJURIES = ("none", "minor", "serious")
OUTCOMES = ("arrest", "charge", "caution", "community_resolution", "nfa", "none")
GENDERS = ("F", "M", "X")
RELATIONSHIPS = ("intimate_partner", "ex_partner", "family", "other")
MANAGEMENT_STATUSES = ("iom", "mappa", "in_custody", "deceased")

TRUE_WORDS = frozenset({"true", "1", "y", "yes"})
FALSE_WORDS = frozenset({"false", "0", "n", "no"})

# Free text typed by a person: long enough for any real address, short enough
# that a runaway cell (an unbalanced quote, a pasted document) is caught.
NAME_MAX = 200
ADDRESS_MAX = 500
REF_MAX = 100

INCIDENTS = FileSpec(
    name="incidents.csv",
    required=True,
    key=("incident_id",),
    columns=(
        Column("incident_id", Kind.TEXT, required=True, max_length=REF_MAX),
        Column("occurred_at", Kind.DATETIME, required=True),
        Column("offence", Kind.CHOICE, required=True, choices=OFFENCES),
        Column("is_crime", Kind.BOOL, required=True),
        Column("address", Kind.TEXT, max_length=ADDRESS_MAX),
        Column("postcode", Kind.TEXT, max_length=16),
        Column("dash_risk", Kind.CHOICE, choices=DASH_RISKS),
        Column("injury", Kind.CHOICE, choices=INJURIES),
        Column("weapon", Kind.BOOL),
        Column("children_present", Kind.BOOL),
        Column("outcome", Kind.CHOICE, choices=OUTCOMES),
        Column("area", Kind.TEXT, max_length=REF_MAX),
    ),
)

INVOLVEMENTS = FileSpec(
    name="involvements.csv",
    required=True,
    one_of=("person_ref", "forename", "surname"),
    columns=(
        Column("incident_id", Kind.TEXT, required=True, max_length=REF_MAX),
        Column("role", Kind.CHOICE, required=True, choices=ROLES),
        Column("person_ref", Kind.TEXT, max_length=REF_MAX),
        Column("forename", Kind.TEXT, max_length=NAME_MAX),
        Column("surname", Kind.TEXT, max_length=NAME_MAX),
        Column("date_of_birth", Kind.DATE),
        Column("gender", Kind.CHOICE, choices=GENDERS),
        Column("home_address", Kind.TEXT, max_length=ADDRESS_MAX),
        Column("home_postcode", Kind.TEXT, max_length=16),
        Column("relationship", Kind.CHOICE, choices=RELATIONSHIPS),
    ),
)

MARAC = FileSpec(
    name="marac.csv",
    required=False,
    key=("referral_id",),
    one_of=("victim_person_ref", "victim_forename", "victim_surname"),
    columns=(
        Column("referral_id", Kind.TEXT, required=True, max_length=REF_MAX),
        Column("referral_date", Kind.DATE, required=True),
        Column("meeting_date", Kind.DATE),
        Column("flagged_at", Kind.DATE),
        Column("victim_person_ref", Kind.TEXT, max_length=REF_MAX),
        Column("victim_forename", Kind.TEXT, max_length=NAME_MAX),
        Column("victim_surname", Kind.TEXT, max_length=NAME_MAX),
        Column("victim_date_of_birth", Kind.DATE),
        Column("perpetrator_person_ref", Kind.TEXT, max_length=REF_MAX),
        Column("perpetrator_forename", Kind.TEXT, max_length=NAME_MAX),
        Column("perpetrator_surname", Kind.TEXT, max_length=NAME_MAX),
        Column("perpetrator_date_of_birth", Kind.DATE),
        Column("referring_agency", Kind.TEXT, max_length=REF_MAX),
    ),
)

MANAGEMENT = FileSpec(
    name="management.csv",
    required=False,
    one_of=("person_ref", "forename", "surname"),
    columns=(
        Column("person_ref", Kind.TEXT, max_length=REF_MAX),
        Column("forename", Kind.TEXT, max_length=NAME_MAX),
        Column("surname", Kind.TEXT, max_length=NAME_MAX),
        Column("date_of_birth", Kind.DATE),
        Column("status", Kind.CHOICE, required=True, choices=MANAGEMENT_STATUSES),
        Column("from_date", Kind.DATE, required=True),
        Column("to_date", Kind.DATE),
    ),
)

FILES: tuple[FileSpec, ...] = (INCIDENTS, INVOLVEMENTS, MARAC, MANAGEMENT)
FILES_BY_NAME: dict[str, FileSpec] = {f.name: f for f in FILES}
