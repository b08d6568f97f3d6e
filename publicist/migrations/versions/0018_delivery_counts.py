"""Delivery counts: deliveries per (campaign, account, state), kept by triggers on deliveries.

Reads (reports, the campaign list, the account view, the attention counts) sum these rows
instead of grouping the deliveries table. The counts change in the same transaction as each
insert, state change and delete, by triggers, so no code path can forget them.

Contention: a row per (campaign, account, state), so concurrent transitions of different
accounts touch different rows; a launch burst of one campaign spreads over its accounts.
On PostgreSQL the triggers are per statement (transition tables) and apply one statement's
changes in key order, so two statements that move deliveries of the same accounts lock the
count rows in the same order and cannot deadlock on them. SQLite has one writer at a time:
per-row triggers.

Also indexes for the reads that still touch deliveries: those that ended badly (failed,
unknown, missed) by due time, an account's published deliveries by publish time, and an
account's latest values by interactions (its top posts).

Revision ID: 0018
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None

ENDED_BADLY = "state IN ('failed', 'unknown', 'missed')"
PUBLISHED = "state = 'published'"

_UPSERT = (
    "INSERT INTO delivery_counts AS c (campaign_id, account_id, state, n) {rows} "
    "ON CONFLICT (campaign_id, account_id, state) DO UPDATE SET n = c.n + EXCLUDED.n"
)

# One statement's deltas, summed per key and applied in key order (see the module docstring).
_POSTGRES_FUNCTIONS = {
    "insert": _UPSERT.format(
        rows="SELECT p.campaign_id, d.account_id, d.state, count(*) "
        "FROM new_rows d JOIN posts p ON p.id = d.post_id "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    ),
    "delete": _UPSERT.format(
        rows="SELECT p.campaign_id, d.account_id, d.state, -count(*) "
        "FROM old_rows d JOIN posts p ON p.id = d.post_id "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    ),
    "update": _UPSERT.format(
        rows="SELECT k.campaign_id, k.account_id, k.state, sum(k.delta) "
        "FROM old_rows o JOIN new_rows w ON w.id = o.id "
        "JOIN posts po ON po.id = o.post_id JOIN posts pw ON pw.id = w.post_id "
        "CROSS JOIN LATERAL (VALUES (po.campaign_id, o.account_id, o.state, -1), "
        "(pw.campaign_id, w.account_id, w.state, 1)) AS k(campaign_id, account_id, state, delta) "
        "WHERE o.state <> w.state OR o.account_id <> w.account_id OR o.post_id <> w.post_id "
        "GROUP BY 1, 2, 3 HAVING sum(k.delta) <> 0 ORDER BY 1, 2, 3"
    ),
}
_POSTGRES_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}

_SQLITE_UPSERT = (
    "INSERT INTO delivery_counts (campaign_id, account_id, state, n) "
    "SELECT campaign_id, {row}.account_id, {row}.state, {delta} FROM posts "
    "WHERE id = {row}.post_id "
    "ON CONFLICT (campaign_id, account_id, state) DO UPDATE SET n = n + excluded.n;"
)
_SQLITE_TRIGGERS = {
    "insert": ("AFTER INSERT ON deliveries", _SQLITE_UPSERT.format(row="NEW", delta=1)),
    "delete": ("AFTER DELETE ON deliveries", _SQLITE_UPSERT.format(row="OLD", delta=-1)),
    "update": (
        "AFTER UPDATE OF state, account_id, post_id ON deliveries "
        "WHEN OLD.state IS NOT NEW.state OR OLD.account_id IS NOT NEW.account_id "
        "OR OLD.post_id IS NOT NEW.post_id",
        _SQLITE_UPSERT.format(row="OLD", delta=-1) + _SQLITE_UPSERT.format(row="NEW", delta=1),
    ),
}

BACKFILL = (
    "INSERT INTO delivery_counts (campaign_id, account_id, state, n) "
    "SELECT p.campaign_id, d.account_id, d.state, count(*) "
    "FROM deliveries d JOIN posts p ON p.id = d.post_id GROUP BY 1, 2, 3"
)


def upgrade() -> None:
    # No foreign keys: checking them would lock the campaign and account rows on every
    # transition; the counts follow deliveries, which have theirs.
    op.create_table(
        "delivery_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "campaign_id", "account_id", "state", name=op.f("pk_delivery_counts")
        ),
    )
    op.create_index(
        "ix_delivery_counts_account_campaign",
        "delivery_counts",
        ["account_id", "campaign_id", "state"],
    )
    op.create_index(
        "ix_deliveries_ended_badly_due_at",
        "deliveries",
        ["due_at", "id"],
        postgresql_where=sa.text(ENDED_BADLY),
        sqlite_where=sa.text(ENDED_BADLY),
    )
    op.create_index(
        "ix_deliveries_account_published_at",
        "deliveries",
        ["account_id", "published_at"],
        postgresql_where=sa.text(PUBLISHED),
        sqlite_where=sa.text(PUBLISHED),
    )
    op.create_index(
        "ix_delivery_metrics_account_interactions",
        "delivery_metrics",
        ["account_id", "interactions"],
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nothing moves while the triggers start and the counts are backfilled: exact.
        op.execute("LOCK TABLE deliveries IN SHARE MODE")
        for event, body in _POSTGRES_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION delivery_counts_{event}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER deliveries_count_{event} AFTER {event.upper()} ON deliveries "
                f"REFERENCING {_POSTGRES_REFERENCING[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION delivery_counts_{event}()"
            )
    else:
        for event, (when, body) in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER deliveries_count_{event} {when} BEGIN {body} END")
    op.execute(BACKFILL)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in _SQLITE_TRIGGERS:
        op.execute(
            f"DROP TRIGGER IF EXISTS deliveries_count_{event}"
            + (" ON deliveries" if postgres else "")
        )
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS delivery_counts_{event}()")
    op.drop_index("ix_delivery_metrics_account_interactions", table_name="delivery_metrics")
    op.drop_index("ix_deliveries_account_published_at", table_name="deliveries")
    op.drop_index("ix_deliveries_ended_badly_due_at", table_name="deliveries")
    op.drop_index("ix_delivery_counts_account_campaign", table_name="delivery_counts")
    op.drop_table("delivery_counts")
