"""Review states and the audit log: post authors and rejection comments, per-campaign
self-approval, and the append-only audit_entries table (triggers refuse UPDATE and DELETE).

Posts' states are stored as plain strings of up to 16 characters; ``in_review`` and
``rejected`` fit. PostgreSQL also gets a CHECK listing every state; on SQLite it would need
the posts table rebuilt (every delivery refers to it), so the models' enum keeps it there.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publicist.core.database

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC = publicist.core.database.UTCDateTime(timezone=True)
# The states as of this revision (a migration keeps its own copy: models change).
POST_STATES = ("draft", "in_review", "rejected", "approved", "scheduled", "cancelled")
REFUSAL = "audit entries are append-only"


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column("self_approval", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # No foreign key: SQLite could drop such a column again only by rebuilding posts, and
    # people are never deleted (they are disabled).
    op.add_column("posts", sa.Column("created_by", sa.Integer(), nullable=True))
    op.add_column("posts", sa.Column("review_comment", sa.Text(), nullable=True))
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_entries_post_id_id", "audit_entries", ["post_id", "id"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        states = ", ".join(f"'{s}'" for s in POST_STATES)
        op.execute(f"ALTER TABLE posts ADD CONSTRAINT ck_posts_state CHECK (state IN ({states}))")
        op.execute(
            "CREATE FUNCTION audit_entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_entries")  # its triggers go with it
        op.execute("DROP FUNCTION audit_entries_refuse()")
        op.execute("ALTER TABLE posts DROP CONSTRAINT ck_posts_state")
    else:
        op.drop_table("audit_entries")
    op.drop_column("posts", "review_comment")
    op.drop_column("posts", "created_by")
    op.drop_column("campaigns", "self_approval")
