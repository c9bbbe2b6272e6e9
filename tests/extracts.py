"""Build small contract folders for tests, row by row, as a force would export
them. Realistic volumes come from the synthetic generator instead."""

from __future__ import annotations

import csv
from pathlib import Path

from adapt.core.spec import INCIDENTS, INVOLVEMENTS

INCIDENT_HEADER = list(INCIDENTS.column_names)
INVOLVEMENT_HEADER = list(INVOLVEMENTS.column_names)


def incident(n: int, **over: str) -> dict[str, str]:
    row = {
        "incident_id": f"INC{n:05d}",
        "occurred_at": f"2024-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}T22:15",
        "offence": "common_assault" if n % 3 else "verbal_argument",
        "is_crime": "true" if n % 3 else "false",
        "address": f"{n} High Street, Leicester",
        "postcode": "LE1 2AB",
        "dash_risk": "standard",
        "injury": "none",
        "weapon": "false",
        "children_present": "N",
        "outcome": "nfa",
        "area": "City East",
    }
    row.update(over)
    return row


def involvement(n: int, role: str, person: int, **over: str) -> dict[str, str]:
    row = {
        "incident_id": f"INC{n:05d}",
        "role": role,
        "person_ref": f"P{person:04d}",
        "forename": ["Sam", "Alex", "Jo", "Chris"][person % 4],
        "surname": ["Smith", "Patel", "O'Neill", "Nowak"][person % 4],
        "date_of_birth": f"19{70 + person % 30}-0{1 + person % 9}-1{person % 9}",
        "gender": "FM"[person % 2],
        "home_address": f"{person} Mill Lane",
        "home_postcode": "LE2 3CD",
        "relationship": "intimate_partner" if role == "suspect" else "",
    }
    row.update(over)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_extract(
    folder: Path,
    incidents: list[dict[str, str]],
    involvements: list[dict[str, str]],
) -> Path:
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, incidents)
    write_csv(folder / "involvements.csv", INVOLVEMENT_HEADER, involvements)
    return folder


def simple_extract(folder: Path, numbers: range) -> Path:
    """Each incident has a suspect and a victim; person numbers repeat so that
    people recur across incidents."""
    incs = [incident(n) for n in numbers]
    invs = []
    for n in numbers:
        invs.append(involvement(n, "suspect", n % 7))
        invs.append(involvement(n, "victim", 100 + n % 11))
    return write_extract(folder, incs, invs)
