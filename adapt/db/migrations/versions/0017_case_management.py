"""case management: how an adopted person's management ended

Exit states (completed, moved away, in custody, deceased, transferred) with a
reason, besides adopt and decline (issue 14). An ending is a cohort decision
("ended") with its exit state, so it follows a merged person as every decision
does (adapt.db.continuity), is erased with the person's decisions, and shows in
the person's decision history.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cohort_decisions") as batch:
        batch.add_column(sa.Column("exit_state", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cohort_decisions") as batch:
        batch.drop_column("exit_state")
