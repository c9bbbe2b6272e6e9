"""Person rows: one row per mention of a person in the stored records.

Every row that names a person (an involvement, a MARAC referral's victim or
perpetrator, a management record) is a person row with a stable ``row_key``
naming the stored record. The database builds them, identity resolution reads
them; the columns and the key format are declared here, once.
"""

from __future__ import annotations

PERSON_ROW_COLUMNS: tuple[str, ...] = (
    "row_key",
    "source_file",
    "source_row",
    "kind",
    "incident_id",
    "role",
    "occurred_at",
    "person_ref",
    "forename",
    "surname",
    "date_of_birth",
    "gender",
    "home_address",
    "home_postcode",
    "incident_address",
    "incident_postcode",
)

# Row-key prefixes and suffixes by stored table (``involvements:17``,
# ``marac_referrals:5:victim``, ``management:3``).
INVOLVEMENT_KEY = "involvements:"
MARAC_KEY = "marac_referrals:"
MARAC_VICTIM_SUFFIX = ":victim"
MARAC_PERPETRATOR_SUFFIX = ":perpetrator"
MANAGEMENT_KEY = "management:"


def row_key(table: str, record_id: int, part: str = "") -> str:
    """The row key of one stored record.

    >>> row_key("involvements", 17)
    'involvements:17'
    >>> row_key("marac_referrals", 5, "victim")
    'marac_referrals:5:victim'
    """
    return f"{table}:{record_id}" + (f":{part}" if part else "")
