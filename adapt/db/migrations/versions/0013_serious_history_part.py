"""score part: history of serious harm

A stored score run keeps every part of its score (issue 13): the history of
serious harm part gets its column. Runs stored before it carry 0, as the part
did not exist when they were scored.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_scores") as batch:
        batch.add_column(
            sa.Column("score_serious_history", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("person_scores") as batch:
        batch.drop_column("score_serious_history")
