"""Cheaper delivery counts on the publish path, and two redundant indexes dropped.

On PostgreSQL the statement triggers of revision 0018 joined each statement's transition
tables to ``posts`` for the campaign. A query over transition tables is planned again on
every call, and planning that join was most of PostgreSQL's CPU per published delivery in
a launch burst (1.71 ms; 0.53 ms with this revision and a single row version per start,
docs/benchmarks.md, "Launch burst").
Deliveries carry their campaign since 0018, so the
functions now read it from the rows themselves: one union of the old and new rows, summed
per key, applied in key order as before (the deadlock argument of 0018 is unchanged).

The functions are correct at revision 0018 too (it added ``deliveries.campaign_id``), so a
downgrade keeps them and only restores the indexes.

``ix_deliveries_post_id`` repeats the first column of the unique (post, account) index,
and ``ix_delivery_metrics_account_id`` the first column of (account, interactions) of 0018:
every non-HOT update of a delivery paid an entry in the first for nothing.

Revision ID: 0021
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None

_UPSERT = (
    "INSERT INTO delivery_counts AS c (campaign_id, account_id, state, n) {rows} "
    "ON CONFLICT (campaign_id, account_id, state) DO UPDATE SET n = c.n + EXCLUDED.n"
)
_SUMMED = "SELECT campaign_id, account_id, state, {total} FROM {rows} GROUP BY 1, 2, 3"
_IN_KEY_ORDER = " ORDER BY 1, 2, 3"

FUNCTIONS = {
    "insert": _UPSERT.format(
        rows=_SUMMED.format(total="count(*)", rows="new_rows") + _IN_KEY_ORDER
    ),
    "delete": _UPSERT.format(
        rows=_SUMMED.format(total="-count(*)", rows="old_rows") + _IN_KEY_ORDER
    ),
    # A row whose state, account and campaign stay the same adds -1 and +1 to one key:
    # the sum drops it, so a statement that changes no state writes nothing.
    "update": _UPSERT.format(
        rows=_SUMMED.format(  # noqa: S608 - this module's constant SQL only
            total="sum(delta)",
            rows="(SELECT campaign_id, account_id, state, -1 AS delta FROM old_rows "
            "UNION ALL SELECT campaign_id, account_id, state, 1 FROM new_rows) AS moved",
        )
        + " HAVING sum(delta) <> 0"
        + _IN_KEY_ORDER
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event, body in FUNCTIONS.items():
            op.execute(
                f"CREATE OR REPLACE FUNCTION delivery_counts_{event}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"
            )
    op.drop_index("ix_deliveries_post_id", table_name="deliveries")
    op.drop_index("ix_delivery_metrics_account_id", table_name="delivery_metrics")


def downgrade() -> None:
    op.create_index("ix_delivery_metrics_account_id", "delivery_metrics", ["account_id"])
    op.create_index("ix_deliveries_post_id", "deliveries", ["post_id"])
