"""Reliability: campaign late policy, reserved rate-limit slots, the missed state.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("late_policy", sa.String(length=16), nullable=False, server_default="publish")
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column(
                "reserved_slot_at",
                publicist.core.database.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("reserved_slot_at")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("late_policy")
