"""Inbox, workers' heartbeat and recurring series: the kind of a delivery's last error (so the
inbox can say it in plain words), a one-row dispatch heartbeat, and post series.

``posts.series_id`` has no foreign key, like ``posts.created_by``: SQLite could add one only
by rebuilding ``posts``, which every delivery refers to; series are never deleted.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0015"
down_revision = "0017"
branch_labels = None
depends_on = None

UTC = publicist.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("last_error_kind", sa.String(length=32), nullable=True))
    op.create_table(
        "dispatch_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticked_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_heartbeat")),
    )
    op.create_table(
        "post_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=500), nullable=False),
        sa.Column("starts_local", sa.String(length=16), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("overlap", sa.String(length=8), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("cancelled_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_post_series_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_series")),
    )
    op.create_index("ix_post_series_campaign_id", "post_series", ["campaign_id"])
    op.add_column("posts", sa.Column("series_id", sa.Integer(), nullable=True))
    op.create_index("ix_posts_series_id", "posts", ["series_id"])


def downgrade() -> None:
    op.drop_index("ix_posts_series_id", table_name="posts")
    op.drop_column("posts", "series_id")
    op.drop_index("ix_post_series_campaign_id", table_name="post_series")
    op.drop_table("post_series")
    op.drop_table("dispatch_heartbeat")
    op.drop_column("deliveries", "last_error_kind")
