"""Reads of the audit log, shared by the CLI and the API: a post's history, a period's log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.audit.models import AuditEntry
from publicist.core.errors import InvalidInput

MAX_DAYS = 3660
"""The longest period one read covers (about ten years)."""


def post_history(session: Session, *, post_id: int) -> list[AuditEntry]:
    """Every entry about a post and its deliveries, oldest first (an index range read)."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.post_id == post_id).order_by(AuditEntry.id)
        )
    )


def post_revision(session: Session, *, post_id: int) -> int:
    """The id of the post's latest audit entry (0 before any): every change of a post writes
    one, so a form that carries it can tell whether the post changed since it was read."""
    latest = session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.post_id == post_id))
    return int(latest or 0)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``start`` to ``end`` inclusive, as whole UTC days: [first midnight, last midnight)."""
    if end < start:
        raise InvalidInput("to", end.isoformat(), f"is before from {start.isoformat()}")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("to", end.isoformat(), f"is more than {MAX_DAYS} days after from")
    first = datetime.combine(start, time(), tzinfo=UTC)
    return first, datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)


def entries_between(
    session: Session, *, start: date, end: date, limit: int | None = None, offset: int = 0
) -> list[AuditEntry]:
    """Entries written on the UTC days ``start`` to ``end``, oldest first."""
    return list(_between(session, start=start, end=end, limit=limit, offset=offset))


def iter_entries_between(session: Session, *, start: date, end: date) -> Iterator[AuditEntry]:
    """The same, streamed in batches (an export of a long period stays small in memory)."""
    return _between(session, start=start, end=end, limit=None, offset=0)


def _between(
    session: Session, *, start: date, end: date, limit: int | None, offset: int
) -> Iterator[AuditEntry]:
    first, after_last = period_bounds(start, end)
    query = (
        select(AuditEntry)
        .where(AuditEntry.at >= first, AuditEntry.at < after_last)
        .order_by(AuditEntry.at, AuditEntry.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return iter(session.scalars(query.execution_options(yield_per=1000)))
