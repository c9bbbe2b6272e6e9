"""identity_models: match models trained on the force's own rows

Each trained model is stored with its training figures and JSON (sha256), and
``identity_runs.model_id`` says which stored model a run used (NULL: the
packaged model).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_models")),
    )
    # Plain ALTER TABLE, not batch mode: SQLite's batch copy would drop and
    # re-create identity_runs, which persons and person_lineage reference.
    op.add_column("identity_runs", sa.Column("model_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("identity_runs", "model_id")  # SQLite 3.35+ drops a column in place
    op.drop_table("identity_models")
