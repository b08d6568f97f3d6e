"""Indexes for two reads that still walked more than they show (issue 12, "Reads").

* Posts in review by publish time: the inbox count in every workspace page's header counts
  the posts whose review expired (in review, publish time passed). Without an index it read
  every post; this one holds only the posts in review.
* Deliveries that ended badly by campaign and due time: a campaign's failures list is the
  first 100 of one range of it, instead of every bad delivery of every campaign filtered
  down to one (or a bitmap of the campaign's whole index).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# The same predicates as the models (a migration keeps its own copy: models change).
IN_REVIEW = "state = 'in_review'"
ENDED_BADLY = "state IN ('failed', 'unknown', 'missed')"


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    _partial("ix_posts_in_review_publish_at", "posts", ["publish_at"], IN_REVIEW)
    _partial(
        "ix_deliveries_ended_badly_campaign_due_at",
        "deliveries",
        ["campaign_id", "due_at", "id"],
        ENDED_BADLY,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_ended_badly_campaign_due_at", table_name="deliveries")
    op.drop_index("ix_posts_in_review_publish_at", table_name="posts")
