"""Hand-built resolved histories for feature, score and backtest tests.

``HistoryBuilder().incident("2026-01-10", "abh", suspect="P1", victim="V1")``
adds one incident with its involvements; ``build()`` returns a History.
"""

from __future__ import annotations

import itertools

import pandas as pd

from adapt.core.history import History


class HistoryBuilder:
    def __init__(self) -> None:
        self._incidents: list[dict] = []
        self._involvements: list[dict] = []
        self._marac: list[dict] = []
        self._management: list[dict] = []
        self._ids = itertools.count(1)

    def incident(
        self,
        when: str,
        offence: str = "common_assault",
        *,
        suspect: str | list[str] | None = None,
        victim: str | list[str] | None = None,
        is_crime: bool = True,
        relationship: str | None = "intimate_partner",
        **extra: object,
    ) -> str:
        incident_id = f"I{next(self._ids):05d}"
        row = {"incident_id": incident_id, "occurred_at": when, "offence": offence,
               "is_crime": is_crime}  # fmt: skip
        row.update(extra)
        self._incidents.append(row)
        for role, people in (("suspect", suspect), ("victim", victim)):
            for person in [people] if isinstance(people, str) else people or []:
                self._involvements.append(
                    {
                        "incident_id": incident_id,
                        "role": role,
                        "person_id": person,
                        "relationship": relationship if role == "suspect" else None,
                        "gender": "M" if role == "suspect" else "F",
                        "date_of_birth": "1985-04-02",
                        "home_address": "1 Some Street",
                        "home_postcode": "LE1 1AA",
                    }
                )
        return incident_id

    def marac(
        self, referral_date: str, victim: str, perpetrator: str | None, flagged_at: str | None
    ) -> None:
        self._marac.append(
            {
                "referral_id": f"M{len(self._marac) + 1:04d}",
                "referral_date": referral_date,
                "meeting_date": None,
                "flagged_at": flagged_at,
                "victim_person_id": victim,
                "perpetrator_person_id": perpetrator,
            }
        )

    def managed(self, person: str, status: str, from_date: str, to_date: str | None = None) -> None:
        self._management.append(
            {"person_id": person, "status": status, "from_date": from_date, "to_date": to_date}
        )

    def build(self) -> History:
        def frame(rows: list[dict]) -> pd.DataFrame | None:
            return pd.DataFrame(rows) if rows else None

        return History.build(
            incidents=pd.DataFrame(self._incidents),
            involvements=pd.DataFrame(self._involvements),
            marac=frame(self._marac),
            management=frame(self._management),
        )
