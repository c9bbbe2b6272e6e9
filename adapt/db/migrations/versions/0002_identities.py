"""identities

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:23:29.812938
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "identity_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("row_key_l", sa.String(length=120), nullable=False),
        sa.Column("row_key_r", sa.String(length=120), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_decisions")),
    )
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("row_key_l", sa.String(length=120), nullable=False),
        sa.Column("row_key_r", sa.String(length=120), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("context_weight", sa.Float(), nullable=False),
        sa.Column("final_weight", sa.Float(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
    )
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_links_row_key_l"), ["row_key_l"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_links_row_key_r"), ["row_key_r"], unique=False
        )

    op.create_table(
        "identity_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=True),
        sa.Column("row_key_l", sa.String(length=120), nullable=True),
        sa.Column("row_key_r", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_review")),
    )
    with op.batch_alter_table("identity_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_review_run_id"), ["run_id"], unique=False)

    op.create_table(
        "identity_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("rows_resolved", sa.BigInteger(), nullable=False),
        sa.Column("persons", sa.BigInteger(), nullable=False),
        sa.Column("persons_created", sa.BigInteger(), nullable=False),
        sa.Column("merges", sa.BigInteger(), nullable=False),
        sa.Column("splits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_runs")),
    )
    op.create_table(
        "person_assignments",
        sa.Column("row_key", sa.String(length=120), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("row_key", name=op.f("pk_person_assignments")),
    )
    with op.batch_alter_table("person_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_assignments_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_lineage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("other_person_id", sa.String(length=20), nullable=False),
        sa.Column("rows_moved", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["identity_runs.id"], name=op.f("fk_person_lineage_run_id_identity_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_lineage")),
    )
    with op.batch_alter_table("person_lineage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_lineage_other_person_id"), ["other_person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_person_lineage_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_person_lineage_run_id"), ["run_id"], unique=False)

    op.create_table(
        "persons",
        sa.Column("person_id", sa.String(length=20), nullable=False),
        sa.Column("created_run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_run_id"],
            ["identity_runs.id"],
            name=op.f("fk_persons_created_run_id_identity_runs"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_persons")),
    )


def downgrade() -> None:

    op.drop_table("persons")
    with op.batch_alter_table("person_lineage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_lineage_run_id"))
        batch_op.drop_index(batch_op.f("ix_person_lineage_person_id"))
        batch_op.drop_index(batch_op.f("ix_person_lineage_other_person_id"))

    op.drop_table("person_lineage")
    with op.batch_alter_table("person_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_assignments_person_id"))

    op.drop_table("person_assignments")
    op.drop_table("identity_runs")
    with op.batch_alter_table("identity_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_review_run_id"))

    op.drop_table("identity_review")
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_links_row_key_r"))
        batch_op.drop_index(batch_op.f("ix_identity_links_row_key_l"))

    op.drop_table("identity_links")
    op.drop_table("identity_decisions")
