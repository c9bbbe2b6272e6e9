"""calibration evidence

What ``adapt calibrate`` measured for the draft settings version it saved
(issue 13): per rolling origin and method, the share of next-year harm and
incidents the top K captured, and the spread over the origins.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_evidence",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("settings_name", sa.String(100), nullable=False),
        sa.Column("settings_version", sa.String(40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("origin", sa.Date(), nullable=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("harm_share", sa.Float(), nullable=False),
        sa.Column("incident_share", sa.Float(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("harm_share_min", sa.Float(), nullable=True),
        sa.Column("harm_share_max", sa.Float(), nullable=True),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        op.f("ix_calibration_evidence_settings_name"), "calibration_evidence", ["settings_name"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_calibration_evidence_settings_name"), table_name="calibration_evidence")
    op.drop_table("calibration_evidence")
