"""A batch of attempts: one compare-and-set per row in one statement, results in one go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Delivery, DeliveryAttempt
from campaigns.publishing import (
    Claim,
    Deferred,
    Started,
    begin_attempts,
    claim_due,
    record_results,
)
from campaigns.states import DeliveryState
from connectors.base import PublishResult, PublishState
from tests import factories

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
SLOT = NOW + timedelta(minutes=10)


def _claims(session: Session, *, posts: int, handles: tuple[str, ...] = ("a",)) -> list[Claim]:
    for handle in handles:
        factories.account(session, handle=handle, now=NOW)
    factories.campaign(session, now=NOW)
    for n in range(posts):
        factories.scheduled_post(
            session,
            campaign_name="IP Creates a Better Life",
            accounts=[f"mock:{handle}" for handle in handles],
            now=NOW - timedelta(seconds=1),
            in_seconds=1,
            text=f"launch post {n}",
        )
    return claim_due(session, now=NOW, lookahead=timedelta(0))


def _rows(session: Session) -> dict[int, Delivery]:
    found = session.scalars(select(Delivery).execution_options(populate_existing=True))
    return {delivery.id: delivery for delivery in found}


def _attempts(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for attempt in session.scalars(
        select(DeliveryAttempt)
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        .execution_options(populate_existing=True)
    ):
        out.setdefault(attempt.delivery_id, []).append(attempt.outcome)
    return out


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_claims_name_their_account(session: Session) -> None:
    claims = _claims(session, posts=2, handles=("a", "b"))
    accounts = {a.handle: a.id for a in session.scalars(select(Account))}
    rows = _rows(session)
    assert len(claims) == 4
    assert {c.account_id for c in claims} == {accounts["a"], accounts["b"]}
    assert all(c.account_id == rows[c.delivery_id].account_id for c in claims)


def test_each_row_is_compared_and_set_on_its_own_ticket(session: Session) -> None:
    claims = _claims(session, posts=3, handles=("a", "b"))
    stale = claims[0]
    items = [(c.delivery_id, c.ticket + 1 if c == stale else c.ticket) for c in claims]

    admit_calls: list[str] = []

    def admit(account: Account, reserved_slot_at: datetime | None) -> datetime | None:
        admit_calls.append(account.handle)
        return SLOT if len(admit_calls) == 1 else None  # the first one asked waits

    begun = begin_attempts(session, items=items, now=NOW, lease=LEASE, admit=admit)

    assert stale.delivery_id not in begun  # not our ticket: nothing to do
    assert len(admit_calls) == len(claims) - 1  # asked once per delivery we own
    first = min(c.delivery_id for c in claims[1:])
    assert begun[first] == Deferred(at=SLOT, platform="mock")
    rows = _rows(session)
    attempts = _attempts(session)
    for delivery_id, outcome in begun.items():
        row = rows[delivery_id]
        if isinstance(outcome, Deferred):
            assert (row.state, row.attempts, row.next_attempt_at) == (
                DeliveryState.SCHEDULED,
                0,
                SLOT,
            )
            assert delivery_id not in attempts
        else:
            assert isinstance(outcome, Started)
            assert (row.state, row.attempts, row.lease_until) == (
                DeliveryState.PUBLISHING,
                1,
                NOW + LEASE,
            )
            assert attempts[delivery_id] == ["started"]
            assert outcome.start.ticket == row.ticket
            assert outcome.account.id == row.account_id == outcome.start.account_id
            assert outcome.start.content.text.startswith("launch post")
            assert outcome.start.lateness_ms == 0  # due at NOW
    assert rows[stale.delivery_id].state is DeliveryState.QUEUED
    # The same message again finds every delivery taken.
    assert begin_attempts(session, items=items, now=NOW, lease=LEASE) == {}


@pytest.mark.parametrize("posts", [2, 12])
def test_a_batch_costs_the_same_statements_whatever_its_size(session: Session, posts: int) -> None:
    claims = _claims(session, posts=posts)
    items = [(c.delivery_id, c.ticket) for c in claims]
    with _statements(session) as seen:
        begun = begin_attempts(session, items=items, now=NOW, lease=LEASE)
    assert len(begun) == posts
    # The rows locked, the compare-and-set (with the leases), the posts, the account, the
    # attempt rows.
    assert len(seen) == 5, seen
    accepted = [
        (b.start, PublishResult(PublishState.PUBLISHED, remote_id=str(b.start.delivery_id)))
        for b in begun.values()
        if isinstance(b, Started)
    ]
    with _statements(session) as seen:
        states = record_results(session, accepted=accepted, now=NOW)
    assert set(states.values()) == {DeliveryState.PUBLISHED}
    # The compare-and-sets, the read of what took, the attempt rows.
    assert len(seen) == 3, seen


def test_results_of_a_batch_are_recorded_and_a_taken_over_one_only_as_evidence(
    session: Session,
) -> None:
    claims = _claims(session, posts=3)
    begun = begin_attempts(
        session, items=[(c.delivery_id, c.ticket) for c in claims], now=NOW, lease=LEASE
    )
    starts = [b.start for b in begun.values() if isinstance(b, Started)]
    taken = starts[-1]
    session.execute(
        Delivery.__table__.update()
        .where(Delivery.id == taken.delivery_id)
        .values(ticket=Delivery.ticket + 1)
    )
    later = NOW + timedelta(seconds=2)
    states = record_results(
        session,
        accepted=[
            (start, PublishResult(PublishState.PUBLISHED, remote_id=f"r{start.delivery_id}"))
            for start in starts
        ],
        now=later,
    )
    rows = _rows(session)
    attempts = _attempts(session)
    for start in starts[:-1]:
        assert states[start.delivery_id] is DeliveryState.PUBLISHED
        row = rows[start.delivery_id]
        assert (row.remote_id, row.published_at, row.lease_until) == (
            f"r{start.delivery_id}",
            later,
            None,
        )
        assert attempts[start.delivery_id] == ["published"]
    assert states[taken.delivery_id] is DeliveryState.PUBLISHING
    assert rows[taken.delivery_id].remote_id is None
    assert attempts[taken.delivery_id] == ["superseded"]
