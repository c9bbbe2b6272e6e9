"""person_scores: columns named for the settings' window, not "12 months"

The window is a setting (``windows.window_days``); a column called
``attendances_12m`` misled whenever it was not 365 days.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENAMED = {
    "harm_12m": "harm_window",
    "attendances_12m": "attendances_window",
    "victims_12m": "victims_window",
    "new_victims_12m": "new_victims_window",
    "marac_repeats_12m": "marac_repeats_window",
}


def upgrade() -> None:
    with op.batch_alter_table("person_scores") as batch:
        for old, new in RENAMED.items():
            batch.alter_column(old, new_column_name=new)


def downgrade() -> None:
    with op.batch_alter_table("person_scores") as batch:
        for old, new in RENAMED.items():
            batch.alter_column(new, new_column_name=old)
