"""Period reports: what accounts and campaigns published between two dates, and what it drew.

The period selects the deliveries **published** on its days (in each campaign's time zone,
as the daily rollups count days); their views and interactions are those posts' latest
counts, i.e. everything they drew up to the latest measurement, as the annual report's "80
articles, which drew more than 2 million views". A month likewise holds the posts published
in it, so months, platforms, accounts and campaigns all add up to the period's totals. The
"not available" and coverage rules are those of ``metrics.reports``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post
from campaigns.states import DeliveryState
from metrics.models import DeliveryMetrics
from metrics.platforms import gives
from metrics.reports import (
    COUNTERS,
    PlatformTotals,
    TopPost,
    _platform_totals,
    _Serializable,
    _Sums,
    _totals,
)
from metrics.summary import LANGUAGES, SummaryFacts, summary_sentence
from publicist.core.errors import InvalidInput

MAX_DAYS = 3_660
FIRST_YEAR, LAST_YEAR = 1970, 2999


@dataclass(frozen=True)
class PeriodPlatform(_Serializable):
    """One platform's part of a total; ``None`` counters are not available (never 0)."""

    platform: str
    published: int
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None


@dataclass(frozen=True)
class PeriodTotals(_Serializable):
    """Posts published and what they drew, with coverage, per platform inside."""

    published: int
    views: int | None
    views_coverage: str
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    coverage: dict[str, str] = field(default_factory=dict)
    platforms: list[PeriodPlatform] = field(default_factory=list)


@dataclass(frozen=True)
class PeriodGroup(_Serializable):
    """The totals of one account, one campaign or one month (``key``: ``2021-04``)."""

    key: str
    totals: PeriodTotals


@dataclass(frozen=True)
class PeriodReport(_Serializable):
    start: date
    end: date
    scope: str
    """``account``, ``campaign`` or ``all``."""
    subject: str
    """The account (``twitter:@IPRinCN``), the campaign's name, or ``all accounts``."""
    language: str
    totals: PeriodTotals
    summary: str
    accounts: list[PeriodGroup] = field(default_factory=list)
    campaigns: list[PeriodGroup] = field(default_factory=list)
    months: list[PeriodGroup] = field(default_factory=list)
    """Every month of the period, oldest first, by the month a post was published."""
    top_posts: list[TopPost] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    delivery_id: int
    post_id: int
    text: str
    url: str | None
    published_at: datetime
    month: str
    campaign: str
    account: str
    handle: str
    platform: str
    counters: dict[str, int | None]
    interactions: int
    measured_at: datetime | None


def check_period(*, start: date, end: date, language: str) -> None:
    """Refuse a period that ends before it starts, spans more than ten years, or lies
    outside 1970–2999 (where every time zone conversion is defined)."""
    if start.year < FIRST_YEAR:
        raise InvalidInput("from", start.isoformat(), f"must be in {FIRST_YEAR} or later")
    if end.year > LAST_YEAR:
        raise InvalidInput("to", end.isoformat(), f"must be in {LAST_YEAR} or earlier")
    if end < start:
        raise InvalidInput("to", end.isoformat(), f"must not be before from ({start.isoformat()})")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("to", end.isoformat(), "must be at most ten years after from")
    if language not in LANGUAGES:
        raise InvalidInput("language", language, "must be one of: " + ", ".join(LANGUAGES))


def period_report(
    session: Session,
    *,
    start: date,
    end: date,
    campaign: Campaign | None = None,
    account: Account | None = None,
    language: str = "en",
    top: int = 10,
) -> PeriodReport:
    """Posts published from ``start`` to ``end`` (inclusive, campaign-local days) and what
    they drew: totals, per platform, account, campaign and month, top posts, a summary."""
    check_period(start=start, end=end, language=language)
    if campaign is not None and account is not None:
        raise InvalidInput("account", account.label, "cannot be combined with a campaign")
    rows = _rows(session, start=start, end=end, campaign=campaign, account=account)
    totals = _period_totals(rows)
    if account is not None:
        scope, subject, said = "account", account.label, account.handle
    elif campaign is not None:
        scope, subject, said = "campaign", campaign.name, campaign.name
    else:
        scope, subject, said = "all", "all accounts", ""
    accounts = _groups(rows, lambda row: row.account)
    facts = SummaryFacts(
        start=start,
        end=end,
        subject_kind=scope,
        subject=said,
        accounts=len(accounts),
        published=totals.published,
        views=totals.views,
        views_platforms=sum(1 for p in totals.platforms if p.views is not None),
        platforms=len(totals.platforms),
        interactions=totals.interactions,
    )
    by_month = {group.key: group for group in _groups(rows, lambda row: row.month)}
    return PeriodReport(
        start=start,
        end=end,
        scope=scope,
        subject=subject,
        language=language,
        totals=totals,
        summary=summary_sentence(facts, language=language),
        accounts=accounts,
        campaigns=_groups(rows, lambda row: row.campaign),
        months=[
            by_month.get(month) or PeriodGroup(key=month, totals=_period_totals([]))
            for month in months_between(start, end)
        ],
        top_posts=_top(rows, top),
    )


def months_between(start: date, end: date) -> list[str]:
    """``YYYY-MM`` of every month from ``start`` to ``end``."""
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _window(zone: str, start: date, end: date) -> tuple[datetime, datetime]:
    """The period's days in ``zone`` as a UTC half-open interval."""
    tz = ZoneInfo(zone)
    return (
        datetime.combine(start, time(), tz).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC),
    )


def _rows(
    session: Session,
    *,
    start: date,
    end: date,
    campaign: Campaign | None,
    account: Account | None,
) -> list[_Row]:
    zones = (
        [campaign.timezone]
        if campaign is not None
        else list(session.scalars(select(Campaign.timezone).distinct()))
    )
    # One exact UTC interval per time zone in use: "April" is April where the campaign is.
    in_period = or_(
        false(),
        *(
            and_(
                Campaign.timezone == zone,
                Delivery.published_at >= _window(zone, start, end)[0],
                Delivery.published_at < _window(zone, start, end)[1],
            )
            for zone in zones
        ),
    )
    # Columns, not entities: a year of posts is read without building an object per row.
    query: Any = (
        select(
            Delivery.id,
            Post.id,
            Post.text,
            Delivery.url,
            Delivery.published_at,
            Campaign.name,
            Campaign.timezone,
            Delivery.account_id,
            *(getattr(DeliveryMetrics, name) for name in COUNTERS),
            DeliveryMetrics.interactions,
            DeliveryMetrics.collections,
            DeliveryMetrics.collected_at,
        )
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign, Campaign.id == Post.campaign_id)
        .outerjoin(DeliveryMetrics, DeliveryMetrics.delivery_id == Delivery.id)
        .where(Delivery.state == DeliveryState.PUBLISHED, in_period)
        .order_by(Delivery.published_at, Delivery.id)
    )
    if campaign is not None:
        query = query.where(Post.campaign_id == campaign.id)
    if account is not None:
        query = query.where(Delivery.account_id == account.id)
    owners = {owner.id: owner for owner in session.scalars(select(Account))}  # a handful
    rows: list[_Row] = []
    for record in session.execute(query):
        (delivery_id, post_id, text, url, published_at, name, zone, account_id) = record[:8]
        *counters, interactions, collections, collected_at = record[8:]
        owner = owners[account_id]
        published = _aware(published_at)
        if published is None:  # excluded by the query; keeps the type exact
            continue
        local = published.astimezone(ZoneInfo(zone))
        rows.append(
            _Row(
                delivery_id=delivery_id,
                post_id=post_id,
                text=text,
                url=url,
                published_at=published,
                month=f"{local.year:04d}-{local.month:02d}",
                campaign=name,
                account=owner.label,
                handle=owner.handle,
                platform=owner.platform,
                counters=dict(zip(COUNTERS, counters, strict=True)),
                interactions=interactions or 0,
                measured_at=_aware(collected_at) if collections else None,
            )
        )
    return rows


def _period_totals(rows: Iterable[_Row]) -> PeriodTotals:
    sums: dict[str, _Sums] = {}
    published: dict[str, int] = defaultdict(int)
    for row in rows:
        item = sums.setdefault(
            row.platform,
            _Sums(values=dict.fromkeys(COUNTERS, 0), reported=dict.fromkeys(COUNTERS, 0)),
        )
        published[row.platform] += 1
        for name, value in row.counters.items():
            if value is not None:
                item.values[name] += value
                item.reported[name] += 1
        item.interactions += row.interactions
        if row.measured_at is not None and (item.updated is None or row.measured_at > item.updated):
            item.updated = row.measured_at
    platforms: list[PlatformTotals] = [
        _platform_totals(platform, {DeliveryState.PUBLISHED.value: published[platform]}, item)
        for platform, item in sorted(sums.items())
    ]
    totals = _totals(platforms)
    return PeriodTotals(
        published=totals.published,
        views=totals.views,
        views_coverage=totals.coverage["views"],
        interactions=totals.interactions,
        engagement_rate=totals.engagement_rate,
        last_updated=totals.last_updated,
        coverage=totals.coverage,
        platforms=[
            PeriodPlatform(
                platform=p.platform,
                published=p.published,
                views=p.views,
                likes=p.likes,
                comments=p.comments,
                shares=p.shares,
                interactions=p.interactions,
                engagement_rate=p.engagement_rate,
                last_updated=p.last_updated,
            )
            for p in platforms
        ],
    )


def _groups(rows: list[_Row], key: Any) -> list[PeriodGroup]:
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return [
        PeriodGroup(key=name, totals=_period_totals(items))
        for name, items in sorted(grouped.items())
    ]


def _top(rows: list[_Row], limit: int) -> list[TopPost]:
    ranked = sorted(rows, key=lambda row: (-row.interactions, row.delivery_id))[:limit]
    return [
        TopPost(
            post_id=row.post_id,
            delivery_id=row.delivery_id,
            platform=row.platform,
            account=row.handle,
            text=row.text,
            url=row.url,
            published_at=row.published_at,
            views=row.counters["views"]
            if gives(row.platform, "views", reported=row.counters["views"] is not None)
            else None,
            interactions=row.interactions,
        )
        for row in ranked
    ]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
