"""A partial index for the dispatcher's per-tick missed-post check: never-tried deliveries.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The same predicate as campaigns.models (a migration keeps its own copy: models change).
NEVER_TRIED = "state = 'scheduled' AND attempts = 0 AND reserved_slot_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_never_tried_due_at",
        "deliveries",
        ["state", "due_at"],  # state first: SQLite then prefers it (see campaigns.models)
        sqlite_where=sa.text(NEVER_TRIED),
        postgresql_where=sa.text(NEVER_TRIED),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_never_tried_due_at", table_name="deliveries")
