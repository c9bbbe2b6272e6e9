"""reviews of the cohort

A review is a dated, stored run of the cohort with the approved settings
(issue 14): who was in it, their scores and alerts, so the next review can say
what changed.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FLOATS = (
    "score", "score_recency", "score_frequency", "score_gravity", "score_serial",
    "score_frequency_escalation", "score_severity_escalation", "score_markers", "score_marac",
    "score_serious_history",
)  # fmt: skip
INTS = ("attendances_window", "days_since_last", "incidents_total")
BOOLS = (
    "in_cohort", "alert_new_partner", "alert_marac_repeat", "alert_frequency", "alert_severity",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("settings_name", sa.String(100), nullable=False),
        sa.Column("settings_version", sa.String(40), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("identity_run_id", sa.Integer(), nullable=True),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.Column("in_cohort", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
    )
    op.create_index("ix_reviews_as_of", "reviews", ["as_of"])
    op.create_table(
        "review_people",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        *[sa.Column(c, sa.Float(), nullable=False) for c in FLOATS],
        *[sa.Column(c, sa.Integer(), nullable=False) for c in INTS],
        *[sa.Column(c, sa.Boolean(), nullable=False) for c in BOOLS],
        sa.Column("last_incident_at", sa.DateTime(), nullable=True),
        sa.Column("new_partner_first_at", sa.DateTime(), nullable=True),
        sa.Column("last_marac_repeat_at", sa.DateTime(), nullable=True),
        sa.Column("already_managed", sa.String(60), nullable=True),
        sa.Column("decision", sa.String(10), nullable=True),
        sa.Column("exit_state", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name="fk_review_people_review_id_reviews"
        ),
        sa.PrimaryKeyConstraint("review_id", "person_id", name="pk_review_people"),
    )
    op.create_index("ix_review_people_person_id", "review_people", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_review_people_person_id", "review_people")
    op.drop_table("review_people")
    op.drop_index("ix_reviews_as_of", "reviews")
    op.drop_table("reviews")
