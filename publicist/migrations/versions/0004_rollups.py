"""Daily rollups per campaign, platform and day; collection counts and report indexes.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_daily_rollups",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("interactions", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", publicist.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_metric_daily_rollups_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "platform", "day", name=op.f("pk_metric_daily_rollups")
        ),
    )
    with op.batch_alter_table("delivery_metrics") as batch:
        batch.add_column(sa.Column("collections", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index(
            "ix_delivery_metrics_campaign_interactions", ["campaign_id", "interactions"]
        )
        batch.create_index("ix_delivery_metrics_account_id", ["account_id"])
    # Rows written before this revision each hold at least one recorded answer; their values
    # become growth on the day they were last collected, so days still sum to the totals.
    op.execute("UPDATE delivery_metrics SET collections = 1")
    _backfill_rollups()


def _backfill_rollups() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT m.campaign_id, m.platform, m.collected_at, m.views, m.likes, m.comments, "
            "m.shares, m.interactions, c.timezone FROM delivery_metrics m "
            "JOIN campaigns c ON c.id = m.campaign_id"
        ).columns(collected_at=publicist.core.database.UTCDateTime())
    ).all()
    sums: dict[tuple[int, str, date], dict[str, int | None]] = {}
    latest: dict[tuple[int, str, date], datetime] = {}
    for row in rows:
        collected: datetime = row.collected_at
        key = (row.campaign_id, row.platform, collected.astimezone(ZoneInfo(row.timezone)).date())
        day = sums.setdefault(key, dict.fromkeys(_COUNTERS))
        for name in _COUNTERS:
            value = getattr(row, name)
            if value is not None:
                day[name] = (day[name] or 0) + int(value)
        latest[key] = max(latest.get(key, collected), collected)
    table = sa.table(
        "metric_daily_rollups",
        sa.column("campaign_id", sa.Integer()),
        sa.column("platform", sa.String()),
        sa.column("day", sa.Date()),
        *(sa.column(name, sa.BigInteger()) for name in _COUNTERS),
        sa.column("updated_at", publicist.core.database.UTCDateTime()),
    )
    if sums:
        op.bulk_insert(
            table,
            [
                {
                    "campaign_id": key[0],
                    "platform": key[1],
                    "day": key[2],
                    **values,
                    "interactions": values["interactions"] or 0,
                    "updated_at": latest[key],
                }
                for key, values in sums.items()
            ],
        )


_COUNTERS = ("views", "likes", "comments", "shares", "interactions")


def downgrade() -> None:
    with op.batch_alter_table("delivery_metrics") as batch:
        batch.drop_index("ix_delivery_metrics_account_id")
        batch.drop_index("ix_delivery_metrics_campaign_interactions")
        batch.drop_column("collections")
    op.drop_table("metric_daily_rollups")
