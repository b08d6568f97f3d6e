"""SQLite: delivery ids are never reused (AUTOINCREMENT), now that an edit removes deliveries.

A publish task names its delivery by id and ticket. Without AUTOINCREMENT SQLite gives a new
row the largest id plus one, so a delivery created after an edit removed the newest ones
would take a removed one's id, and a publish task still waiting for the removed delivery
could start the new one. PostgreSQL's sequences never reuse ids: nothing to do there.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _rebuild_deliveries(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    context = op.get_context()
    # SQLite rebuilds a table by copying it, dropping the original and renaming the copy;
    # the drop would delete the rows other tables refer to unless foreign keys are off, which
    # SQLite allows only outside a transaction. The rebuild itself is one transaction.
    with context.autocommit_block():
        _pragma("foreign_keys = OFF")
    try:
        with op.batch_alter_table(
            "deliveries", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
        if op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise RuntimeError("a reference to a delivery broke while rebuilding deliveries")
    finally:
        with context.autocommit_block():
            _pragma("foreign_keys = ON")


def _pragma(setting: str) -> None:
    """Set a pragma outside any transaction (the application's engine begins one on every
    checkout, and SQLite ignores ``foreign_keys`` inside a transaction)."""
    raw = op.get_bind().connection.dbapi_connection
    if raw is None:
        raise RuntimeError("no database connection to migrate")
    if raw.in_transaction:
        raw.commit()
    raw.execute(f"PRAGMA {setting}")


def upgrade() -> None:
    _rebuild_deliveries(autoincrement=True)


def downgrade() -> None:
    _rebuild_deliveries(autoincrement=False)
