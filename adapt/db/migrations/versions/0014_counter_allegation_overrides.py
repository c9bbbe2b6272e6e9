"""counter-allegation overrides

An officer's label of the predominant aggressor of a counter-allegation pair
(issue 13, item 4), with who set it, when and why; a cleared label is kept.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_allegation_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_a", sa.String(20), nullable=False),
        sa.Column("person_b", sa.String(20), nullable=False),
        sa.Column("aggressor", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_by", sa.String(100), nullable=True),
        sa.Column("clear_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_counter_allegation_overrides"),
    )
    op.create_index(
        "ix_counter_allegation_overrides_person_a", "counter_allegation_overrides", ["person_a"]
    )
    op.create_index(
        "ix_counter_allegation_overrides_person_b", "counter_allegation_overrides", ["person_b"]
    )


def downgrade() -> None:
    op.drop_index("ix_counter_allegation_overrides_person_b", "counter_allegation_overrides")
    op.drop_index("ix_counter_allegation_overrides_person_a", "counter_allegation_overrides")
    op.drop_table("counter_allegation_overrides")
