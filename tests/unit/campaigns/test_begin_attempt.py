"""Starting an attempt: the admission decides by returning a value, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import Deferred, Started, begin_attempt, claim_due
from campaigns.states import DeliveryState
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
SLOT = NOW + timedelta(minutes=10)


@pytest.fixture
def claimed(session: Session) -> tuple[int, int]:
    """One delivery due at ``NOW``, claimed: (delivery id, ticket)."""
    factories.account(session, handle="a", now=NOW)
    factories.campaign(session, now=NOW)
    factories.scheduled_post(
        session,
        campaign_name="IP Creates a Better Life",
        accounts=["mock:a"],
        now=NOW - timedelta(seconds=1),
        in_seconds=1,
    )
    (claim,) = claim_due(session, now=NOW, lookahead=timedelta(0))
    return claim.delivery_id, claim.ticket


def _delivery(session: Session, delivery_id: int) -> Delivery:
    return session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).execution_options(populate_existing=True)
    ).one()


def _attempt_rows(session: Session, delivery_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
        )
        or 0
    )


def test_an_admitted_attempt_is_started_with_the_account_it_loaded(
    session: Session, claimed: tuple[int, int]
) -> None:
    delivery_id, ticket = claimed
    seen: list[tuple[str, datetime | None]] = []

    def admit(account: Account, reserved_slot_at: datetime | None) -> datetime | None:
        seen.append((account.handle, reserved_slot_at))
        return None

    begun = begin_attempt(
        session, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE, admit=admit
    )
    assert isinstance(begun, Started)
    assert seen == [("a", None)]
    assert begun.account.id == begun.start.account_id
    assert (begun.start.delivery_id, begun.start.attempt) == (delivery_id, 1)
    delivery = _delivery(session, delivery_id)
    assert delivery.state is DeliveryState.PUBLISHING
    assert (delivery.attempts, delivery.started_at) == (1, NOW)
    assert delivery.lease_until == NOW + LEASE
    assert _attempt_rows(session, delivery_id) == 1


def test_a_later_slot_defers_the_delivery_to_it_and_makes_no_attempt(
    session: Session, claimed: tuple[int, int]
) -> None:
    delivery_id, ticket = claimed
    before = _delivery(session, delivery_id)
    lease_before = before.lease_until
    begun = begin_attempt(
        session,
        delivery_id=delivery_id,
        ticket=ticket,
        now=NOW,
        lease=LEASE,
        admit=lambda account, slot: SLOT,
    )
    assert begun == Deferred(at=SLOT, platform="mock")
    delivery = _delivery(session, delivery_id)
    assert delivery.state is DeliveryState.SCHEDULED
    assert (delivery.attempts, delivery.started_at, delivery.lateness_ms) == (0, None, None)
    assert delivery.lease_until == lease_before
    assert delivery.next_attempt_at == SLOT
    assert delivery.reserved_slot_at == SLOT
    assert _attempt_rows(session, delivery_id) == 0
    # The same message again finds nothing to do; the next claim brings the reserved slot.
    assert (
        begin_attempt(session, delivery_id=delivery_id, ticket=ticket, now=NOW, lease=LEASE) is None
    )
    (claim,) = claim_due(session, now=SLOT, lookahead=timedelta(0))
    slots: list[datetime | None] = []

    def admit(account: Account, reserved_slot_at: datetime | None) -> datetime | None:
        slots.append(reserved_slot_at)
        return None

    begun = begin_attempt(
        session, delivery_id=delivery_id, ticket=claim.ticket, now=SLOT, lease=LEASE, admit=admit
    )
    assert isinstance(begun, Started)
    assert slots == [SLOT]
    delivery = _delivery(session, delivery_id)
    assert (delivery.attempts, delivery.started_at, delivery.reserved_slot_at) == (1, SLOT, None)
    assert delivery.lateness_ms == round((SLOT - NOW).total_seconds() * 1000)


@pytest.mark.parametrize(
    ("after_due", "expected_ms"),
    [
        (timedelta(seconds=1, microseconds=234_700), 1_235),
        (timedelta(hours=26, milliseconds=3), 93_600_003),
        (timedelta(microseconds=400), 0),
        (-timedelta(seconds=2), 0),  # started early (the dispatcher's look-ahead): not late
        (-timedelta(days=30), 0),
        (timedelta(days=40), 2**31 - 1),  # a backlog: capped at the column's limit
    ],
)
def test_the_database_measures_the_first_start_to_the_millisecond(
    session: Session, claimed: tuple[int, int], after_due: timedelta, expected_ms: int
) -> None:
    delivery_id, ticket = claimed
    started = NOW + after_due
    begun = begin_attempt(session, delivery_id=delivery_id, ticket=ticket, now=started, lease=LEASE)
    assert isinstance(begun, Started)
    assert begun.start.lateness_ms == expected_ms
    delivery = _delivery(session, delivery_id)
    assert (delivery.started_at, delivery.lateness_ms) == (started, expected_ms)
    assert delivery.lease_until == started + LEASE
