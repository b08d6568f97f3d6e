"""Account totals per campaign and platform, kept by triggers on the latest values.

The list of every account (the dashboard's account table, ``/api/reports/accounts``) summed
the latest values of every published delivery: the whole of ``delivery_metrics``, growing
with the history. ``account_metric_totals`` holds those sums per (account, campaign,
platform): the sums of each counter, how many deliveries carry it (0: never reported, shown
as "not available"), interactions and the time of the last measured collection. Triggers on
``delivery_metrics`` change them in the same transaction as every insert, change of a latest
value and delete, as ``campaign_platform_totals`` follows the daily rollups (0018).

On PostgreSQL the triggers run once per statement (transition tables): a collector's
recording is one statement, whose changes are summed per key and applied in key order, so
two collectors take the rows of the accounts they share in the same order. (A statement
trigger cannot name columns, so it also runs for the collection plan's updates of
``next_collect_at``; it finds no changed value there and writes nothing.) SQLite has one
writer at a time: per-row triggers, only when a value changes.

The usual change adds its difference. A change that moves a row to another account,
campaign or platform, or takes its measured time back, and every delete, recount the keys
concerned from ``delivery_metrics`` (the collector never does either).

Revision ID: 0024
Revises: 0023
"""

# ruff: noqa: S608 - every statement here is built from this module's constant names, never input

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TABLE = "account_metric_totals"
KEY = ("account_id", "campaign_id", "platform")
COUNTERS = ("views", "likes", "comments", "shares")
COLUMNS = (
    *KEY,
    *COUNTERS,
    *(f"{c}_reported" for c in COUNTERS),
    "interactions",
    "updated_at",
)
_MEASURED = "(CASE WHEN {r}.collections > 0 THEN {r}.collected_at END)"


def _measured(row: str) -> str:
    return _MEASURED.format(r=row)


def _sums(row: str) -> str:
    """What the delivery_metrics rows named ``row`` add up to, per key (a GROUP BY's
    select list): the backfill, a recount, a statement's inserted rows."""
    return ", ".join(
        [
            *(f"{row}.{k}" for k in KEY),
            *(f"coalesce(sum({row}.{c}), 0)" for c in COUNTERS),
            *(f"count({row}.{c})" for c in COUNTERS),
            f"coalesce(sum({row}.interactions), 0)",
            f"max({_measured(row)})",
        ]
    )


def _flag(row: str, counter: str) -> str:
    return f"(CASE WHEN {row}.{counter} IS NULL THEN 0 ELSE 1 END)"


def _difference(new: str, old: str) -> list[str]:
    """What one row's change adds: the new values less the old ones (no key, no time)."""
    return [
        *(f"coalesce({new}.{c}, 0) - coalesce({old}.{c}, 0)" for c in COUNTERS),
        *(f"{_flag(new, c)} - {_flag(old, c)}" for c in COUNTERS),
        f"{new}.interactions - {old}.interactions",
    ]


def _usual(new: str, old: str) -> str:
    """The row stays under its key and its measured time does not go back."""
    same_key = " AND ".join(f"{new}.{k} = {old}.{k}" for k in KEY)
    forward = (
        f"({_measured(old)} IS NULL OR "
        f"({_measured(new)} IS NOT NULL AND {_measured(new)} >= {_measured(old)}))"
    )
    return f"({same_key} AND {forward})"


def _changed(new: str, old: str, *, postgres: bool) -> str:
    """A counted value differs (a change of ``next_collect_at`` alone counts nothing)."""
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    return (
        "("
        + " OR ".join(
            [
                *(f"{new}.{c} {differs} {old}.{c}" for c in COUNTERS),
                f"{new}.interactions <> {old}.interactions",
                f"{_measured(new)} {differs} {_measured(old)}",
            ]
        )
        + ")"
    )


def _upsert(select: str, *, target: str) -> str:
    """Add ``select``'s rows (in ``COLUMNS`` order) to the kept ones; the later time wins.

    ``target`` names the kept table inside the ``DO UPDATE`` (an alias on PostgreSQL; the
    table itself on SQLite, which takes no alias there)."""
    added = ", ".join(
        f"{c} = {target}.{c} + excluded.{c}"
        for c in (*COUNTERS, *(f"{c}_reported" for c in COUNTERS), "interactions")
    )
    later = (
        f"updated_at = CASE WHEN excluded.updated_at IS NULL THEN {target}.updated_at "
        f"WHEN {target}.updated_at IS NULL OR excluded.updated_at > {target}.updated_at "
        f"THEN excluded.updated_at ELSE {target}.updated_at END"
    )
    alias = f" AS {target}" if target != TABLE else ""
    return (
        f"INSERT INTO {TABLE}{alias} ({', '.join(COLUMNS)}) {select} "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {added}, {later}"
    )


def _recount(keys: str, *, postgres: bool) -> str:
    """The kept rows of ``keys`` (a select of account_id, campaign_id, platform) recounted
    from delivery_metrics; a key left without rows loses its kept row."""
    match = " AND ".join(f"t.{k} = k.{k}" for k in KEY)
    join = " AND ".join(f"m.{k} = k.{k}" for k in KEY)
    if postgres:
        delete = f"DELETE FROM {TABLE} AS t USING ({keys}) AS k WHERE {match}"
    else:
        delete = f"DELETE FROM {TABLE} WHERE ({', '.join(KEY)}) IN ({keys})"
    insert = (
        f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
        f"SELECT {_sums('m')} FROM delivery_metrics AS m JOIN ({keys}) AS k ON {join} "
        f"GROUP BY {', '.join(f'm.{k}' for k in KEY)}"
        + (f" ORDER BY {', '.join(f'm.{k}' for k in KEY)}" if postgres else "")
    )
    return f"{delete}; {insert};"


BACKFILL = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
    f"SELECT {_sums('m')} FROM delivery_metrics AS m GROUP BY {', '.join(f'm.{k}' for k in KEY)}"
)


def _key_of(row: str) -> str:
    """A select of ``row``'s key, named as the kept table names it."""
    return "SELECT " + ", ".join(f"{row}.{k} AS {k}" for k in KEY)


_KEYS_OF_OLD = f"SELECT DISTINCT {', '.join(KEY)} FROM old_rows"
_ORDER = "ORDER BY 1, 2, 3"


def _postgres_functions() -> dict[str, str]:
    usual = _usual("w", "o")
    changed = _changed("w", "o", postgres=True)
    unusual_keys = (
        f"{_key_of('o')} FROM old_rows o "
        f"JOIN new_rows w ON w.delivery_id = o.delivery_id WHERE NOT {usual} "
        f"UNION {_key_of('w')} FROM old_rows o "
        f"JOIN new_rows w ON w.delivery_id = o.delivery_id WHERE NOT {usual}"
    )
    difference = ", ".join(f"sum({d})" for d in _difference("w", "o"))
    return {
        "insert": _upsert(
            f"SELECT {_sums('n')} FROM new_rows AS n "
            f"GROUP BY {', '.join(f'n.{k}' for k in KEY)} {_ORDER}",
            target="t",
        )
        + ";",
        "update": _upsert(
            f"SELECT {', '.join(f'w.{k}' for k in KEY)}, {difference}, "
            f"max({_measured('w')}) FROM old_rows o JOIN new_rows w "
            f"ON w.delivery_id = o.delivery_id WHERE {usual} AND {changed} "
            f"GROUP BY {', '.join(f'w.{k}' for k in KEY)} {_ORDER}",
            target="t",
        )
        + "; "
        + f"IF EXISTS ({unusual_keys}) THEN "
        + _recount(unusual_keys, postgres=True)
        + " END IF;",
        "delete": _recount(_KEYS_OF_OLD, postgres=True),
    }


_REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def _sqlite_triggers() -> dict[str, tuple[str, str]]:
    one_row = ", ".join(
        [
            *(f"NEW.{k}" for k in KEY),
            *(f"coalesce(NEW.{c}, 0)" for c in COUNTERS),
            *(_flag("NEW", c) for c in COUNTERS),
            "NEW.interactions",
            _measured("NEW"),
        ]
    )
    difference = ", ".join(
        [*(f"NEW.{k}" for k in KEY), *_difference("NEW", "OLD"), _measured("NEW")]
    )
    return {
        "insert": (
            "AFTER INSERT ON delivery_metrics",
            _upsert(f"VALUES ({one_row})", target=TABLE) + ";",
        ),
        "update": (
            "AFTER UPDATE ON delivery_metrics WHEN "
            + _usual("NEW", "OLD")
            + " AND "
            + _changed("NEW", "OLD", postgres=False),
            _upsert(f"VALUES ({difference})", target=TABLE) + ";",
        ),
        "rekey": (
            "AFTER UPDATE ON delivery_metrics WHEN NOT " + _usual("NEW", "OLD"),
            _recount(_key_of("OLD"), postgres=False)
            + " "
            + _recount(_key_of("NEW"), postgres=False),
        ),
        "delete": (
            "AFTER DELETE ON delivery_metrics",
            _recount(_key_of("OLD"), postgres=False),
        ),
    }


def upgrade() -> None:
    # No foreign keys, as delivery_counts (0018): the rows follow delivery_metrics.
    op.create_table(
        TABLE,
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        *(sa.Column(c, sa.BigInteger(), nullable=False) for c in COUNTERS),
        *(sa.Column(f"{c}_reported", sa.Integer(), nullable=False) for c in COUNTERS),
        sa.Column("interactions", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", publicist.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(*KEY, name=op.f(f"pk_{TABLE}")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Nothing changes while the triggers start and the totals are backfilled: exact.
        op.execute("LOCK TABLE delivery_metrics IN SHARE MODE")
        for event, body in _postgres_functions().items():
            op.execute(
                f"CREATE FUNCTION account_metric_totals_{event}() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER delivery_metrics_account_{event} AFTER {event.upper()} "
                f"ON delivery_metrics REFERENCING {_REFERENCING[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION account_metric_totals_{event}()"
            )
    else:
        for event, (when, body) in _sqlite_triggers().items():
            op.execute(f"CREATE TRIGGER delivery_metrics_account_{event} {when} BEGIN {body} END")
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in _REFERENCING:
            op.execute(
                f"DROP TRIGGER IF EXISTS delivery_metrics_account_{event} ON delivery_metrics"
            )
            op.execute(f"DROP FUNCTION IF EXISTS account_metric_totals_{event}()")
    else:
        for event in _sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS delivery_metrics_account_{event}")
    op.drop_table(TABLE)
