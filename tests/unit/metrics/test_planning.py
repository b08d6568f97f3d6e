"""Collection planning from the queue of newly published deliveries: the same due times as
the cadence says, across restarts, cancellations and the end of the collection window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery
from campaigns.states import DeliveryState
from connectors.base import MetricCounts
from metrics.cadence import Cadence
from metrics.collection import CLAIM_LEASE, claim_collections, plan_new, record_counts
from metrics.models import DeliveryMetrics
from tests.unit.metrics import builders
from tests.unit.metrics.builders import X

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
CADENCE = Cadence.from_spec("10m:2m,1h:15m,3h:1h")
"""A short window keeps the walk through every due time small; the rules are the same."""


def _world(session: Session) -> tuple[Campaign, Account]:
    campaign = builders.campaign(session, name="GI Stories on the Dining Table", now=NOW)
    return campaign, builders.account(session, platform="x", handle="@IPRinCN", now=NOW)


def _claimed(session: Session, now: datetime) -> set[int]:
    return {d for batch in claim_collections(session, now=now) for d in batch.remote_ids.values()}


def _answer(session: Session, deliveries: list[Delivery], ids: set[int], now: datetime) -> None:
    asked = [d for d in deliveries if d.id in ids]
    record_counts(
        session,
        capabilities=X,
        delivery_ids={str(d.remote_id): d.id for d in asked},
        counts=[
            MetricCounts(remote_id=str(d.remote_id), views=1, likes=0, comments=0, shares=0)
            for d in asked
        ],
        cadence=CADENCE,
        now=now,
    )


def _planned(session: Session, delivery_id: int) -> bool:
    return bool(session.scalar(select(Delivery.metrics_planned).where(Delivery.id == delivery_id)))


def _cadence_times(published_at: datetime, first: datetime) -> list[datetime]:
    """When the cadence says to measure a post first planned at ``first``."""
    times = [first]
    while (later := CADENCE.next_collection(published_at=published_at, now=times[-1])) is not None:
        times.append(later)
    return times


def test_each_tick_claims_exactly_what_the_cadence_says_is_due(session: Session) -> None:
    campaign, x = _world(session)
    published = [NOW, NOW + timedelta(minutes=7), NOW + timedelta(minutes=50)]
    deliveries = [
        builders.delivery(session, campaign=campaign, account=x, at=at) for at in published
    ]
    # Each is planned by the first tick at or after its publication; the walk ticks exactly
    # at every time the cadence names (and one second before each, when nothing is due).
    expected = {d.id: _cadence_times(at, at) for d, at in zip(deliveries, published, strict=True)}
    moments = sorted({t for times in expected.values() for t in times})
    assert len(moments) > 20
    hidden = {d.id for d in deliveries}
    for d in deliveries:  # published later: invisible to the planner until then
        session.execute(
            update(Delivery).where(Delivery.id == d.id).values(state=DeliveryState.PUBLISHING)
        )
    for moment in moments:
        assert _claimed(session, moment - timedelta(seconds=1)) == set(), moment
        for d, at in zip(deliveries, published, strict=True):
            if d.id in hidden and at <= moment:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id == d.id)
                    .values(state=DeliveryState.PUBLISHED)
                )
                hidden.discard(d.id)
        due = _claimed(session, moment)
        assert due == {d for d, times in expected.items() if moment in times}, moment
        _answer(session, deliveries, due, moment)
    # The window is over for all of them: nothing is due ever again, and nothing is re-planned.
    assert _claimed(session, moments[-1] + timedelta(days=400)) == set()
    assert plan_new(session, now=moments[-1] + timedelta(days=400)) == 0
    rows = session.scalars(select(DeliveryMetrics.next_collect_at)).all()
    assert rows == [None, None, None]


def test_planning_takes_each_published_delivery_out_of_the_queue_once(session: Session) -> None:
    campaign, x = _world(session)
    first = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    assert plan_new(session, now=NOW) == 1
    assert plan_new(session, now=NOW) == 0
    assert _planned(session, first.id)
    second = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    assert plan_new(session, now=NOW + timedelta(seconds=5)) == 1
    row = session.get_one(DeliveryMetrics, second.id)
    assert row.next_collect_at == NOW + timedelta(seconds=5)
    assert row.collected_at == NOW  # as of publication, nothing measured yet
    assert row.collections == 0


def test_a_backlog_after_a_pause_is_planned_over_several_ticks_in_order(
    session: Session,
) -> None:
    campaign, x = _world(session)
    made = [builders.delivery(session, campaign=campaign, account=x, at=NOW) for _ in range(5)]
    assert plan_new(session, now=NOW, limit=2) == 2
    assert plan_new(session, now=NOW, limit=2) == 2
    assert plan_new(session, now=NOW, limit=2) == 1
    planned = session.scalars(select(DeliveryMetrics.delivery_id)).all()
    assert sorted(planned) == sorted(d.id for d in made)


def test_a_restart_plans_what_was_published_meanwhile_and_brings_back_lost_claims(
    session: Session,
) -> None:
    """Everything lives in the database: a collector that stops and starts finds the posts
    published while it was down, and the claims of a tick that died come back."""
    campaign, x = _world(session)
    before = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    assert _claimed(session, NOW) == {before.id}  # a tick claims it, then its worker dies
    down = builders.delivery(session, campaign=campaign, account=x, at=NOW + timedelta(minutes=2))
    restart = NOW + timedelta(minutes=5)
    assert _claimed(session, restart) == {down.id}  # planned now, due at once
    assert _claimed(session, NOW + CLAIM_LEASE - timedelta(seconds=1)) == set()
    assert _claimed(session, restart + CLAIM_LEASE) == {before.id, down.id}


def test_cancelled_removed_and_unconfirmed_deliveries_are_never_planned(
    session: Session,
) -> None:
    campaign, x = _world(session)
    cancelled = builders.delivery(
        session, campaign=campaign, account=x, at=NOW, state=DeliveryState.CANCELLED
    )
    removed = builders.delivery(
        session, campaign=campaign, account=x, at=NOW, state=DeliveryState.SCHEDULED
    )
    session.execute(delete(Delivery).where(Delivery.id == removed.id))
    unknown = builders.delivery(
        session, campaign=campaign, account=x, at=NOW, state=DeliveryState.UNKNOWN
    )
    assert plan_new(session, now=NOW) == 0
    assert _claimed(session, NOW + timedelta(days=1)) == set()
    assert not _planned(session, cancelled.id)
    # Settled by staff as published, with the platform's id: planned from then on.
    session.execute(
        update(Delivery)
        .where(Delivery.id == unknown.id)
        .values(state=DeliveryState.PUBLISHED, remote_id="x-found", published_at=NOW)
    )
    assert _claimed(session, NOW + timedelta(days=1)) == {unknown.id}


def test_a_published_delivery_without_a_remote_id_waits_for_one(session: Session) -> None:
    campaign, x = _world(session)
    delivery = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    session.execute(update(Delivery).where(Delivery.id == delivery.id).values(remote_id=None))
    assert plan_new(session, now=NOW) == 0
    session.execute(update(Delivery).where(Delivery.id == delivery.id).values(remote_id="x-1"))
    assert _claimed(session, NOW + timedelta(minutes=1)) == {delivery.id}
