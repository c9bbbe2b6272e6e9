"""learned models trained on the force's own past

``adapt calibrate`` also trains the learned model (P(any incident in the next
12 months)) on the stored history, rolling origin, and keeps each version
here: the model as JSON (coefficients and scaling, no person), its training
dates, its out-of-time figures, its calibration table and fairness-by-sex
audit (group counts only), and its card (issue 13 item 3).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("fit_origins", sa.String(200), nullable=False),
        sa.Column("held_out_origin", sa.Date(), nullable=False),
        sa.Column("auc_any_incident", sa.Float(), nullable=True),
        sa.Column("capture_k100", sa.Float(), nullable=True),
        sa.Column("model_json", sa.Text(), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("stored_by", sa.String(100), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("version", name=op.f("uq_learned_models_version")),
    )


def downgrade() -> None:
    op.drop_table("learned_models")
