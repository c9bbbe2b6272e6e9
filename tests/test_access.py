"""The role × page × action matrix, walked in full."""

from __future__ import annotations

import pytest

from adapt.core.access import (
    ACTIONS,
    PAGES,
    PERMISSIONS,
    ROLES,
    PermissionDenied,
    can,
    pages_for,
    require,
)

# What each role should be able to do, written out independently of the table.
EXPECTED = {
    ("iom_officer", "cohort"): {"view", "export", "decide", "review"},
    ("iom_officer", "caseload"): {"view", "edit_plan", "end_management"},
    ("iom_officer", "person"): {"view", "edit_plan", "export"},
    ("iom_officer", "victim"): {"view"},
    ("iom_officer", "marac"): {"view"},
    ("marac_chair", "person"): {"view"},
    ("marac_chair", "victim"): {"view"},
    ("marac_chair", "marac"): {"view", "pdf", "meeting_list"},
    ("analyst", "cohort"): {"view", "export", "review"},
    ("analyst", "person"): {"view", "split_identity"},
    ("analyst", "tuning"): {"view", "save_settings", "approve_settings"},
    ("analyst", "data"): {"view", "import", "review_identity", "export"},
}


@pytest.mark.parametrize("role", [*ROLES, "", None, "guest"])
def test_every_role_page_action(role: str | None) -> None:
    for page, actions in ACTIONS.items():
        for action in actions:
            allowed = EXPECTED.get((role, page), set())
            expected = role == "admin" or action in allowed
            assert can(role, page, action) is expected, (role, page, action)
            if expected:
                require(role, page, action)
            else:
                with pytest.raises(PermissionDenied):
                    require(role, page, action)


def test_only_admins_see_the_audit_page_and_menus_follow_the_table() -> None:
    assert [r for r in ROLES if can(r, "audit")] == ["admin"]
    assert [r for r in ROLES if can(r, "admin", "manage_accounts")] == ["admin"]
    # A chair lands on MARAC check, an officer on the cohort (issue 14).
    assert pages_for("marac_chair") == ["marac", "person", "victim"]
    assert pages_for("iom_officer") == ["cohort", "caseload", "person", "victim", "marac"]
    assert pages_for("admin") == list(PAGES)
    assert pages_for(None) == []
    assert set(PERMISSIONS) == set(ROLES)


def test_unknown_page_or_action_is_an_error() -> None:
    with pytest.raises(ValueError):
        can("admin", "cohort", "delete")
