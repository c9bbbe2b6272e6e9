"""What the Audit page calls: the append-only audit log (the newest
:data:`AUDIT_ROWS` entries), its filters, the users, the cohort decisions and
the saved settings versions, and the log's export."""

from __future__ import annotations

import pandas as pd

from adapt.db import accounts, app_store
from adapt.db.app_store import AUDIT_ACTIONS
from adapt.db.scores import settings_versions_frame
from adapt.exports import table_bytes
from adapt.services import session
from adapt.views.audit import decisions_view, filter_audit

AUDIT_ROWS = 100_000  # entries read for the page (newest first); filters narrow them

__all__ = [
    "AUDIT_ACTIONS",
    "AUDIT_ROWS",
    "audit_bytes",
    "decisions",
    "entries",
    "filter_audit",
    "settings_versions",
    "usernames",
]


def entries() -> pd.DataFrame:
    """The newest :data:`AUDIT_ROWS` audit entries."""
    return app_store.audit_frame(session.engine(), limit=AUDIT_ROWS)


def usernames() -> list[str]:
    return accounts.users_frame(session.engine())["username"].tolist()


def decisions(person_id: str = "") -> pd.DataFrame:
    """Cohort decisions (of one person when given), without the score snapshot JSON."""
    frame = app_store.decisions_frame(session.engine(), person_id=person_id.strip() or None)
    return decisions_view(frame)


def settings_versions() -> pd.DataFrame:
    return settings_versions_frame(session.engine())


def audit_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The audit entries shown as a formula-safe CSV or XLSX file."""
    return table_bytes(frame, f".{fmt}", "Audit")
