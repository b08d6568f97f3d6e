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

Campaign totals per platform (``campaign_platform_totals``) follow the daily rollups the
same way: every rollup insert or update adds its change, so the campaign list and a report
read one row per platform instead of summing platforms × days. A collector grows rollup
rows in key order (campaign, platform, day), and all rows of one recording carry the same
day per campaign (the collection's time in the campaign's zone), so the totals row of a
(campaign, platform) is taken right after its one day row, in the same order by every
collector: no lock cycle. It adds no new waiting either: concurrent collectors of one
campaign and platform already queue on that day's rollup row.

Deliveries also carry their post's campaign (``deliveries.campaign_id``, set by the database
on insert from the post; a post never changes campaign), so that a calendar month of one
campaign is one index range of (campaign, due time) instead of a join through every post.

Also indexes for the reads that still touch deliveries: those that ended badly (failed,
unknown, missed) by due time, an account's published deliveries by publish time, and an
account's latest values by interactions (its top posts).

Revision ID: 0018
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0018"
down_revision = "0020"
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


COUNTERS = ("views", "likes", "comments", "shares")
_TOTAL_COLUMNS = (
    "campaign_id, platform, views, likes, comments, shares, interactions, "
    "views_days, likes_days, comments_days, shares_days, updated_at"
)


def _total_values(new: str, old: str | None) -> str:
    """The change one rollup row brings: sums, days with a value, its time."""
    flag = "(CASE WHEN {row}.{c} IS NULL THEN 0 ELSE 1 END)"
    sums = [
        f"coalesce({new}.{c}, 0)" + (f" - coalesce({old}.{c}, 0)" if old else "") for c in COUNTERS
    ]
    interactions = f"{new}.interactions" + (f" - {old}.interactions" if old else "")
    days = [
        flag.format(row=new, c=c) + (" - " + flag.format(row=old, c=c) if old else "")
        for c in COUNTERS
    ]
    return ", ".join(
        [f"{new}.campaign_id", f"{new}.platform", *sums, interactions, *days, f"{new}.updated_at"]
    )


def _total_upsert(values: str, *, postgres: bool) -> str:
    later = "greatest" if postgres else "max"
    # SQLite takes no alias for the target inside a trigger; PostgreSQL needs one.
    t = "t" if postgres else "campaign_platform_totals"
    alias = " AS t" if postgres else ""
    sets = ", ".join(
        f"{c} = {t}.{c} + excluded.{c}"
        for c in (*COUNTERS, "interactions", *(f"{c}_days" for c in COUNTERS))
    )
    return (
        # The SQL is built from this module's constant names only, never from input.
        f"INSERT INTO campaign_platform_totals{alias} ({_TOTAL_COLUMNS}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT (campaign_id, platform) DO UPDATE SET {sets}, "
        f"updated_at = {later}(coalesce({t}.updated_at, excluded.updated_at), excluded.updated_at)"
    )


def _total_recount(row: str) -> str:
    """A pair's totals recounted from its days (after a rollup row is deleted: rare)."""
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in COUNTERS)
    days = ", ".join(f"count({c})" for c in COUNTERS)
    where = f"campaign_id = {row}.campaign_id AND platform = {row}.platform"
    return (
        f"DELETE FROM campaign_platform_totals WHERE {where}; "  # noqa: S608 - constant names
        f"INSERT INTO campaign_platform_totals ({_TOTAL_COLUMNS}) "
        f"SELECT campaign_id, platform, {sums}, coalesce(sum(interactions), 0), {days}, "
        f"max(updated_at) FROM metric_daily_rollups WHERE {where} GROUP BY campaign_id, platform;"
    )


TOTALS_BACKFILL = (
    f"INSERT INTO campaign_platform_totals ({_TOTAL_COLUMNS}) "  # noqa: S608 - constant names
    "SELECT campaign_id, platform, "
    + ", ".join(f"coalesce(sum({c}), 0)" for c in COUNTERS)
    + ", coalesce(sum(interactions), 0), "
    + ", ".join(f"count({c})" for c in COUNTERS)
    + ", max(updated_at) FROM metric_daily_rollups GROUP BY campaign_id, platform"
)


def _totals_triggers(postgres: bool) -> None:
    if postgres:
        op.execute(
            "CREATE FUNCTION campaign_platform_totals_follow() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'INSERT' THEN "
            + _total_upsert(_total_values("NEW", None), postgres=True)
            + "; ELSIF TG_OP = 'UPDATE' THEN "
            + _total_upsert(_total_values("NEW", "OLD"), postgres=True)
            + "; ELSE "
            + _total_recount("OLD")
            + " END IF; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER rollups_total AFTER INSERT OR UPDATE OR DELETE "
            "ON metric_daily_rollups FOR EACH ROW "
            "EXECUTE FUNCTION campaign_platform_totals_follow()"
        )
        return
    op.execute(
        "CREATE TRIGGER rollups_total_insert AFTER INSERT ON metric_daily_rollups BEGIN "
        + _total_upsert(_total_values("NEW", None), postgres=False)
        + "; END"
    )
    op.execute(
        "CREATE TRIGGER rollups_total_update AFTER UPDATE ON metric_daily_rollups BEGIN "
        + _total_upsert(_total_values("NEW", "OLD"), postgres=False)
        + "; END"
    )
    op.execute(
        "CREATE TRIGGER rollups_total_delete AFTER DELETE ON metric_daily_rollups BEGIN "
        + _total_recount("OLD")
        + " END"
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
    op.create_table(
        "campaign_platform_totals",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        *(sa.Column(c, sa.BigInteger(), nullable=False) for c in (*COUNTERS, "interactions")),
        *(sa.Column(f"{c}_days", sa.Integer(), nullable=False) for c in COUNTERS),
        sa.Column("updated_at", publicist.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "campaign_id", "platform", name=op.f("pk_campaign_platform_totals")
        ),
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
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("deliveries", sa.Column("campaign_id", sa.Integer(), nullable=True))
    op.create_index("ix_deliveries_campaign_due_at", "deliveries", ["campaign_id", "due_at", "id"])
    if postgres:
        # Nothing moves while the triggers start and the counts are backfilled: exact.
        op.execute("LOCK TABLE deliveries, metric_daily_rollups IN SHARE MODE")
        op.execute(
            "CREATE FUNCTION deliveries_campaign() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.campaign_id := (SELECT campaign_id FROM posts WHERE id = NEW.post_id); "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER deliveries_campaign BEFORE INSERT OR UPDATE OF post_id "
            "ON deliveries FOR EACH ROW EXECUTE FUNCTION deliveries_campaign()"
        )
    else:
        op.execute(
            "CREATE TRIGGER deliveries_campaign AFTER INSERT ON deliveries BEGIN "
            "UPDATE deliveries SET campaign_id = "
            "(SELECT campaign_id FROM posts WHERE id = NEW.post_id) WHERE id = NEW.id; END"
        )
    op.execute(
        "UPDATE deliveries SET campaign_id = "
        "(SELECT campaign_id FROM posts WHERE posts.id = deliveries.post_id)"
    )
    if postgres:
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
    _totals_triggers(postgres)
    op.execute(TOTALS_BACKFILL)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS deliveries_campaign ON deliveries")
        op.execute("DROP FUNCTION IF EXISTS deliveries_campaign()")
    else:
        op.execute("DROP TRIGGER IF EXISTS deliveries_campaign")
    op.drop_index("ix_deliveries_campaign_due_at", table_name="deliveries")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and rebuild ``deliveries``,
    # which the foreign keys of rows referring to it refuse.
    op.drop_column("deliveries", "campaign_id")
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS rollups_total ON metric_daily_rollups")
        op.execute("DROP FUNCTION IF EXISTS campaign_platform_totals_follow()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS rollups_total_{event}")
    op.drop_table("campaign_platform_totals")
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
