"""The Audit page's groups cover every action the audit log accepts."""

from __future__ import annotations

from adapt.db.app_store import AUDIT_ACTIONS
from adapt.views.audit import KINDS, kind_of


def test_every_audited_action_has_a_group() -> None:
    # A new audited action must be placed in a group the auditor filters by,
    # or it would be filed under "Other" and missed.
    assert [a for a in AUDIT_ACTIONS if kind_of(a) == "Other"] == []
    assert kind_of("case_items_moved") == "Decisions and settings"
    assert kind_of("not-an-action") == "Other"
    assert len({a for actions in KINDS.values() for a in actions}) == sum(map(len, KINDS.values()))
