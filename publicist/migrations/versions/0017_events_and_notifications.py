"""Events outbox, notification channels, subscriptions and sends, webhook targets with their
deliveries and attempt log, and scheduled report e-mails.

Revision ID: 0017
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None

UTC = publicist.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=True, unique=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("fanned_out_at", UTC, nullable=True),
    )
    op.create_index("ix_events_pending", "events", ["fanned_out_at", "id"])
    op.create_table(
        "notify_channels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("url_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("url_redacted", sa.String(500), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "notify_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("notify_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("digest_minutes", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", UTC, nullable=True),
        sa.UniqueConstraint("person_id", "channel_id"),
    )
    op.create_table(
        "notify_sends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("notify_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("sent_at", UTC, nullable=True),
        sa.UniqueConstraint("event_id", "person_id", "channel_id"),
    )
    op.create_index("ix_notify_sends_status", "notify_sends", ["status", "subscription_id"])
    op.create_table(
        "webhook_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("allow_private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "target_id",
            sa.Integer(),
            sa.ForeignKey("webhook_targets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("event_id", "target_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Integer(),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "number"])
    op.create_table(
        "report_schedules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("every", sa.String(8), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column(
            "channel_id",
            sa.Integer(),
            sa.ForeignKey("notify_channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("next_run_at", UTC, nullable=False),
        sa.Column("last_run_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "report_schedules",
        "webhook_attempts",
        "webhook_deliveries",
        "webhook_targets",
        "notify_sends",
        "notify_subscriptions",
        "notify_channels",
        "events",
    ):
        op.drop_table(table)
