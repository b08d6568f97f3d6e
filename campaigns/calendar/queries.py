"""Reads for the calendar page and feed: deliveries in a window, one post's details."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from campaigns.models import Account, Campaign, Delivery, Post, PostVariant
from campaigns.states import DeliveryState
from publicist.core.errors import NotFound
from publicist.core.sql_plans import literal_limit

FIRST_LINE_LIMIT = 80
"""Characters of a post's first line shown on an entry; the panel shows the whole text."""


@dataclass(frozen=True)
class Entry:
    """One delivery on the calendar."""

    delivery_id: int
    post_id: int
    campaign_id: int
    campaign: str
    timezone: str
    """The campaign's zone."""
    account_id: int
    account: str
    platform: str
    state: str
    due_at: datetime
    first_line: str


@dataclass(frozen=True)
class Filters:
    """What the calendar shows; None means every campaign, platform, account or state."""

    campaign_id: int | None = None
    platform: str | None = None
    account_id: int | None = None
    states: Collection[DeliveryState] | None = None


def first_line(text: str, limit: int = FIRST_LINE_LIMIT) -> str:
    """The first line that shows something, cut at ``limit`` characters with an ellipsis."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def entries(
    session: Session, *, start: datetime, end: datetime, filters: Filters = Filters()
) -> list[Entry]:
    """Deliveries due in ``[start, end)``, by due time then id, with the text each will carry
    (the platform's variant where the post has one)."""
    return _entries(session, _entries_query(session, start=start, end=end, filters=filters))


@dataclass(frozen=True)
class DayPage:
    """The first entries of each day, and how many each day holds in all."""

    entries: list[Entry]
    per_day: dict[date, int]


def first_entries_per_day(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    limit: int,
    filters: Filters = Filters(),
) -> DayPage:
    """Like :func:`entries`, but at most ``limit`` of each day (in ``zone``), with each day's
    full count: the text is read for the entries shown only. Which those are, PostgreSQL
    answers with one index range per day (:func:`_first_per_day_in_sql`); SQLite's are
    counted here from the window's ids and due times (:func:`_first_per_day`)."""
    # The due time as the driver gives it (no UTCDateTime per row: thousands of rows here);
    # aware on PostgreSQL, naive UTC on SQLite, as the type decorator would have fixed.
    raw_due = type_coerce(Delivery.due_at, DateTime(timezone=True))
    ids = (
        select(Delivery.id, raw_due)
        .where(Delivery.due_at >= start, Delivery.due_at < end)
        .order_by(Delivery.due_at, Delivery.id)
    )
    # The campaign as the delivery carries it: one range of (campaign, due time, id).
    unscoped = replace(filters, campaign_id=None)
    if filters.campaign_id is not None:
        ids = ids.where(Delivery.campaign_id == filters.campaign_id)
    for term in _filter_terms(session, unscoped):
        ids = ids.where(term)
    if filters.platform is not None:
        ids = ids.join(Account, Account.id == Delivery.account_id)
    # Core, not the ORM: plain rows, no ORM loading context per row; the flush the ORM's
    # autoflush would have made first (a no-op when nothing is pending).
    session.flush()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        shown, per_day = _first_per_day_in_sql(
            session, ids, start=start, end=end, zone=zone, limit=limit
        )
    else:
        shown, per_day = _first_per_day(session, ids, zone=zone, limit=limit)
    if not shown:
        return DayPage(entries=[], per_day=per_day)
    # On PostgreSQL the ids are one array parameter: the statement is the same whatever
    # their number, so psycopg prepares it once instead of parsing up to 252 parameters.
    chosen = (
        Delivery.id == any_(bindparam("shown", shown, type_=ARRAY(Integer)))
        if postgres
        else Delivery.id.in_(shown)
    )
    query = _entries_query(session, start=start, end=end, filters=Filters()).where(chosen)
    return DayPage(entries=_entries(session, query), per_day=per_day)


def _first_per_day(
    session: Session, ids: Select[*tuple[Any, ...]], *, zone: ZoneInfo, limit: int
) -> tuple[list[int], dict[date, int]]:
    """The first ``limit`` ids of each day in ``zone`` and each day's count, counted here
    from every (id, due time) of the window in due order (SQLite knows no time zones)."""
    per_day: dict[date, int] = {}
    shown: list[int] = []
    for delivery_id, due_at in session.connection().execute(ids).all():
        if due_at.tzinfo is None:
            due_at = due_at.replace(tzinfo=UTC)
        day = due_at.astimezone(zone).date()
        seen = per_day.get(day, 0)
        per_day[day] = seen + 1
        if seen < limit:
            shown.append(delivery_id)
    return shown, per_day


def _first_per_day_in_sql(
    session: Session,
    ids: Select[*tuple[Any, ...]],
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    limit: int,
) -> tuple[list[int], dict[date, int]]:
    """:func:`_first_per_day` on PostgreSQL, one statement: for each day of the window (its
    midnights in ``zone``, worked out here), the day's count and the ids of its first
    ``limit`` entries, each an index range of its own; only those ids come back, not the
    thousands of a busy campaign's month."""
    midnights: list[datetime] = []
    day = start.astimezone(zone).date()
    while (midnight := datetime.combine(day, time(), tzinfo=zone)) < end:
        midnights.append(midnight)
        day += timedelta(days=1)
    if not midnights:
        return [], {}
    bounds = ARRAY(DateTime(timezone=True))
    days = (
        func.unnest(
            bindparam("day_starts", midnights, type_=bounds),
            bindparam("day_ends", [*midnights[1:], end], type_=bounds),
        )
        .table_valued("starts", "ends")
        .render_derived(name="days")
    )
    in_day = ids.where(Delivery.due_at >= days.c.starts, Delivery.due_at < days.c.ends)
    count = in_day.with_only_columns(func.count()).order_by(None).scalar_subquery()
    first = in_day.with_only_columns(Delivery.id).limit(literal_limit(limit)).scalar_subquery()
    per_day: dict[date, int] = {}
    shown: list[int] = []
    rows = session.connection().execute(select(days.c.starts, count, func.array(first)))
    for midnight, of_day, first_ids in rows:
        if of_day:
            per_day[midnight.astimezone(zone).date()] = of_day
            shown += first_ids
    return shown, per_day


def _filter_terms(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if filters.campaign_id is not None:
        campaign: ColumnElement[int] = Post.campaign_id.expression
        if session.get_bind().dialect.name == "sqlite":
            campaign = campaign + 0  # see _window: not a way in for SQLite's planner
        terms.append(campaign == filters.campaign_id)
    if filters.platform is not None:
        terms.append(Account.platform == filters.platform)
    if filters.account_id is not None:
        terms.append(Delivery.account_id == filters.account_id)
    if filters.states is not None:
        terms.append(Delivery.state.in_(list(filters.states)))
    return terms


def _entries_query(
    session: Session, *, start: datetime, end: datetime, filters: Filters
) -> Select[*tuple[Any, ...]]:
    query: Select[*tuple[Any, ...]] = (
        select(
            Delivery.id,
            Delivery.post_id,
            Post.campaign_id,
            Campaign.name,
            Campaign.timezone,
            Account.id,
            Account.platform,
            Account.handle,
            Delivery.state,
            Delivery.due_at,
            Post.text,
            PostVariant.text,
        )
        .join(Post, Post.id == Delivery.post_id)
        .join(Campaign, Campaign.id == Post.campaign_id)
        .join(Account, Account.id == Delivery.account_id)
        .outerjoin(
            PostVariant,
            and_(PostVariant.post_id == Post.id, PostVariant.platform == Account.platform),
        )
        .where(*_window(session, start, end), *_filter_terms(session, filters))
        .order_by(Delivery.due_at, Delivery.id)
    )
    return query


def _entries(session: Session, query: Select[*tuple[Any, ...]]) -> list[Entry]:
    return [
        Entry(
            delivery_id=delivery_id,
            post_id=post_id,
            campaign_id=campaign_id,
            campaign=campaign,
            timezone=zone,
            account_id=account_id,
            account=f"{platform}:{handle}",
            platform=platform,
            state=state.value,
            due_at=due_at,
            first_line=first_line(variant or text),
        )
        for (
            delivery_id,
            post_id,
            campaign_id,
            campaign,
            zone,
            account_id,
            platform,
            handle,
            state,
            due_at,
            text,
            variant,
        ) in session.execute(query)
    ]


def _window(session: Session, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    terms = [Delivery.due_at >= start, Delivery.due_at < end]
    if session.get_bind().dialect.name != "sqlite":
        return terms
    # SQLite keeps no statistics: it would read every post of a campaign through the campaign
    # index (10,000 for a big one) to keep a month of them. Told that each bound keeps few
    # rows, and given no index way in by campaign (``+ 0`` above), it reads the window from
    # ix_deliveries_due_at, as PostgreSQL's planner chooses by itself from its statistics
    # (tests/integration/test_calendar_index.py).
    return [func.likelihood(term, literal_column("0.01")) for term in terms]


@dataclass(frozen=True)
class DeliveryDetail:
    account: str
    state: str
    due_at: datetime
    attempts: int
    last_error: str | None
    url: str | None


@dataclass(frozen=True)
class PostDetail:
    """What the calendar's panel shows of one post."""

    post_id: int
    campaign_id: int
    campaign: str
    timezone: str
    state: str
    text: str
    title: str | None
    publish_at: datetime | None
    deliveries: list[DeliveryDetail]
    accounts: list[str]
    """Every account the post is meant for, delivered or not yet."""


def post_detail(session: Session, *, post_id: int) -> PostDetail:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id)
    deliveries = session.execute(
        select(Delivery, Account)
        .join(Account, Account.id == Delivery.account_id)
        .where(Delivery.post_id == post_id)
        .order_by(Delivery.id)
    ).all()
    return PostDetail(
        post_id=post.id,
        campaign_id=post.campaign_id,
        campaign=post.campaign.name,
        timezone=post.campaign.timezone,
        state=post.state.value,
        text=post.text,
        title=post.title,
        publish_at=post.publish_at,
        deliveries=[
            DeliveryDetail(
                account=account.label,
                state=delivery.state.value,
                due_at=delivery.due_at,
                attempts=delivery.attempts,
                last_error=delivery.last_error,
                url=delivery.url,
            )
            for delivery, account in deliveries
        ],
        accounts=[target.account.label for target in post.targets],
    )


@dataclass(frozen=True)
class CampaignChoice:
    id: int
    name: str


@dataclass(frozen=True)
class AccountChoice:
    id: int
    platform: str
    handle: str

    @property
    def label(self) -> str:
        return f"{self.platform}:{self.handle}"


def filter_choices(session: Session) -> tuple[list[CampaignChoice], list[AccountChoice]]:
    """Campaigns by name and accounts by platform and handle, for the filter form: the
    columns it shows, not the entities (hundreds of them, with their JSON and credentials)."""
    campaigns = [
        CampaignChoice(id_, name)
        for id_, name in session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name))
    ]
    accounts = [
        AccountChoice(id_, platform, handle)
        for id_, platform, handle in session.execute(
            select(Account.id, Account.platform, Account.handle).order_by(
                Account.platform, Account.handle
            )
        )
    ]
    return campaigns, accounts
