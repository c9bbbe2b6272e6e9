"""involvements.withdrawn_import_id (a person the force removed from an incident)
and import_files.withdrawn

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("involvements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_import_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.drop_column("withdrawn")
    with op.batch_alter_table("involvements", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_import_id")
