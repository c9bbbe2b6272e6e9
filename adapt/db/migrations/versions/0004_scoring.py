"""scoring: settings_versions, score_runs, person_scores

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FLOATS = (
    "score", "score_recency", "score_frequency", "score_gravity", "score_serial",
    "score_frequency_escalation", "score_severity_escalation", "score_markers", "score_marac",
    "harm_12m",
)  # fmt: skip
INTS = (
    "attendances_12m", "days_since_last", "victims_12m", "new_victims_12m",
    "victims_serial_window", "marac_repeats_12m", "late_flag_repeats_total",
)  # fmt: skip
BOOLS = (
    "in_cohort", "serial", "frequency_escalating", "severity_escalating", "new_partner_alert",
    "counter_allegation",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "settings_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_versions")),
        sa.UniqueConstraint("name", "version", name="uq_settings_versions_name_version"),
    )
    op.create_table(
        "score_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("settings_name", sa.String(length=100), nullable=False),
        sa.Column("settings_version", sa.String(length=40), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("identity_run_id", sa.Integer(), nullable=True),
        sa.Column("persons", sa.BigInteger(), nullable=False),
        sa.Column("in_cohort", sa.BigInteger(), nullable=False),
        sa.Column("unresolved_rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_runs")),
    )
    op.create_table(
        "person_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        *[sa.Column(c, sa.Float(), nullable=False) for c in FLOATS],
        *[sa.Column(c, sa.Integer(), nullable=False) for c in INTS],
        *[sa.Column(c, sa.Boolean(), nullable=False) for c in BOOLS],
        sa.Column("last_incident_at", sa.DateTime(), nullable=True),
        sa.Column("counter_role", sa.String(length=20), nullable=True),
        sa.Column("already_managed", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["score_runs.id"], name=op.f("fk_person_scores_run_id_score_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "rank", name=op.f("pk_person_scores")),
    )
    with op.batch_alter_table("person_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_scores_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_scores_person_id"))
    op.drop_table("person_scores")
    op.drop_table("score_runs")
    op.drop_table("settings_versions")
