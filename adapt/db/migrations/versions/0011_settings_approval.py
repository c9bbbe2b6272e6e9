"""settings approval: draft, approved, live; unique names and versions

A saved settings version is a draft until a second person approves or rejects
it (who, when, why); the live version is the latest approved. Versions saved
before this revision were never approved by anyone but their author, so they
become drafts: until one is approved the packaged defaults are live, and every
page says so. Names and versions were already unique
(``uq_settings_versions_name_version``); the author may not decide on their
own version (``ck_settings_versions_second_person``).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settings_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="draft")
        )
        batch_op.add_column(sa.Column("decided_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_settings_versions_status"), "status IN ('draft', 'approved', 'rejected')"
        )
        batch_op.create_check_constraint(
            op.f("ck_settings_versions_second_person"), "decided_by IS NULL OR decided_by <> author"
        )


def downgrade() -> None:
    with op.batch_alter_table("settings_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_settings_versions_second_person"), type_="check")
        batch_op.drop_constraint(op.f("ck_settings_versions_status"), type_="check")
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
