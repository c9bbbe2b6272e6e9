"""reviews of the cohort

A review is a dated, stored run of the cohort with the approved settings
(issue 14): who was in it, their scores and alerts, so the next review can say
what changed.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
