"""Is anything publishing? The dispatcher's heartbeat, and due work nobody has taken.

The dispatch tick (every second) writes one row at most every ``BEAT_EVERY``; a page reads
that row by its primary key and the oldest late delivery from the dispatcher's own index
(state, next_attempt_at), so the check costs two index reads on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from campaigns.models import Delivery, DispatchHeartbeat
from campaigns.states import DeliveryState
from publicist.core.sql_plans import literal_limit, text_literal

HEARTBEAT_ID = 1
BEAT_EVERY = timedelta(seconds=5)
"""How often the tick writes its row: often enough for a one-minute alarm, rarely enough
not to add a write to every tick."""
STALE_AFTER = timedelta(minutes=1)
"""A dispatcher silent this long, or due work untaken this long, means nothing runs."""


def record_tick(session: Session, *, now: datetime) -> None:
    """Note that the dispatcher ran; skipped when it was noted less than ``BEAT_EVERY`` ago."""
    result = session.execute(
        update(DispatchHeartbeat)
        .where(DispatchHeartbeat.id == HEARTBEAT_ID, DispatchHeartbeat.ticked_at < now - BEAT_EVERY)
        .values(ticked_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0):
        return
    # The first tick ever: two dispatchers may get here at once, so the row is inserted
    # unless it exists (a fresh row, or one written less than BEAT_EVERY ago, is kept).
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(DispatchHeartbeat)
        .values(id=HEARTBEAT_ID, ticked_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )


@dataclass(frozen=True)
class WorkersHealth:
    """What the banner says: the last tick, and the oldest due delivery nobody took."""

    last_tick: datetime | None
    beat_stopped: bool
    """No tick for ``STALE_AFTER`` (or never) while deliveries wait to be published."""
    oldest_unclaimed: datetime | None
    """Due more than ``STALE_AFTER`` ago and still scheduled or queued (not started)."""

    @property
    def ok(self) -> bool:
        return not self.beat_stopped and self.oldest_unclaimed is None


def workers_health(session: Session, *, now: datetime) -> WorkersHealth:
    """Whether the beat and the workers run, from index reads only.

    A stopped beat with nothing waiting harms nobody yet, so it is not an alarm: a banner
    that is always up on an idle install would teach people to ignore it.
    """
    cutoff = now - STALE_AFTER

    def oldest_unclaimed(state: DeliveryState) -> ScalarSelect[datetime]:
        # One range read on ix_deliveries_state_next_attempt_at; the state a literal, so a
        # prepared statement's generic plan keeps the range.
        return (
            select(Delivery.next_attempt_at)
            .where(
                Delivery.state == text_literal(state.value),
                Delivery.next_attempt_at < cutoff,
            )
            .order_by(Delivery.next_attempt_at)
            .limit(literal_limit(1))
            .scalar_subquery()
        )

    # One statement (every signed-in page asks): the last tick, the oldest unclaimed
    # delivery of each waiting state, and whether anything waits at all.
    last_tick, scheduled, queued, anything_waits = session.execute(
        select(
            select(DispatchHeartbeat.ticked_at)
            .where(DispatchHeartbeat.id == HEARTBEAT_ID)
            .scalar_subquery(),
            oldest_unclaimed(DeliveryState.SCHEDULED),
            oldest_unclaimed(DeliveryState.QUEUED),
            exists().where(
                Delivery.state.in_(
                    [text_literal(s.value) for s in (DeliveryState.SCHEDULED, DeliveryState.QUEUED)]
                )
            ),
        )
    ).one()
    found = [moment for moment in (scheduled, queued) if moment is not None]
    oldest = min(found) if found else None
    stale = last_tick is None or last_tick < cutoff
    waiting = stale and (oldest is not None or bool(anything_waits))
    return WorkersHealth(last_tick=last_tick, beat_stopped=waiting, oldest_unclaimed=oldest)
