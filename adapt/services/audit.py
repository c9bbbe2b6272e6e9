"""What the Audit page calls: the append-only audit log (the newest
:data:`AUDIT_ROWS` entries), its filters, the users, the cohort decisions and
the saved settings versions, and the log's export; and
:func:`audited_download`, the one way every page hands out a file.

A download is audited on the server before any byte of it exists: Streamlit
calls a ``st.download_button(data=callable)`` only when the user clicks, on
the server, and serves nothing before it returns. The audit row is written
inside that callable, then the bytes are built. (An ``on_click`` callback
runs only when the browser's next message arrives: a client that drops that
message would get the file unaudited.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from adapt.core.access import can
from adapt.db import accounts, app_store
from adapt.db.app_store import AUDIT_ACTIONS
from adapt.db.scores import settings_versions_frame
from adapt.exports import table_bytes
from adapt.services import session
from adapt.services.data import hide_table_downloads
from adapt.views.audit import decisions_view, filter_audit

MIME_TYPES = {  # of the files the pages hand out
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
AUDIT_ROWS = 100_000  # entries read for the page (newest first); filters narrow them

log = logging.getLogger(__name__)

__all__ = [
    "AUDIT_ACTIONS",
    "AUDIT_ROWS",
    "MIME_TYPES",
    "DownloadRefused",
    "audit_bytes",
    "audited_download",
    "decisions",
    "entries",
    "filter_audit",
    "hide_table_downloads",
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


class DownloadRefused(PermissionError):
    """The account that drew the button may no longer have the file (it was
    disabled, or its role changed, between the drawing and the click)."""


def audited_download(
    build: Callable[[], bytes],
    *,
    action: str,
    page: str,
    permission: str,
    purpose: str,
    person_id: str | None = None,
    detail: str | None = None,
) -> Callable[[], bytes]:
    """The ``data=`` callable of a download button: on the click, it re-reads
    the account that drew the page (still active, role still allowed
    ``permission`` on ``page``), writes the audit entry (``action``, the
    purpose, the person and ``detail``), and only then builds the file.

    Streamlit runs it on a worker thread with no session, so the engine and
    the user are taken now, while the page draws. A refusal raises
    :class:`DownloadRefused` (Streamlit then sends no file) and is audited.
    """
    engine = session.engine()
    drawn_for = session.current_user()
    if drawn_for is None:
        raise DownloadRefused("nobody is signed in")
    username = drawn_for["username"]

    def make() -> bytes:
        user = accounts.get_user(engine, username)
        if user is None or not user["active"] or not can(user["role"], page, permission):
            session.audit_as(engine, user or drawn_for, "refused",
                             detail=f"{page}/{permission}: download")  # fmt: skip
            log.warning("a download was refused: the account may no longer have it")
            raise DownloadRefused("this account may no longer download this file")
        session.audit_as(engine, user, action, person_id=person_id, purpose=purpose, detail=detail)
        return build()

    return make
