"""The account view's sums read from an index alone (issue 12, "Reads").

The account view adds up the latest values of every post of one account, per campaign. Its
rows were found through ``(account_id, interactions)`` and then read from the table, one
page per post (an account's posts are spread over the whole history). On PostgreSQL the
same index now also carries the columns those sums need (``INCLUDE``), so the sums are an
index-only scan of the account's range. It stays one index: the account's top posts still
walk it by interactions. SQLite has no ``INCLUDE``; its index is unchanged.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

NAME = "ix_delivery_metrics_account_interactions"
CARRIED = [
    "campaign_id",
    "platform",
    "views",
    "likes",
    "comments",
    "shares",
    "collections",
    "collected_at",
]


def _recreate(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="delivery_metrics")
    op.create_index(
        NAME, "delivery_metrics", ["account_id", "interactions"], postgresql_include=include
    )


def upgrade() -> None:
    _recreate(CARRIED)


def downgrade() -> None:
    _recreate([])
