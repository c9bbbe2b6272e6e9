"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:51:08.708571
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("offence", sa.String(length=40), nullable=False),
        sa.Column("is_crime", sa.Boolean(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("dash_risk", sa.String(length=10), nullable=True),
        sa.Column("injury", sa.String(length=10), nullable=True),
        sa.Column("weapon", sa.Boolean(), nullable=True),
        sa.Column("children_present", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("first_import_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_incidents_incident_id")),
    )
    op.create_table(
        "involvements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("person_ref", sa.String(length=100), nullable=True),
        sa.Column("forename", sa.String(length=200), nullable=True),
        sa.Column("surname", sa.String(length=200), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("home_address", sa.Text(), nullable=True),
        sa.Column("home_postcode", sa.String(length=16), nullable=True),
        sa.Column("relationship", sa.String(length=20), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("first_import_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvements")),
        sa.UniqueConstraint("incident_id", "seq", name="uq_involvements_incident_seq"),
    )
    op.create_table(
        "management",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("person_ref", sa.String(length=100), nullable=True),
        sa.Column("forename", sa.String(length=200), nullable=True),
        sa.Column("surname", sa.String(length=200), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("first_import_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management")),
        sa.UniqueConstraint("record_key", name=op.f("uq_management_record_key")),
    )
    op.create_table(
        "marac_referrals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("referral_date", sa.Date(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("flagged_at", sa.Date(), nullable=True),
        sa.Column("victim_person_ref", sa.String(length=100), nullable=True),
        sa.Column("victim_forename", sa.String(length=200), nullable=True),
        sa.Column("victim_surname", sa.String(length=200), nullable=True),
        sa.Column("victim_date_of_birth", sa.Date(), nullable=True),
        sa.Column("perpetrator_person_ref", sa.String(length=100), nullable=True),
        sa.Column("perpetrator_forename", sa.String(length=200), nullable=True),
        sa.Column("perpetrator_surname", sa.String(length=200), nullable=True),
        sa.Column("perpetrator_date_of_birth", sa.Date(), nullable=True),
        sa.Column("referring_agency", sa.String(length=100), nullable=True),
        sa.Column("row_hash", sa.BigInteger(), nullable=False),
        sa.Column("first_import_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marac_referrals")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_marac_referrals_referral_id")),
    )
    op.create_table(
        "import_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("loaded", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("ignored_columns", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_import_files_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_files")),
    )
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_files_import_id"), ["import_id"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("column_name", sa.String(length=100), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("problem_hash", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_quarantine_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint("problem_hash", name=op.f("uq_quarantine_problem_hash")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_import_id"), ["import_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_import_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_files_import_id"))

    op.drop_table("import_files")
    op.drop_table("marac_referrals")
    op.drop_table("management")
    op.drop_table("involvements")
    op.drop_table("incidents")
    op.drop_table("imports")
