"""Period reports: posts published on the period's days and what they drew."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery
from campaigns.states import DeliveryState
from connectors.base import MetricCounts
from metrics.cadence import Cadence
from metrics.collection import record_counts
from metrics.period import months_between, period_report
from metrics.reports import account_report, campaign_report
from publicist.core.errors import InvalidInput
from tests.unit.metrics import builders
from tests.unit.metrics.builders import PLATFORMS

APRIL = date(2021, 4, 1)
DECEMBER = date(2021, 12, 31)
# 1 April 01:00 in Shanghai, still 31 March in UTC; and 1 January 00:30 in Shanghai.
FIRST_HOUR = datetime(2021, 3, 31, 17, 0, tzinfo=UTC)
NEW_YEAR = datetime(2021, 12, 31, 16, 30, tzinfo=UTC)
MEASURED = datetime(2022, 1, 10, tzinfo=UTC)


def _measure(session: Session, items: list[Delivery], platform: str, views: int | None) -> None:
    record_counts(
        session,
        capabilities=PLATFORMS[platform],
        delivery_ids={str(d.remote_id): d.id for d in items},
        counts=[
            MetricCounts(remote_id=str(d.remote_id), views=views, likes=40, comments=5, shares=10)
            for d in items
        ],
        cadence=Cadence(),
        now=MEASURED,
    )


def _year(session: Session) -> tuple[Campaign, Campaign, dict[str, Account]]:
    """@IPRinCN's launch on X over the year, and IP Week on X, Weibo (no views) and TikTok."""
    launch = builders.campaign(session, name="@IPRinCN account launch", now=FIRST_HOUR)
    week = builders.campaign(session, name="2021 National IP Publicity Week", now=FIRST_HOUR)
    accounts = {
        platform: builders.account(session, platform=platform, handle=handle, now=FIRST_HOUR)
        for platform, handle in (("x", "@IPRinCN"), ("weibo", "cnipa"), ("tiktok", "cnipa-tt"))
    }
    x = accounts["x"]
    launch_posts = [builders.delivery(session, campaign=launch, account=x, at=FIRST_HOUR)]
    launch_posts += [
        builders.delivery(session, campaign=launch, account=x, at=datetime(2021, m, 15, tzinfo=UTC))
        for m in range(4, 13)
    ]
    launch_posts.append(builders.delivery(session, campaign=launch, account=x, at=NEW_YEAR))
    builders.delivery(
        session, campaign=launch, account=x, at=FIRST_HOUR, state=DeliveryState.FAILED
    )
    _measure(session, launch_posts, "x", views=1000)
    at = datetime(2021, 4, 20, 2, tzinfo=UTC)
    for platform, account in accounts.items():
        items = [builders.delivery(session, campaign=week, account=account, at=at)]
        _measure(session, items, platform, views=None if platform == "weibo" else 500)
    return launch, week, accounts


def test_the_period_counts_posts_published_on_its_days_in_the_campaign_zone(
    session: Session,
) -> None:
    launch, _, accounts = _year(session)

    report = period_report(session, start=APRIL, end=DECEMBER, account=accounts["x"], language="en")

    # 1 April 01:00 (Shanghai) and the nine 15ths are in, 1 January 00:30 is not; with the
    # IP Week post, eleven. The failed delivery is not a published post.
    assert report.totals.published == 11
    assert report.totals.views == 11 * 1000 - 1000 + 500
    assert report.totals.interactions == 11 * 55
    months = {m.key: m.totals.published for m in report.months}
    assert list(months) == months_between(APRIL, DECEMBER)
    assert months["2021-04"] == 3
    assert months["2021-12"] == 1
    assert [c.key for c in report.campaigns] == [
        "2021 National IP Publicity Week",
        "@IPRinCN account launch",
    ]
    assert report.summary == (
        "From April to December, @IPRinCN published 11 articles, which drew 605 "
        "interactions and more than 10,000 views."
    )
    whole_year = period_report(
        session, start=date(2021, 1, 1), end=date(2022, 12, 31), campaign=launch
    )
    assert whole_year.totals.published == campaign_report(session, campaign=launch).published


def test_totals_equal_the_campaign_and_account_reports_with_the_same_coverage(
    session: Session,
) -> None:
    _, week, accounts = _year(session)
    by_campaign = campaign_report(session, campaign=week)

    report = period_report(session, start=APRIL, end=DECEMBER, campaign=week, language="zh_CN")

    totals = report.totals
    assert (totals.published, totals.views, totals.interactions) == (
        by_campaign.published,
        by_campaign.views,
        by_campaign.interactions,
    )
    assert totals.views_coverage == by_campaign.views_coverage == "2 of 3 platforms"
    assert totals.coverage == by_campaign.coverage
    assert totals.engagement_rate == by_campaign.engagement_rate
    weibo = next(p for p in totals.platforms if p.platform == "weibo")
    assert weibo.views is None  # not available, never 0
    assert report.summary == (
        "4月至12月，“2021 National IP Publicity Week”活动共发布3篇文章，"
        "获得1000次浏览（3个平台中的2个）和165次互动。"
    )
    everyone = period_report(session, start=date(2021, 1, 1), end=date(2022, 12, 31))
    x = next(a for a in everyone.accounts if a.key == "x:@IPRinCN")
    whole = account_report(session, account=accounts["x"])
    assert (x.totals.published, x.totals.views, x.totals.interactions) == (
        whole.published,
        whole.views,
        whole.interactions,
    )
    assert [a.key for a in everyone.accounts] == ["tiktok:cnipa-tt", "weibo:cnipa", "x:@IPRinCN"]
    assert everyone.summary.startswith("From January 2021 to December 2022, 3 accounts")


def test_top_posts_and_a_month_without_posts(session: Session) -> None:
    _, week, _ = _year(session)
    report = period_report(session, start=APRIL, end=date(2021, 5, 31), top=2)
    assert [p.interactions for p in report.top_posts] == [55, 55]
    may = report.months[-1]
    assert (may.key, may.totals.published, may.totals.views) == ("2021-05", 1, 1000)
    quiet = period_report(session, start=date(2022, 2, 1), end=date(2022, 2, 28), campaign=week)
    assert quiet.totals.published == 0
    assert quiet.totals.views is None
    assert (
        quiet.summary
        == 'In February 2022, the campaign "2021 National IP Publicity Week" published no articles.'
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": DECEMBER, "end": APRIL}, "to"),
        ({"start": APRIL, "end": date(2040, 1, 1)}, "to"),
        ({"start": APRIL, "end": DECEMBER, "language": "fr"}, "language"),
        ({"start": date(9999, 12, 30), "end": date(9999, 12, 31)}, "to"),
        ({"start": date(1, 1, 1), "end": date(1, 1, 2)}, "from"),
    ],
)
def test_bad_periods_name_the_field(
    session: Session, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        period_report(session, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_campaign_and_an_account_together_are_refused(session: Session) -> None:
    launch, _, accounts = _year(session)
    with pytest.raises(InvalidInput, match="cannot be combined"):
        period_report(session, start=APRIL, end=DECEMBER, campaign=launch, account=accounts["x"])


def test_months_between_crosses_years() -> None:
    assert months_between(date(2021, 11, 5), date(2022, 2, 1)) == [
        "2021-11",
        "2021-12",
        "2022-01",
        "2022-02",
    ]
