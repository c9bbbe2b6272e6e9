"""Who may do what: the one table of roles × pages × actions.

The app builds each user's menu from it and every page re-checks it
(``require``) before it draws or acts, so a hidden menu item is never the
only barrier. Purposes are the short list a user picks from when opening a
person's record, running a MARAC check or exporting.
"""

from __future__ import annotations

ROLES: dict[str, str] = {
    "iom_officer": "IOM / ADAPT officer",
    "marac_chair": "MARAC chair",
    "analyst": "Analyst",
    "admin": "Administrator",
}

PAGES: dict[str, str] = {
    "cohort": "Cohort",
    "caseload": "Caseload",
    "person": "Person pathway",
    "victim": "Victim",
    "marac": "MARAC check",
    "tuning": "Tuning",
    "data": "Data",
    "audit": "Audit",
    "admin": "Accounts",
}

# page -> actions on that page ("view" is opening the page at all)
ACTIONS: dict[str, tuple[str, ...]] = {
    "cohort": ("view", "export", "decide", "review"),
    "caseload": ("view", "edit_plan", "end_management"),
    "person": ("view", "edit_plan", "split_identity", "export"),
    "victim": ("view",),
    "marac": ("view", "pdf", "meeting_list"),
    "tuning": ("view", "save_settings", "approve_settings"),
    "data": ("view", "import", "review_identity", "export"),
    "audit": ("view", "export"),
    "admin": ("view", "manage_accounts"),
}

PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    "iom_officer": {
        "cohort": frozenset({"view", "export", "decide", "review"}),
        "caseload": frozenset({"view", "edit_plan", "end_management"}),
        "person": frozenset({"view", "edit_plan", "export"}),
        "victim": frozenset({"view"}),
        "marac": frozenset({"view"}),
    },
    "marac_chair": {
        "marac": frozenset({"view", "pdf", "meeting_list"}),
        "person": frozenset({"view"}),
        "victim": frozenset({"view"}),
    },
    "analyst": {
        "cohort": frozenset({"view", "export", "review"}),
        "person": frozenset({"view", "split_identity"}),
        "tuning": frozenset({"view", "save_settings", "approve_settings"}),
        "data": frozenset({"view", "import", "review_identity", "export"}),
    },
    "admin": {page: frozenset(actions) for page, actions in ACTIONS.items()},
}

PURPOSES: tuple[str, ...] = (
    "Cohort selection and review",
    "Offender management",
    "MARAC meeting",
    "Safeguarding a victim",
    "Data quality",
    "Audit",
    "Subject access",
)


class PermissionDenied(PermissionError):
    """The user's role does not allow this page or action."""


def can(role: str | None, page: str, action: str = "view") -> bool:
    """True when ``role`` may do ``action`` on ``page``."""
    if page not in ACTIONS or action not in ACTIONS[page]:
        raise ValueError(f"unknown page/action {page}/{action}")
    return action in PERMISSIONS.get(role or "", {}).get(page, frozenset())


def require(role: str | None, page: str, action: str = "view") -> None:
    """Raise PermissionDenied unless ``role`` may do ``action`` on ``page``."""
    if not can(role, page, action):
        label = ROLES.get(role or "", "this account")
        raise PermissionDenied(f"{label} may not {action.replace('_', ' ')} on {PAGES[page]}")


def pages_for(role: str | None) -> list[str]:
    """The pages a role may open, in menu order: the order of the role's own
    permissions, so each role lands on the page it works from (a MARAC chair on
    MARAC check).

    >>> pages_for("marac_chair")[0], pages_for("iom_officer")[0]
    ('marac', 'cohort')
    """
    return [p for p in PERMISSIONS.get(role or "", {}) if can(role, p)]
