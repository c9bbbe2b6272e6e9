"""accounts: argon2 hashes, sign-in failures and lockout, sessions

Argon2 hashes need no schema change (``password_hash`` is text and old scrypt
hashes are rehashed at the next sign-in). New: ``app_sessions`` (one row per
browser sign-in, for the cookie and the idle/absolute timeouts) and
``sign_in_attempts`` (failures in a row per attempted name, for back-off and
lockout).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_app_sessions")),
    )
    op.create_index(op.f("ix_app_sessions_username"), "app_sessions", ["username"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("attempt_key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("attempt_key", name=op.f("pk_sign_in_attempts")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    op.drop_index(op.f("ix_app_sessions_username"), table_name="app_sessions")
    op.drop_table("app_sessions")
