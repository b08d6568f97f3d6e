"""Collection planning and recording: due work only, platform-sized batches, never lower."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery
from campaigns.states import DeliveryState
from connectors.base import Capabilities, MetricCounts
from metrics.cadence import Cadence
from metrics.collection import CLAIM_LEASE, claim_collections, record_counts, release
from metrics.models import DailyRollup, DeliveryMetrics, MetricSnapshot
from tests.unit.metrics import builders
from tests.unit.metrics.builders import WEIBO, X

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _counts(
    remote_id: str,
    views: int | None,
    likes: int | None,
    comments: int | None,
    shares: int | None,
    extras: Mapping[str, int | None] | None = None,
) -> MetricCounts:
    return MetricCounts(
        remote_id=remote_id,
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        extras=extras or {},
        raw={"id": remote_id},
    )


def _record(
    session: Session,
    capabilities: Capabilities,
    deliveries: list[Delivery],
    counts: list[MetricCounts],
    *,
    now: datetime,
) -> int:
    return record_counts(
        session,
        capabilities=capabilities,
        delivery_ids={str(d.remote_id): d.id for d in deliveries},
        counts=counts,
        cadence=Cadence(),
        now=now,
    )


def _world(session: Session) -> tuple[Campaign, Account, Account]:
    campaign = builders.campaign(session, name="2021 National IP Publicity Week", now=NOW)
    x = builders.account(session, platform="x", handle="@IPRinCN", now=NOW)
    weibo = builders.account(session, platform="weibo", handle="cnipa", now=NOW)
    return campaign, x, weibo


def test_a_tick_claims_published_deliveries_in_batches_of_the_platform_maximum(
    session: Session,
) -> None:
    campaign, x, _ = _world(session)
    wechat = builders.account(session, platform="wechat", handle="cnipa-wx", now=NOW)
    at = NOW - timedelta(minutes=1)
    for _ in range(120):
        builders.delivery(session, campaign=campaign, account=x, at=at)
    for _ in range(25):
        builders.delivery(session, campaign=campaign, account=wechat, at=at)
    builders.delivery(session, campaign=campaign, account=x, at=at, state=DeliveryState.SCHEDULED)
    builders.delivery(session, campaign=campaign, account=x, at=at, state=DeliveryState.FAILED)

    batches = claim_collections(session, now=NOW)

    sizes = sorted((b.platform, len(b.remote_ids)) for b in batches)
    assert sizes == [("wechat", 5), ("wechat", 20), ("x", 20), ("x", 100)]
    for batch in batches:
        owners = session.scalars(
            select(Delivery.account_id).where(Delivery.id.in_(batch.remote_ids.values()))
        )
        assert set(owners) == {batch.account_id}
    assert claim_collections(session, now=NOW + timedelta(minutes=1)) == []
    again = claim_collections(session, now=NOW + CLAIM_LEASE)
    assert sum(len(b.remote_ids) for b in again) == 145


def test_a_tick_takes_the_most_overdue_first_up_to_its_limit(session: Session) -> None:
    campaign, x, _ = _world(session)
    deliveries = [
        builders.delivery(session, campaign=campaign, account=x, at=NOW - timedelta(hours=2))
        for _ in range(6)
    ]
    batches = claim_collections(session, now=NOW)
    assert sum(len(b.remote_ids) for b in batches) == 6
    for minutes, delivery in zip([50, 10, 40, 20, 30, 60], deliveries, strict=True):
        release(session, delivery_ids=[delivery.id], at=NOW + timedelta(minutes=minutes))

    later = NOW + timedelta(minutes=45)
    claimed = claim_collections(session, now=later, limit=3)

    ids = {d for b in claimed for d in b.remote_ids.values()}
    assert ids == {deliveries[1].id, deliveries[3].id, deliveries[4].id}
    assert [d for b in claim_collections(session, now=later) for d in b.remote_ids.values()] == [
        deliveries[2].id
    ]


def test_a_lower_or_partial_answer_never_lowers_a_counter_or_loses_a_snapshot(
    session: Session,
) -> None:
    campaign, x, _ = _world(session)
    delivery = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    rid = str(delivery.remote_id)
    first = _counts(rid, 1000, 50, 5, 7, {"quotes": 2, "bookmarks": 1})
    assert _record(session, X, [delivery], [first], now=NOW + timedelta(minutes=5)) == 1
    glitch = _counts(rid, 900, None, 6, None, {"quotes": None, "bookmarks": 0})
    assert _record(session, X, [delivery], [glitch], now=NOW + timedelta(minutes=10)) == 1

    latest = session.get_one(DeliveryMetrics, delivery.id)
    assert (latest.views, latest.likes, latest.comments, latest.shares) == (1000, 50, 6, 7)
    assert latest.extras == {"quotes": 2, "bookmarks": 1}
    assert latest.interactions == 50 + 6 + 7 + 2 + 1
    assert latest.collections == 2
    assert latest.collected_at == NOW + timedelta(minutes=10)
    snapshots = list(
        session.scalars(
            select(MetricSnapshot)
            .where(MetricSnapshot.delivery_id == delivery.id)
            .order_by(MetricSnapshot.collected_at)
        )
    )
    assert [(s.views, s.likes, s.shares) for s in snapshots] == [(1000, 50, 7), (900, None, None)]
    assert snapshots[0].extras == {"quotes": 2, "bookmarks": 1}


def test_a_post_the_platform_does_not_return_keeps_its_values_and_is_asked_again(
    session: Session,
) -> None:
    campaign, x, _ = _world(session)
    delivery = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    rid = str(delivery.remote_id)
    _record(session, X, [delivery], [_counts(rid, 300, 9, 1, 2)], now=NOW + timedelta(minutes=2))

    moment = NOW + timedelta(hours=2)
    assert _record(session, X, [delivery], [], now=moment) == 0

    latest = session.get_one(DeliveryMetrics, delivery.id)
    assert (latest.views, latest.interactions, latest.collections) == (300, 12, 1)
    assert latest.collected_at == NOW + timedelta(minutes=2)
    assert latest.next_collect_at == moment + timedelta(minutes=30)


def test_not_available_counters_stay_none_never_zero(session: Session) -> None:
    campaign, _, weibo = _world(session)
    delivery = builders.delivery(session, campaign=campaign, account=weibo, at=NOW)
    rid = str(delivery.remote_id)
    _record(session, WEIBO, [delivery], [_counts(rid, None, 40, 3, 8)], now=NOW)

    latest = session.get_one(DeliveryMetrics, delivery.id)
    assert latest.views is None
    rollup = session.scalars(select(DailyRollup)).one()
    assert rollup.views is None
    assert (rollup.likes, rollup.comments, rollup.shares, rollup.interactions) == (40, 3, 8, 51)


def test_days_add_up_to_the_latest_totals(session: Session) -> None:
    campaign, x, weibo = _world(session)
    tweets = [builders.delivery(session, campaign=campaign, account=x, at=NOW) for _ in range(3)]
    posts = [builders.delivery(session, campaign=campaign, account=weibo, at=NOW)]
    # (hours after NOW, growth factor); 15:30 UTC is 23:30 in Shanghai, 16:30 is 00:30.
    rounds = [(0.1, 1), (6, 3), (14.5, 5), (15.5, 4), (40, 9), (64, 12)]
    for hours, factor in rounds:
        moment = NOW + timedelta(hours=hours)
        _record(
            session,
            X,
            tweets,
            [
                _counts(str(t.remote_id), 100 * factor * (i + 1), 3 * factor, factor, factor)
                for i, t in enumerate(tweets)
            ],
            now=moment,
        )
        _record(
            session,
            WEIBO,
            posts,
            [_counts(str(p.remote_id), None, 2 * factor, factor, 0) for p in posts],
            now=moment,
        )

    rollups = list(session.scalars(select(DailyRollup).order_by(DailyRollup.day)))
    assert sorted({r.day for r in rollups}) == [
        date(2026, 4, 20),
        date(2026, 4, 21),
        date(2026, 4, 22),
        date(2026, 4, 23),
    ]
    for platform in ("x", "weibo"):
        days = [r for r in rollups if r.platform == platform]
        latest = session.execute(
            select(
                func.sum(DeliveryMetrics.views),
                func.sum(DeliveryMetrics.likes),
                func.sum(DeliveryMetrics.comments),
                func.sum(DeliveryMetrics.shares),
                func.sum(DeliveryMetrics.interactions),
            ).where(DeliveryMetrics.platform == platform)
        ).one()
        summed = tuple(
            None
            if all(getattr(d, name) is None for d in days)
            else sum(getattr(d, name) or 0 for d in days)
            for name in ("views", "likes", "comments", "shares", "interactions")
        )
        assert summed == tuple(latest)
    x_days = {r.day: r.views for r in rollups if r.platform == "x"}
    # Factor 5 was the last reading of the 20th (Shanghai), 4 on the 21st is a glitch.
    assert x_days[date(2026, 4, 20)] == 600 * 5
    assert x_days[date(2026, 4, 21)] == 0
    assert x_days[date(2026, 4, 22)] == 600 * 4
    assert x_days[date(2026, 4, 23)] == 600 * 3


def test_the_next_collection_follows_the_cadence(session: Session) -> None:
    campaign, x, _ = _world(session)
    delivery = builders.delivery(session, campaign=campaign, account=x, at=NOW)
    rid = str(delivery.remote_id)
    for age, interval in [
        (timedelta(minutes=3), timedelta(minutes=5)),
        (timedelta(hours=3), timedelta(minutes=30)),
        (timedelta(days=3), timedelta(hours=6)),
        (timedelta(days=30), timedelta(days=1)),
    ]:
        _record(session, X, [delivery], [_counts(rid, 1, 0, 0, 0)], now=NOW + age)
        latest = session.get_one(DeliveryMetrics, delivery.id)
        assert latest.next_collect_at == NOW + age + interval
    _record(session, X, [delivery], [_counts(rid, 1, 0, 0, 0)], now=NOW + timedelta(days=91))
    assert session.get_one(DeliveryMetrics, delivery.id).next_collect_at is None
    assert claim_collections(session, now=NOW + timedelta(days=400)) == []
