"""Indexes that hold only what each beat tick looks for, and collection planning's queue.

The missed-post check's index (0010) no longer leads with the state its predicate fixes;
the reconciler's lease scan and the submission poll get partial indexes of their one state;
the collection plan's index keeps only deliveries still inside their collection window; and
``deliveries.metrics_planned`` makes a queue of published deliveries not planned yet (a
partial index), so planning no longer compares every published delivery with its metrics.

Revision ID: 0020
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

# The same predicates as the models (a migration keeps its own copy: models change).
NEVER_TRIED = "state = 'scheduled' AND attempts = 0 AND reserved_slot_at IS NULL"
LEASED = "state = 'publishing'"
SUBMITTED = "state = 'submitted'"
METRICS_UNPLANNED = "state = 'published' AND remote_id IS NOT NULL AND metrics_planned = false"
COLLECTING = "next_collect_at IS NOT NULL"


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column(
        "deliveries",
        sa.Column("metrics_planned", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Planned already: every delivery with a metrics row. The rest are planned by the next
    # collection tick, exactly as before (one pass over history, here, instead of each tick).
    op.execute(
        "UPDATE deliveries SET metrics_planned = true "
        "WHERE id IN (SELECT delivery_id FROM delivery_metrics)"
    )
    # Revision 0010 led this index with ``state``, which its predicate fixes: PostgreSQL then
    # reads the whole index for a range of due times (every delivery scheduled ahead).
    op.drop_index("ix_deliveries_never_tried_due_at", table_name="deliveries")
    _partial("ix_deliveries_never_tried_due_at", "deliveries", ["due_at"], NEVER_TRIED)
    _partial("ix_deliveries_publishing_lease_until", "deliveries", ["lease_until"], LEASED)
    _partial("ix_deliveries_submitted_updated_at", "deliveries", ["updated_at"], SUBMITTED)
    _partial("ix_deliveries_metrics_unplanned", "deliveries", ["id"], METRICS_UNPLANNED)
    op.drop_index("ix_delivery_metrics_next_collect_at", table_name="delivery_metrics")
    _partial(
        "ix_delivery_metrics_collect_due",
        "delivery_metrics",
        ["next_collect_at", "delivery_id"],
        COLLECTING,
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_metrics_collect_due", table_name="delivery_metrics")
    op.create_index("ix_delivery_metrics_next_collect_at", "delivery_metrics", ["next_collect_at"])
    op.drop_index("ix_deliveries_metrics_unplanned", table_name="deliveries")
    op.drop_index("ix_deliveries_submitted_updated_at", table_name="deliveries")
    op.drop_index("ix_deliveries_publishing_lease_until", table_name="deliveries")
    op.drop_index("ix_deliveries_never_tried_due_at", table_name="deliveries")
    _partial("ix_deliveries_never_tried_due_at", "deliveries", ["state", "due_at"], NEVER_TRIED)
    op.drop_column("deliveries", "metrics_planned")
