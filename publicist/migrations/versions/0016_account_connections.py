"""Account connections: each account's status (active, needs reconnect, disabled, removed)
and the pending authorisations of connections started in the workspace or the CLI.

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UTC = publicist.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", UTC, nullable=True))
    op.create_table(
        "pending_authorizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("verifier_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_pending_authorizations_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_authorizations")),
        sa.UniqueConstraint("state_digest", name=op.f("uq_pending_authorizations_state_digest")),
    )


def downgrade() -> None:
    op.drop_table("pending_authorizations")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("status_changed_at")
        batch.drop_column("status_reason")
        batch.drop_column("status")
