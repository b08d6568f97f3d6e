"""Reports: totals with coverage, per platform, per day, top posts, accounts, the list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery
from campaigns.queries import Windows
from campaigns.states import DeliveryState
from connectors.base import Capabilities, MetricCounts
from metrics.cadence import Cadence
from metrics.collection import claim_collections, record_counts
from metrics.reports import (
    account_report,
    account_reports,
    campaign_report,
    campaign_summaries,
    campaign_totals,
    daily_series,
    top_posts,
)
from tests.unit.metrics import builders
from tests.unit.metrics.builders import PLATFORMS

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


def _measure(
    session: Session,
    deliveries: list[Delivery],
    *,
    now: datetime,
    views: int | None,
    likes: int | None,
    comments: int | None,
    shares: int | None,
    capabilities: Capabilities,
) -> None:
    record_counts(
        session,
        capabilities=capabilities,
        delivery_ids={str(d.remote_id): d.id for d in deliveries},
        counts=[
            MetricCounts(
                remote_id=str(d.remote_id),
                views=views,
                likes=likes,
                comments=comments,
                shares=shares,
            )
            for d in deliveries
        ],
        cadence=Cadence(),
        now=now,
    )


def _week(session: Session) -> tuple[Campaign, dict[str, Account], dict[str, list[Delivery]]]:
    """IP Week on four platforms; Weibo gives no views and WeChat no comments."""
    week = builders.campaign(session, name="2021 National IP Publicity Week", now=NOW)
    accounts = {
        platform: builders.account(session, platform=platform, handle=f"cnipa-{platform}", now=NOW)
        for platform in ("x", "weibo", "wechat", "tiktok")
    }
    deliveries = {
        platform: [
            builders.delivery(session, campaign=week, account=account, at=NOW) for _ in range(2)
        ]
        for platform, account in accounts.items()
    }
    builders.delivery(
        session, campaign=week, account=accounts["x"], at=NOW, state=DeliveryState.FAILED
    )
    builders.delivery(
        session, campaign=week, account=accounts["tiktok"], at=NOW, state=DeliveryState.SCHEDULED
    )
    return week, accounts, deliveries


def _measure_week(session: Session, deliveries: dict[str, list[Delivery]]) -> None:
    first, second = NOW + timedelta(minutes=5), NOW + timedelta(days=1, hours=1)
    for moment, factor in ((first, 1), (second, 3)):
        for platform, items in deliveries.items():
            _measure(
                session,
                items,
                now=moment,
                views=None if platform == "weibo" else 1000 * factor,
                likes=40 * factor,
                comments=None if platform == "wechat" else 5 * factor,
                shares=10 * factor,
                capabilities=PLATFORMS[platform],
            )


def test_counters_a_platform_does_not_give_are_kept_out_with_the_coverage_stated(
    session: Session,
) -> None:
    week, _, deliveries = _week(session)
    _measure_week(session, deliveries)

    report = campaign_report(session, campaign=week)

    by_platform = {p.platform: p for p in report.platforms}
    assert list(by_platform) == ["tiktok", "wechat", "weibo", "x"]
    assert by_platform["weibo"].views is None
    assert by_platform["wechat"].comments is None
    assert by_platform["x"].views == 6000
    assert report.views == 3 * 6000  # Weibo's views are not available, not zero
    assert report.views_coverage == "3 of 4 platforms"
    assert report.coverage == {
        "views": "3 of 4 platforms",
        "likes": "4 of 4 platforms",
        "comments": "3 of 4 platforms",
        "shares": "4 of 4 platforms",
    }
    assert by_platform["weibo"].interactions == 2 * (120 + 15 + 30)
    assert by_platform["wechat"].interactions == 2 * (120 + 30)
    assert report.interactions == 3 * 2 * 165 + 2 * 150
    viewed = report.interactions - by_platform["weibo"].interactions
    assert report.engagement_rate == viewed / report.views
    assert by_platform["weibo"].engagement_rate is None
    assert (report.scheduled, report.published, report.failed) == (10, 8, 1)
    assert (by_platform["x"].failed, by_platform["tiktok"].scheduled) == (1, 3)
    assert report.last_updated == NOW + timedelta(days=1, hours=1)
    assert by_platform["x"].last_updated == NOW + timedelta(days=1, hours=1)


def test_a_counter_not_reported_yet_is_not_available_rather_than_zero(
    session: Session,
) -> None:
    week, _, deliveries = _week(session)
    claim_collections(session, now=NOW)  # planned, not measured
    # WeChat answers, but without its views and likes yet (its figures arrive a day late).
    _measure(
        session,
        deliveries["wechat"],
        now=NOW + timedelta(minutes=5),
        views=None,
        likes=None,
        comments=None,
        shares=4,
        capabilities=PLATFORMS["wechat"],
    )

    report = campaign_report(session, campaign=week)

    by_platform = {p.platform: p for p in report.platforms}
    assert (by_platform["wechat"].views, by_platform["wechat"].likes) == (None, None)
    assert by_platform["wechat"].shares == 8
    assert by_platform["x"].views is None  # not measured yet: unknown, not 0
    assert report.views is None
    assert report.views_coverage == "0 of 4 platforms"
    assert report.coverage["shares"] == "1 of 4 platforms"
    assert report.interactions == 8
    assert report.engagement_rate is None
    assert report.last_updated == NOW + timedelta(minutes=5)
    assert campaign_totals(session, campaign_id=week.id).views is None
    assert [
        (p.platform, p.views, p.shares) for p in daily_series(session, campaign_id=week.id)
    ] == [("wechat", None, 8)]


def test_the_daily_series_comes_from_rollups_and_adds_up_to_the_totals(
    session: Session,
) -> None:
    week, _, deliveries = _week(session)
    _measure_week(session, deliveries)

    points = daily_series(session, campaign_id=week.id)
    report = campaign_report(session, campaign=week)

    assert report.daily == points
    assert {p.day for p in points} == {date(2026, 4, 20), date(2026, 4, 21)}
    for platform in report.platforms:
        mine = [p for p in points if p.platform == platform.platform]
        assert sum(p.interactions for p in mine) == platform.interactions
        if platform.views is None:
            assert all(p.views is None for p in mine)
        else:
            assert sum(p.views or 0 for p in mine) == platform.views
    first_x = next(p for p in points if p.platform == "x" and p.day == date(2026, 4, 20))
    assert (first_x.views, first_x.interactions) == (2000, 2 * 55)


def test_top_posts_are_ranked_by_interactions_with_their_urls(session: Session) -> None:
    week, _, deliveries = _week(session)
    _measure_week(session, deliveries)
    best = deliveries["tiktok"][1]
    _measure(
        session,
        [best],
        now=NOW + timedelta(days=2),
        views=50_000,
        likes=4000,
        comments=100,
        shares=900,
        capabilities=PLATFORMS["tiktok"],
    )

    top = top_posts(session, campaign_id=week.id, limit=3)

    assert len(top) == 3
    assert top[0].delivery_id == best.id
    assert (top[0].interactions, top[0].views, top[0].url) == (5000, 50_000, best.url)
    assert top[0].interactions >= top[1].interactions >= top[2].interactions
    weibo_ids = {d.id for d in deliveries["weibo"]}
    for post in top_posts(session, campaign_id=week.id, limit=20):
        if post.delivery_id in weibo_ids:
            assert post.views is None


def test_every_report_serialises_to_json_with_iso_dates(session: Session) -> None:
    week, accounts, deliveries = _week(session)
    _measure_week(session, deliveries)

    campaign = campaign_report(session, campaign=week).to_dict()
    text = json.dumps(
        [
            campaign,
            account_report(session, account=accounts["x"]).to_dict(),
            [s.to_dict() for s in campaign_summaries(session)],
            [p.to_dict() for p in daily_series(session, campaign_id=week.id)],
        ]
    )

    assert json.loads(text)[0] == campaign
    assert campaign["last_updated"] == "2026-04-21T02:00:00+00:00"
    assert campaign["daily"][0]["day"] == "2026-04-20"
    assert campaign["top_posts"][0]["published_at"] == "2026-04-20T01:00:00+00:00"
    weibo = next(p for p in campaign["platforms"] if p["platform"] == "weibo")
    assert weibo["views"] is None


def test_the_account_view_covers_every_campaign_since_the_account_was_added(
    session: Session,
) -> None:
    added = datetime(2021, 4, 1, 2, 0, tzinfo=UTC)
    launch = builders.campaign(session, name="@IPRinCN account launch", now=added)
    gi = builders.campaign(session, name="GI Stories on the Dining Table", now=added)
    iprincn = builders.account(session, platform="x", handle="@IPRinCN", now=added)
    other = builders.account(session, platform="x", handle="@someone-else", now=added)
    articles = [
        builders.delivery(
            session,
            campaign=gi if n % 8 == 0 else launch,
            account=iprincn,
            at=added + timedelta(days=3 * n + 1),
            text=f"article {n}",
        )
        for n in range(80)
    ]
    builders.delivery(
        session, campaign=launch, account=iprincn, at=added, state=DeliveryState.FAILED
    )
    elsewhere = builders.delivery(session, campaign=launch, account=other, at=added)
    final = added + timedelta(days=270)
    for n, article in enumerate(articles):
        _measure(
            session,
            [article],
            now=final,
            views=25_000 + n,
            likes=800,
            comments=100,
            shares=200,
            capabilities=PLATFORMS["x"],
        )
    _measure(
        session,
        [elsewhere],
        now=final,
        views=10**6,
        likes=10**5,
        comments=0,
        shares=0,
        capabilities=PLATFORMS["x"],
    )

    report = account_report(session, account=iprincn)

    assert (report.account, report.published, report.failed) == ("x:@IPRinCN", 80, 1)
    assert report.views == 80 * 25_000 + sum(range(80))
    assert report.interactions == 80 * 1100
    assert (report.likes, report.comments, report.shares) == (80 * 800, 80 * 100, 80 * 200)
    assert report.first_published_at == added + timedelta(days=1)
    assert report.last_published_at == added + timedelta(days=3 * 79 + 1)
    assert report.last_updated == final
    assert report.created_at == added
    per = {c.campaign: c for c in report.campaigns}
    assert set(per) == {"@IPRinCN account launch", "GI Stories on the Dining Table"}
    assert per["GI Stories on the Dining Table"].published == 10
    assert per["@IPRinCN account launch"].published == 70
    assert per["@IPRinCN account launch"].failed == 1
    assert sum(c.interactions for c in report.campaigns) == report.interactions
    assert report.top_posts[0].account == "@IPRinCN"
    accounts = [iprincn, other]
    assert account_reports(session, accounts=accounts) == [
        account_report(session, account=account, top=0) for account in accounts
    ]


def test_every_accounts_report_at_once_equals_each_report_alone(session: Session) -> None:
    """Counters a platform does not give, not reported yet, an account with nothing yet,
    one that failed only, and what needs attention: the set-based reads agree."""
    campaign, _, deliveries = _week(session)
    _measure_week(session, deliveries)
    builders.account(session, platform="x", handle="@new", now=NOW)
    failing = builders.account(session, platform="weibo", handle="only-failed", now=NOW)
    builders.delivery(
        session, campaign=campaign, account=failing, at=NOW, state=DeliveryState.FAILED
    )
    windows = Windows(late_start=timedelta(seconds=60), publishing=timedelta(seconds=90))
    later = NOW + timedelta(days=2)
    every = list(session.scalars(select(Account).order_by(Account.id)))
    assert account_reports(session, accounts=every, now=later, windows=windows) == [
        account_report(session, account=account, top=0, now=later, windows=windows)
        for account in every
    ]
    assert account_reports(session, accounts=[]) == []


def test_an_account_without_measured_posts_has_no_views_yet(session: Session) -> None:
    fresh = builders.account(session, platform="x", handle="@new", now=NOW)

    report = account_report(session, account=fresh)

    assert (report.published, report.views, report.interactions) == (0, None, 0)
    assert (report.first_published_at, report.last_updated) == (None, None)
    assert report.campaigns == []


def test_the_campaign_list_has_every_campaign_with_the_report_totals(session: Session) -> None:
    week, _, deliveries = _week(session)
    _measure_week(session, deliveries)
    empty = builders.campaign(session, name="Young Innovators", now=NOW)

    summaries = campaign_summaries(session)

    assert [s.campaign_id for s in summaries] == [empty.id, week.id]
    blank, full = summaries
    assert (blank.published, blank.views, blank.interactions, blank.platforms) == (0, None, 0, [])
    assert blank.views_coverage == "0 of 0 platforms"
    report = campaign_report(session, campaign=week)
    assert (full.scheduled, full.published, full.failed) == (
        report.scheduled,
        report.published,
        report.failed,
    )
    assert (full.views, full.views_coverage, full.interactions, full.last_updated) == (
        report.views,
        report.views_coverage,
        report.interactions,
        report.last_updated,
    )
    assert full.platforms == report.platforms


def test_the_fast_totals_from_rollups_equal_the_report_from_latest_values(
    session: Session,
) -> None:
    week, _, deliveries = _week(session)
    _measure_week(session, deliveries)

    fast = campaign_totals(session, campaign_id=week.id)
    report = campaign_report(session, campaign=week)

    assert (fast.views, fast.views_coverage, fast.interactions) == (
        report.views,
        report.views_coverage,
        report.interactions,
    )
    assert (fast.engagement_rate, fast.last_updated, fast.coverage) == (
        report.engagement_rate,
        report.last_updated,
        report.coverage,
    )
    assert [
        (p.platform, p.views, p.likes, p.comments, p.shares, p.interactions) for p in fast.platforms
    ] == [
        (p.platform, p.views, p.likes, p.comments, p.shares, p.interactions)
        for p in report.platforms
    ]
    assert campaign_totals(session, campaign_id=week.id + 100).views is None
