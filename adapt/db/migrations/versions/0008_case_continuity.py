"""Case continuity: why each lineage event happened, where merged ids now
live, and every move of a cohort decision or plan entry between people

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_lineage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cause", sa.Text(), nullable=True))
    op.create_table(
        "person_redirects",
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("current_person_id", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_redirects")),
    )
    op.create_index(
        op.f("ix_person_redirects_current_person_id"), "person_redirects", ["current_person_id"]
    )
    op.create_table(
        "case_moves",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("moved_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("item_kind", sa.String(length=20), nullable=False),
        sa.Column("item_ref", sa.String(length=40), nullable=False),
        sa.Column("from_person_id", sa.String(length=20), nullable=False),
        sa.Column("to_person_id", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_moves")),
    )
    op.create_index(op.f("ix_case_moves_from_person_id"), "case_moves", ["from_person_id"])
    op.create_index(op.f("ix_case_moves_to_person_id"), "case_moves", ["to_person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_moves_to_person_id"), table_name="case_moves")
    op.drop_index(op.f("ix_case_moves_from_person_id"), table_name="case_moves")
    op.drop_table("case_moves")
    op.drop_index(op.f("ix_person_redirects_current_person_id"), table_name="person_redirects")
    op.drop_table("person_redirects")
    with op.batch_alter_table("person_lineage", schema=None) as batch_op:
        batch_op.drop_column("cause")
        batch_op.drop_column("decision_id")
