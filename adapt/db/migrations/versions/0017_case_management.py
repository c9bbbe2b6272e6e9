"""case management: how an adopted person's management ended

Exit states (completed, moved away, in custody, deceased, transferred) with a
reason, besides adopt and decline (issue 14).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
