"""Calendar: an index of deliveries by due time, and secret iCalendar feeds per campaign.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC = publicist.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_deliveries_due_at", "deliveries", ["due_at"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_calendar_feeds_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_calendar_feeds_created_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_calendar_feeds_secret_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_campaign_id"), "calendar_feeds", ["campaign_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_feeds_campaign_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    op.drop_index("ix_deliveries_due_at", table_name="deliveries")
