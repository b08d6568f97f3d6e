"""Reports: campaign and account totals, per platform, per day and top posts.

Totals are sums over each delivery's latest values and per-day series come from the daily
rollups; nothing here reads the snapshot history. A counter a platform does not give, or
has not reported yet, is ``None`` ("not available", never 0), kept out of totals, and each
total states its coverage ("3 of 4 platforms").
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, DeliveryCount, Post
from campaigns.queries import Windows, in_states, stuck_counts
from campaigns.states import ENDED_BADLY, DeliveryState
from metrics.models import (
    AccountMetricTotal,
    CampaignPlatformTotal,
    DailyRollup,
    DeliveryMetrics,
)
from metrics.platforms import gives
from publicist.core.reads import column_rows
from publicist.core.sql_plans import literal_limit

COUNTERS = ("views", "likes", "comments", "shares")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class _Serializable:
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: dates and times as ISO 8601, not-available counters as null."""
        data: dict[str, Any] = _jsonable(asdict(self))  # type: ignore[call-overload]
        return data


@dataclass(frozen=True)
class PlatformTotals(_Serializable):
    platform: str
    scheduled: int
    published: int
    failed: int
    views: int | None
    """``None``: the platform does not report views (not zero)."""
    likes: int | None
    comments: int | None
    shares: int | None
    interactions: int
    engagement_rate: float | None = None
    last_updated: datetime | None = None
    unknown: int = 0


@dataclass(frozen=True)
class TopPost(_Serializable):
    post_id: int
    delivery_id: int
    platform: str
    account: str
    text: str
    url: str | None
    published_at: datetime | None
    views: int | None
    interactions: int


@dataclass(frozen=True)
class DailyPoint(_Serializable):
    """Growth on one calendar day (campaign's time zone) on one platform."""

    day: date
    platform: str
    views: int | None
    interactions: int
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None


@dataclass(frozen=True)
class _Totals:
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    coverage: dict[str, str]


@dataclass(frozen=True)
class CampaignReport(_Serializable):
    campaign_id: int
    campaign: str
    timezone: str
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    views_coverage: str
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    platforms: list[PlatformTotals] = field(default_factory=list)
    top_posts: list[TopPost] = field(default_factory=list)
    coverage: dict[str, str] = field(default_factory=dict)
    """Per counter, how many platforms give it: ``{"views": "3 of 4 platforms", ...}``."""
    daily: list[DailyPoint] = field(default_factory=list)
    attention: int | None = None
    """Deliveries needing attention (failed, missed, unknown or stuck: campaigns.queries);
    ``None`` when the report was not asked for them."""


@dataclass(frozen=True)
class PlatformCounters(_Serializable):
    platform: str
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None


@dataclass(frozen=True)
class CampaignTotals(_Serializable):
    """A campaign's engagement totals alone (no delivery counts): the dashboard's fast tile."""

    campaign_id: int
    views: int | None
    views_coverage: str
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    coverage: dict[str, str] = field(default_factory=dict)
    platforms: list[PlatformCounters] = field(default_factory=list)


@dataclass(frozen=True)
class CampaignSummary(_Serializable):
    """One line of the dashboard's campaign list."""

    campaign_id: int
    campaign: str
    timezone: str
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    views_coverage: str
    interactions: int
    engagement_rate: float | None
    last_updated: datetime | None
    platforms: list[PlatformTotals] = field(default_factory=list)
    attention: int | None = None
    """As in :class:`CampaignReport`."""


@dataclass(frozen=True)
class AccountCampaign(_Serializable):
    """What one account contributed to one campaign."""

    campaign_id: int
    campaign: str
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    interactions: int
    last_updated: datetime | None


@dataclass(frozen=True)
class AccountReport(_Serializable):
    """Everything one account published since it was added, across campaigns."""

    account_id: int
    account: str
    platform: str
    handle: str
    created_at: datetime
    scheduled: int
    published: int
    failed: int
    unknown: int
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    interactions: int
    engagement_rate: float | None
    first_published_at: datetime | None
    last_published_at: datetime | None
    last_updated: datetime | None
    campaigns: list[AccountCampaign] = field(default_factory=list)
    top_posts: list[TopPost] = field(default_factory=list)
    attention: int | None = None
    """As in :class:`CampaignReport`."""


# -- aggregation shared by campaign, summary and account views ------------------------------


@dataclass
class _Sums:
    values: dict[str, int] = field(default_factory=dict)
    reported: dict[str, int] = field(default_factory=dict)
    interactions: int = 0
    updated: datetime | None = None


def _kept_account_sums(*, every_account: bool) -> Any:
    """Sums per campaign and platform of one account (or of every account, keyed by
    account and campaign), from the totals the database keeps with every change of a
    latest value (metrics.models.AccountMetricTotal): one row per campaign, never a walk
    over the account's posts."""
    kept = AccountMetricTotal
    columns: list[Any] = [kept.account_id] if every_account else []
    columns += [kept.campaign_id, kept.platform]
    for name in COUNTERS:
        columns += [getattr(kept, name), getattr(kept, f"{name}_reported")]
    columns += [kept.interactions, kept.updated_at]
    statement = select(*columns)
    if not every_account:
        statement = statement.where(kept.account_id == bindparam("account_id"))
    return statement


_ACCOUNT_SUMS = _kept_account_sums(every_account=False)
_SUMS_PER_ACCOUNT = _kept_account_sums(every_account=True)


def _read_sums(
    session: Session,
    statement: Any,
    parameters: dict[str, Any] | None = None,
    *,
    keys: int = 1,
) -> dict[tuple[Any, str], _Sums]:
    """Sums per (key, platform); with ``keys`` above 1, the key is a tuple of the first
    ``keys`` columns."""
    sums: dict[tuple[Any, str], _Sums] = {}
    for row in column_rows(session, statement, parameters):
        key = row[0] if keys == 1 else tuple(row[:keys])
        platform, *rest = row[keys:]
        item = _Sums()
        for index, name in enumerate(COUNTERS):
            item.values[name] = int(rest[2 * index] or 0)
            item.reported[name] = int(rest[2 * index + 1])
        item.interactions = int(rest[-2])
        item.updated = _aware(rest[-1])
        sums[(key, platform)] = item
    return sums


def _states_by(where: ColumnElement[bool] | None) -> Any:
    statement = (
        select(
            DeliveryCount.campaign_id,
            Account.platform,
            DeliveryCount.state,
            func.sum(DeliveryCount.n),
        )
        .join(Account, Account.id == DeliveryCount.account_id)
        .where(DeliveryCount.n != 0)
        .group_by(DeliveryCount.campaign_id, Account.platform, DeliveryCount.state)
    )
    return statement if where is None else statement.where(where)


# Built once: assembling a statement on every read was a large part of a small read's cost.
_STATES_OF_ALL = _states_by(None)
_STATES_OF_CAMPAIGN = _states_by(DeliveryCount.campaign_id == bindparam("campaign_id"))
_STATES_OF_ACCOUNT = _states_by(DeliveryCount.account_id == bindparam("account_id"))


def _read_states(
    session: Session, statement: Any = _STATES_OF_ALL, parameters: dict[str, int] | None = None
) -> dict[tuple[Any, str], dict[str, int]]:
    """Deliveries per (campaign, platform) and state, from the counts the database keeps
    with every transition (campaigns.models.DeliveryCount): never a GROUP BY of deliveries."""
    states: dict[tuple[Any, str], dict[str, int]] = defaultdict(dict)
    for key, platform, state, count in column_rows(session, statement, parameters):
        if count:
            states[(key, platform)][DeliveryState(state).value] = int(count)
    return states


_CANCELLED = DeliveryState.CANCELLED.value
_PUBLISHED = DeliveryState.PUBLISHED.value
_FAILED = DeliveryState.FAILED.value
_UNKNOWN = DeliveryState.UNKNOWN.value


def _platform_totals(
    platform: str, states: Mapping[str, int], sums: _Sums | None
) -> PlatformTotals:
    counted: list[int | None] = [None] * len(COUNTERS)
    interactions = 0
    if sums is not None:
        # Not given by the platform, or given but not reported yet (WeChat's same-day
        # figures): "not available", never 0.
        counted = [
            sums.values[name]
            if sums.reported[name] and gives(platform, name, reported=True)
            else None
            for name in COUNTERS
        ]
        interactions = sums.interactions
    views, likes, comments, shares = counted
    return PlatformTotals(
        platform=platform,
        scheduled=sum(states.values()) - states.get(_CANCELLED, 0),
        published=states.get(_PUBLISHED, 0),
        failed=states.get(_FAILED, 0),
        unknown=states.get(_UNKNOWN, 0),
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        interactions=interactions,
        engagement_rate=(interactions / views) if views else None,
        last_updated=sums.updated if sums else None,
    )


def _group_platforms(
    states: Mapping[tuple[Any, str], Mapping[str, int]],
    sums: Mapping[tuple[Any, str], _Sums],
) -> dict[Any, list[PlatformTotals]]:
    grouped: dict[Any, list[PlatformTotals]] = defaultdict(list)
    for key, platform in sorted(set(states) | set(sums), key=lambda item: (item[0], item[1])):
        grouped[key].append(
            _platform_totals(platform, states.get((key, platform), {}), sums.get((key, platform)))
        )
    return grouped


def _sum_available(platforms: Iterable[PlatformTotals], counter: str) -> int | None:
    values = [getattr(p, counter) for p in platforms if getattr(p, counter) is not None]
    return sum(values) if values else None


def _totals(platforms: list[PlatformTotals]) -> _Totals:
    """The platforms added up, in one pass (the campaign list does this per campaign)."""
    scheduled = published = failed = unknown = interactions = viewed_interactions = 0
    views: int | None = None
    updated: datetime | None = None
    given = dict.fromkeys(COUNTERS, 0)
    for item in platforms:
        scheduled += item.scheduled
        published += item.published
        failed += item.failed
        unknown += item.unknown
        interactions += item.interactions
        if item.views is not None:
            views = (views or 0) + item.views
            # Only interactions on platforms that give views belong over views.
            viewed_interactions += item.interactions
            given["views"] += 1
        for name in ("likes", "comments", "shares"):
            if getattr(item, name) is not None:
                given[name] += 1
        if item.last_updated is not None and (updated is None or item.last_updated > updated):
            updated = item.last_updated
    noun = "platform" if len(platforms) == 1 else "platforms"
    return _Totals(
        scheduled=scheduled,
        published=published,
        failed=failed,
        unknown=unknown,
        views=views,
        interactions=interactions,
        engagement_rate=(viewed_interactions / views) if views else None,
        last_updated=updated,
        coverage={name: f"{given[name]} of {len(platforms)} {noun}" for name in COUNTERS},
    )


# -- public reports ----------------------------------------------------------------------------


def _attention(
    session: Session,
    states: Mapping[tuple[Any, str], Mapping[str, int]],
    *,
    now: datetime | None,
    windows: Windows | None,
    by: Literal["campaign", "account"],
    key: int | None = None,
) -> dict[int, int] | None:
    """Deliveries needing attention (campaigns.queries.attention_counts): those that ended
    badly from the ``states`` already read, plus the stuck ones, per ``by``.

    ``states`` is keyed by (owner, platform), the owner being a campaign or an account as
    ``by`` says; with ``key`` (one account's states, keyed by campaign) everything counts
    for ``key``."""
    if now is None or windows is None:
        return None
    found: dict[int, int] = {}
    for (first, _), counts in states.items():
        ended = sum(counts.get(state.value, 0) for state in ENDED_BADLY)
        if ended:
            owner = int(first if by == "campaign" or key is None else key)
            found[owner] = found.get(owner, 0) + ended
    # Every delivery of the campaigns or the account asked for is counted in ``states``, so
    # their platforms are the only ones a stuck delivery can be on.
    platforms = {platform for _, platform in states}
    stuck = stuck_counts(session, now=now, windows=windows, by=by, key=key, platforms=platforms)
    for owner, n in stuck.items():
        found[owner] = found.get(owner, 0) + n
    return found


class CampaignNamed(Protocol):
    """What a report shows of its campaign: a ``Campaign``, or those columns read alone."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def timezone(self) -> str: ...


def campaign_report(
    session: Session,
    *,
    campaign: CampaignNamed,
    top: int = 5,
    now: datetime | None = None,
    windows: Windows | None = None,
) -> CampaignReport:
    """Deliveries, views and interactions of one campaign: totals, per platform, per day.

    With ``now`` and ``windows``, also how many deliveries need attention."""
    states = _read_states(session, _STATES_OF_CAMPAIGN, {"campaign_id": campaign.id})
    attention = _attention(
        session, states, now=now, windows=windows, by="campaign", key=campaign.id
    )
    sums = _rollup_sums(session, campaign_id=campaign.id)
    platforms = _group_platforms(states, sums).get(campaign.id, [])
    totals = _totals(platforms)
    return CampaignReport(
        campaign_id=campaign.id,
        campaign=campaign.name,
        timezone=campaign.timezone,
        scheduled=totals.scheduled,
        published=totals.published,
        failed=totals.failed,
        unknown=totals.unknown,
        views=totals.views,
        views_coverage=totals.coverage["views"],
        interactions=totals.interactions,
        engagement_rate=totals.engagement_rate,
        last_updated=totals.last_updated,
        platforms=platforms,
        top_posts=top_posts(session, campaign_id=campaign.id, limit=top) if top else [],
        coverage=totals.coverage,
        daily=daily_series(session, campaign_id=campaign.id),
        attention=None if attention is None else attention.get(campaign.id, 0),
    )


def _kept_totals(*, one: bool) -> Any:
    kept = CampaignPlatformTotal
    columns: list[Any] = [kept.campaign_id, kept.platform]
    for name in COUNTERS:
        columns += [getattr(kept, name), getattr(kept, f"{name}_days")]
    columns += [kept.interactions, kept.updated_at]
    statement = select(*columns)
    if one:
        statement = statement.where(kept.campaign_id == bindparam("campaign_id"))
    return statement.order_by(kept.campaign_id, kept.platform)


_TOTALS_OF_ONE = _kept_totals(one=True)
_TOTALS_OF_ALL = _kept_totals(one=False)


def _rollup_sums(
    session: Session, *, campaign_id: int | None = None
) -> dict[tuple[int, str], _Sums]:
    """Views and interactions per (campaign, platform): the sums of the daily rollups, as
    the database keeps them with every rollup change (metrics.models.CampaignPlatformTotal).

    The days add up to the latest values (metrics.collection grows both in one
    transaction, and stamps the day with each collection's time), so these equal sums over
    the deliveries' latest values: one row per platform, whatever the number of posts or
    days."""
    if campaign_id is None:
        return _read_sums(session, _TOTALS_OF_ALL)
    return _read_sums(session, _TOTALS_OF_ONE, {"campaign_id": campaign_id})


def campaign_totals(session: Session, *, campaign_id: int) -> CampaignTotals:
    """Views and interactions of one campaign, from the sums of its daily rollups.

    One row per platform, whatever the number of posts or days; equal to the totals of
    ``campaign_report`` because the days add up to the latest values.
    """
    sums = _rollup_sums(session, campaign_id=campaign_id)
    platforms = [_platform_totals(platform, {}, item) for (_, platform), item in sums.items()]
    totals = _totals(platforms)
    return CampaignTotals(
        campaign_id=campaign_id,
        views=totals.views,
        views_coverage=totals.coverage["views"],
        interactions=totals.interactions,
        engagement_rate=totals.engagement_rate,
        last_updated=totals.last_updated,
        coverage=totals.coverage,
        platforms=[
            PlatformCounters(
                platform=p.platform,
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


def campaign_summaries(
    session: Session, *, now: datetime | None = None, windows: Windows | None = None
) -> list[CampaignSummary]:
    """Every campaign's totals, newest campaign first, in two grouped queries (a third for
    the deliveries needing attention, with ``now`` and ``windows``)."""
    states = _read_states(session)
    attention = _attention(session, states, now=now, windows=windows, by="campaign")
    sums = _rollup_sums(session)
    grouped = _group_platforms(states, sums)
    summaries: list[CampaignSummary] = []
    # Three columns, not the campaigns as entities (each would decode its JSON fields).
    listed = column_rows(
        session, select(Campaign.id, Campaign.name, Campaign.timezone).order_by(Campaign.id.desc())
    )
    for campaign_id, name, timezone in listed:
        platforms = grouped.get(campaign_id, [])
        totals = _totals(platforms)
        summaries.append(
            CampaignSummary(
                campaign_id=campaign_id,
                campaign=name,
                timezone=timezone,
                scheduled=totals.scheduled,
                published=totals.published,
                failed=totals.failed,
                unknown=totals.unknown,
                views=totals.views,
                views_coverage=totals.coverage["views"],
                interactions=totals.interactions,
                engagement_rate=totals.engagement_rate,
                last_updated=totals.last_updated,
                platforms=platforms,
                attention=None if attention is None else attention.get(campaign_id, 0),
            )
        )
    return summaries


_DAILY = (
    select(
        DailyRollup.day,
        DailyRollup.platform,
        DailyRollup.views,
        DailyRollup.likes,
        DailyRollup.comments,
        DailyRollup.shares,
        DailyRollup.interactions,
    )
    .where(DailyRollup.campaign_id == bindparam("campaign_id"))
    .order_by(DailyRollup.day, DailyRollup.platform)
)


def daily_series(session: Session, *, campaign_id: int) -> list[DailyPoint]:
    """Growth per day and platform, oldest first, from the daily rollups only."""
    rows = column_rows(session, _DAILY, {"campaign_id": campaign_id}).all()
    reported: dict[str, list[bool]] = {}
    for _day, platform, *counters, _interactions in rows:
        seen = reported.setdefault(platform, [False] * len(COUNTERS))
        for index, value in enumerate(counters):
            if value is not None:
                seen[index] = True
    shown = {
        platform: {
            name: seen[index] and gives(platform, name, reported=True)
            for index, name in enumerate(COUNTERS)
        }
        for platform, seen in reported.items()
    }
    return [
        DailyPoint(
            day=day,
            platform=platform,
            views=views if shown[platform]["views"] else None,
            interactions=interactions,
            likes=likes if shown[platform]["likes"] else None,
            comments=comments if shown[platform]["comments"] else None,
            shares=shares if shown[platform]["shares"] else None,
        )
        for day, platform, views, likes, comments, shares, interactions in rows
    ]


def top_posts(session: Session, *, campaign_id: int, limit: int) -> list[TopPost]:
    """The campaign's deliveries with the most interactions, with their URLs."""
    return _top(session, "campaign", campaign_id, limit=limit)


@functools.lru_cache(maxsize=32)
def _top_statement(scope: Literal["campaign", "account"], limit: int) -> Any:
    """Built once per scope and page size (see ``_STATES_OF_ALL``)."""
    # The columns shown only: four ORM entities per row cost more than the read itself.
    owner = DeliveryMetrics.campaign_id if scope == "campaign" else DeliveryMetrics.account_id
    return (
        select(
            Post.id,
            Delivery.id,
            Account.platform,
            Account.handle,
            Post.text,
            Delivery.url,
            Delivery.published_at,
            DeliveryMetrics.views,
            DeliveryMetrics.interactions,
        )
        .select_from(DeliveryMetrics)
        .join(Delivery, Delivery.id == DeliveryMetrics.delivery_id)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(owner == bindparam("owner"))
        .order_by(DeliveryMetrics.interactions.desc(), Delivery.id)
        .limit(literal_limit(limit))
    )


def _top(
    session: Session, scope: Literal["campaign", "account"], owner: int, *, limit: int
) -> list[TopPost]:
    rows = column_rows(session, _top_statement(scope, limit), {"owner": owner})
    return [
        TopPost(
            post_id=post_id,
            delivery_id=delivery_id,
            platform=platform,
            account=handle,
            text=text,
            url=url,
            published_at=published_at,
            views=views if gives(platform, "views", reported=views is not None) else None,
            interactions=interactions,
        )
        for (
            post_id,
            delivery_id,
            platform,
            handle,
            text,
            url,
            published_at,
            views,
            interactions,
        ) in rows
    ]


class AccountNamed(Protocol):
    """What a report shows of its account: an ``Account``, or those columns read alone."""

    @property
    def id(self) -> int: ...

    @property
    def label(self) -> str: ...

    @property
    def platform(self) -> str: ...

    @property
    def handle(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


def account_report(
    session: Session,
    *,
    account: AccountNamed,
    top: int = 5,
    now: datetime | None = None,
    windows: Windows | None = None,
) -> AccountReport:
    """One account across every campaign since it was added (e.g. @IPRinCN's 80 articles)."""
    states = _read_states(session, _STATES_OF_ACCOUNT, {"account_id": account.id})
    attention = _attention(session, states, now=now, windows=windows, by="account", key=account.id)
    sums = _read_sums(session, _ACCOUNT_SUMS, {"account_id": account.id})
    _, first, last = column_rows(session, _PUBLISHED_SPAN, {"account_id": account.id}).one()
    return _account_report(
        account,
        states,
        sums,
        _campaign_names(session, {key for key, _ in states} | {key for key, _ in sums}),
        published=(first, last),
        top_posts=_top(session, "account", account.id, limit=top) if top else [],
        attention=None if attention is None else attention.get(account.id, 0),
    )


def _published_end(end: Any) -> Any:
    """An account's first or last publish: one end of its range in the index of published
    deliveries by account (no walk over its history)."""
    return (
        select(end(Delivery.published_at))
        .where(Delivery.account_id == Account.id, in_states(DeliveryState.PUBLISHED))
        .correlate(Account)
        .scalar_subquery()
    )


_SPANS_PER_ACCOUNT = select(Account.id, _published_end(func.min), _published_end(func.max))
_PUBLISHED_SPAN = _SPANS_PER_ACCOUNT.where(Account.id == bindparam("account_id"))
_STATES_PER_ACCOUNT = (
    select(
        DeliveryCount.account_id,
        DeliveryCount.campaign_id,
        DeliveryCount.state,
        func.sum(DeliveryCount.n),
    )
    .where(DeliveryCount.n != 0)
    .group_by(DeliveryCount.account_id, DeliveryCount.campaign_id, DeliveryCount.state)
)


def account_reports(
    session: Session,
    *,
    accounts: Iterable[AccountNamed],
    now: datetime | None = None,
    windows: Windows | None = None,
) -> list[AccountReport]:
    """Each of ``accounts`` as :func:`account_report` gives it without top posts, in the
    same few statements whatever their number (the dashboard and ``/api/reports/accounts``
    list every account; a report per account was four statements each)."""
    accounts = list(accounts)
    platform_of = {account.id: account.platform for account in accounts}
    states: dict[int, dict[tuple[Any, str], dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    # The same counts per (account, platform), all campaigns together: what _attention
    # counts per account.
    merged: dict[tuple[Any, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account_id, campaign_id, state, count in column_rows(session, _STATES_PER_ACCOUNT):
        platform = platform_of.get(account_id)
        if count and platform is not None:
            name = DeliveryState(state).value
            states[account_id][(campaign_id, platform)][name] = int(count)
            merged[(account_id, platform)][name] += int(count)
    sums: dict[int, dict[tuple[Any, str], _Sums]] = defaultdict(dict)
    for key, item in _read_sums(session, _SUMS_PER_ACCOUNT, keys=2).items():
        (account_id, campaign_id), platform = key
        sums[account_id][(campaign_id, platform)] = item
    spans = {
        account_id: (first, last)
        for account_id, first, last in column_rows(session, _SPANS_PER_ACCOUNT)
    }
    names = _campaign_names(session, None)
    attention = _attention(session, merged, now=now, windows=windows, by="account")
    return [
        _account_report(
            account,
            states.get(account.id, {}),
            sums.get(account.id, {}),
            names,
            published=spans.get(account.id, (None, None)),
            top_posts=[],
            attention=None if attention is None else attention.get(account.id, 0),
        )
        for account in accounts
    ]


def _campaign_names(session: Session, campaign_ids: set[int] | None) -> dict[int, str]:
    """Campaign names by id: of ``campaign_ids``, or of every campaign for None."""
    statement = select(Campaign.id, Campaign.name)
    if campaign_ids is not None:
        statement = statement.where(Campaign.id.in_(campaign_ids))
    return {campaign_id: name for campaign_id, name in column_rows(session, statement)}


def _account_report(
    account: AccountNamed,
    states: Mapping[tuple[Any, str], Mapping[str, int]],
    sums: Mapping[tuple[Any, str], _Sums],
    names: Mapping[int, str],
    *,
    published: tuple[datetime | None, datetime | None],
    top_posts: list[TopPost],
    attention: int | None,
) -> AccountReport:
    per_campaign: list[AccountCampaign] = []
    overall: list[PlatformTotals] = []
    for campaign_id, platforms in sorted(_group_platforms(states, sums).items()):
        for item in platforms:  # one platform: the account's
            overall.append(item)
            per_campaign.append(
                AccountCampaign(
                    campaign_id=campaign_id,
                    campaign=names.get(campaign_id, str(campaign_id)),
                    scheduled=item.scheduled,
                    published=item.published,
                    failed=item.failed,
                    unknown=item.unknown,
                    views=item.views,
                    interactions=item.interactions,
                    last_updated=item.last_updated,
                )
            )
    totals = _totals(overall)
    first, last = published

    def counter(name: str) -> int | None:
        return _sum_available(overall, name)

    return AccountReport(
        account_id=account.id,
        account=account.label,
        platform=account.platform,
        handle=account.handle,
        created_at=account.created_at,
        scheduled=totals.scheduled,
        published=totals.published,
        failed=totals.failed,
        unknown=totals.unknown,
        views=counter("views"),
        likes=counter("likes"),
        comments=counter("comments"),
        shares=counter("shares"),
        interactions=totals.interactions,
        engagement_rate=totals.engagement_rate,
        first_published_at=_aware(first),
        last_published_at=_aware(last),
        last_updated=totals.last_updated,
        campaigns=per_campaign,
        top_posts=top_posts,
        attention=attention,
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
