"""Who did it to whom on an incident: the suspect–victim pairs.

An incident with suspects S and victims V gives one pair per (suspect,
victim), each counted once however many times the same person was recorded in
the same role. A person recorded on both sides of one incident (a resolution
artefact, or one person typed twice) is not their own victim: that pair is
dropped. Rows with no person id are not in any pair. Witnesses and others are
never in a pair.

Every stage that asks "who was the suspect against whom" (features, the MARAC
check, the person pathway, the graph's ``suspect_against`` edges) calls
:func:`incident_pairs`, or :func:`role_rows` and :func:`pairs_of` when it also
needs the suspects on their own.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

SUSPECT = "suspect"
VICTIM = "victim"
PAIR_COLUMNS: tuple[str, ...] = ("incident_id", "suspect_id", "victim_id")


def role_rows(involvements: pd.DataFrame, role: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    """The distinct (incident, person) rows of one role: ``incident_id, person_id``
    and ``columns`` (taken from the first such row).

    ``involvements`` has ``incident_id, role, person_id`` (the columns of
    :class:`adapt.core.history.History` ``involvements``, or integer codes in
    them). Rows without a person id are left out.
    """
    inv = involvements
    keep = (inv["role"] == role).fillna(False) & inv["person_id"].notna()
    out = inv.loc[keep.to_numpy(dtype=bool), ["incident_id", "person_id", *columns]]
    return out.drop_duplicates(["incident_id", "person_id"])


def pairs_of(suspects: pd.DataFrame, victims: pd.DataFrame) -> pd.DataFrame:
    """Pairs from :func:`role_rows` of the suspects and of the victims.

    Returns ``incident_id, suspect_id, victim_id`` and the suspects' other
    columns, one row per (incident, suspect, victim), self-pairs dropped.
    """
    pairs = suspects.merge(
        victims[["incident_id", "person_id"]], on="incident_id", suffixes=("", "_victim")
    )
    pairs = pairs.rename(columns={"person_id": "suspect_id", "person_id_victim": "victim_id"})
    pairs = pairs[pairs["suspect_id"] != pairs["victim_id"]]
    rest = [c for c in pairs.columns if c not in PAIR_COLUMNS]
    return pairs[[*PAIR_COLUMNS, *rest]].reset_index(drop=True)


def incident_pairs(involvements: pd.DataFrame, columns: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (incident, suspect, victim): ``incident_id, suspect_id,
    victim_id`` plus ``columns`` of the suspect's involvement row (for example
    ``relationship``, which is recorded on the suspect's row).

    >>> inv = pd.DataFrame({
    ...     "incident_id": ["I1", "I1", "I1", "I1", "I2"],
    ...     "role": ["suspect", "victim", "victim", "witness", "suspect"],
    ...     "person_id": ["P1", "V1", "P1", "W1", "P1"],
    ... })
    >>> incident_pairs(inv).values.tolist()  # P1 is not their own victim; I2 has no victim
    [['I1', 'P1', 'V1']]
    """
    return pairs_of(role_rows(involvements, SUSPECT, columns), role_rows(involvements, VICTIM))
