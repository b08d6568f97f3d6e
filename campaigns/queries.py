"""Reads for staff: which deliveries need attention, and why (CLI, API and dashboard alike)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, selectinload

from campaigns.accounts import connector_class
from campaigns.models import (
    Account,
    Campaign,
    Delivery,
    DeliveryAttempt,
    DeliveryCount,
    Post,
    PostTarget,
)
from campaigns.reasons import ErrorKind
from campaigns.states import ENDED_BADLY, EXPIRED, DeliveryState, PostState
from connectors.registry import UnknownPlatform
from publicist.core.database import UTCDateTime
from publicist.core.reads import column_rows
from publicist.core.settings import Settings
from publicist.core.sql_plans import literal_limit, text_literal

"""Final states staff must look at (and may retry)."""
WAITING = (
    DeliveryState.SCHEDULED,
    DeliveryState.QUEUED,
    DeliveryState.PUBLISHING,
    DeliveryState.SUBMITTED,
)
"""States a delivery only passes through: one that stays too long in them is stuck."""
LATE_START = timedelta(seconds=60)
"""A scheduled or queued delivery this far past its time has not been picked up."""
DEFAULT_PROCESSING = timedelta(minutes=10)
"""For an asynchronous platform whose connector names no usual processing time."""


@dataclass(frozen=True)
class Windows:
    """How long a delivery normally stays in each waiting state; longer means stuck."""

    late_start: timedelta
    publishing: timedelta
    """One lease and its creation margin: by then the reconciler has taken the attempt over."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Windows:
        return cls(
            late_start=LATE_START,
            publishing=timedelta(
                seconds=settings.publish_lease_seconds + settings.publish_creation_margin_seconds
            ),
        )


def in_states(
    *states: DeliveryState, column: ColumnElement[Any] | None = None
) -> ColumnElement[bool]:
    """``deliveries.state IN (...)`` (or ``column``'s) with the states as SQL literals
    (publicist.core.sql_plans.text_literal): a partial index on states (campaigns.models)
    is usable only when the planner sees the values."""
    state = Delivery.state.expression if column is None else column
    return state.in_([text_literal(s.value) for s in states])


def processing_window(platform: str) -> timedelta:
    """How long the platform usually takes to publish an accepted (``submitted``) post."""
    try:
        seconds = connector_class(platform).capabilities.usual_processing_seconds
    except UnknownPlatform:  # a connector no longer installed: fall back
        return DEFAULT_PROCESSING
    return timedelta(seconds=seconds) if seconds else DEFAULT_PROCESSING


@dataclass(frozen=True)
class Attention:
    """A delivery that needs staff attention, with the stored reason."""

    delivery_id: int
    post_id: int
    campaign_id: int
    account: str
    platform: str
    state: str
    due_at: datetime
    attempts: int
    stuck: bool
    """Still in a waiting state, for longer than its platform normally needs."""
    reason: str | None
    error_code: str | None
    text: str
    error_kind: str | None = None
    """The class of the last error (campaigns.reasons.ErrorKind), when one was stored."""


@dataclass(frozen=True)
class _Cut:
    """The "stuck" half of needing attention (the other: ended badly), written once for the
    list and the counts."""

    started: ScalarSelect[datetime]
    finished: ScalarSelect[datetime]
    stuck: ColumnElement[bool]
    """In a waiting state for longer than its window; each term is one state's index range."""
    platforms: tuple[str, ...]
    """The platforms whose processing windows ``stuck`` names (others get the default)."""

    @classmethod
    def of(cls, session: Session, platforms: Iterable[str] | None = None) -> _Cut:
        """The cut, its times left as parameters (pass :meth:`values` with the statement).
        ``platforms``: every platform of an account the caller's deliveries can be on, when
        the caller has read them already (else they are read here)."""
        return _parametric_cut(_known(session, platforms))

    def values(self, now: datetime, windows: Windows) -> dict[str, datetime]:
        """The parameters of ``stuck`` at ``now``: how far back each waiting state's window
        reaches."""
        values = {
            "late_cut": now - windows.late_start,
            "publishing_cut": now - windows.publishing,
            "processed_cut": now - DEFAULT_PROCESSING,
        }
        for index, platform in enumerate(self.platforms):
            values[f"processed_cut_{index}"] = now - processing_window(platform)
        return values


def _known(session: Session, platforms: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted(set(platforms) if platforms is not None else _platforms(session)))


@functools.lru_cache(maxsize=64)
def _parametric_cut(platforms: tuple[str, ...]) -> _Cut:
    """The cut for these platforms with its times as parameters (:meth:`_Cut.values`), built
    once: assembling the expressions on every read was a large part of a small read's
    cost."""
    # The current attempt's start and end: how long the delivery has been in its state.
    attempt = (
        select(DeliveryAttempt.started_at)
        .where(
            DeliveryAttempt.delivery_id == Delivery.id,
            DeliveryAttempt.number == Delivery.attempts,
        )
        .correlate(Delivery)
        .limit(1)
    )
    started = attempt.scalar_subquery()
    finished = attempt.with_only_columns(
        func.coalesce(DeliveryAttempt.finished_at, DeliveryAttempt.started_at)
    ).scalar_subquery()

    def cut(name: str) -> BindParameter[datetime]:
        return bindparam(name, type_=UTCDateTime())

    whens = [(Account.platform == p, cut(f"processed_cut_{i}")) for i, p in enumerate(platforms)]
    processed_by: ColumnElement[datetime] = (
        case(*whens, else_=cut("processed_cut")) if whens else cut("processed_cut")
    )
    # The states are SQL literals (in_states): once psycopg prepares the statement,
    # PostgreSQL's generic plan still reads each state's index range instead of every
    # delivery, and the statement is not planned anew on every call.
    condition = or_(
        and_(
            in_states(DeliveryState.SCHEDULED, DeliveryState.QUEUED),
            Delivery.next_attempt_at < cut("late_cut"),
        ),
        and_(
            in_states(DeliveryState.PUBLISHING),
            func.coalesce(started, Delivery.updated_at) < cut("publishing_cut"),
        ),
        and_(in_states(DeliveryState.SUBMITTED), finished < processed_by),
    )
    return _Cut(started, finished, condition, platforms)


_COUNTED_ENDED_BADLY = in_states(*ENDED_BADLY, column=DeliveryCount.state.expression)
"""The delivery counts of the states that ended badly."""


def attention_counts(
    session: Session,
    *,
    now: datetime,
    windows: Windows,
    by: Literal["campaign", "account"],
    key: int | None = None,
) -> dict[int, int]:
    """How many deliveries need attention, per campaign id or per account id (for reports);
    with ``key``, for that one campaign or account only.

    Those that ended badly come from the delivery counts; the stuck ones from the few
    deliveries in a waiting state past their window (:func:`stuck_counts`)."""
    counted = DeliveryCount.campaign_id if by == "campaign" else DeliveryCount.account_id
    ended = select(counted, func.sum(DeliveryCount.n)).where(_COUNTED_ENDED_BADLY)
    if key is not None:
        ended = ended.where(counted == key)
    found: dict[int, int] = {}
    for k, n in column_rows(session, ended.group_by(counted)):
        if n:
            found[int(k)] = int(n)
    for k, n in stuck_counts(session, now=now, windows=windows, by=by, key=key).items():
        found[k] = found.get(k, 0) + n
    return found


def stuck_counts(
    session: Session,
    *,
    now: datetime,
    windows: Windows,
    by: Literal["campaign", "account"],
    key: int | None = None,
    platforms: Iterable[str] | None = None,
) -> dict[int, int]:
    """Deliveries stuck in a waiting state, per campaign or account id: index ranges of
    (state, next attempt), which hold the few deliveries waiting, never the history.

    ``platforms``: the platforms of every account with deliveries of the campaign or
    account asked for (a report has read them with the delivery counts); else read here."""
    cut = _Cut.of(session, platforms)
    values: dict[str, Any] = cut.values(now, windows)
    if key is not None:
        values["key"] = key
    found = column_rows(session, _stuck_statement(cut.platforms, by, keyed=key is not None), values)
    return {int(k): int(n) for k, n in found}


@functools.lru_cache(maxsize=128)
def _stuck_statement(
    platforms: tuple[str, ...], by: Literal["campaign", "account"], *, keyed: bool
) -> Any:
    """The stuck count of :func:`stuck_counts`, built once per set of platforms and
    grouping."""
    cut = _parametric_cut(platforms)
    # The campaign as the delivery carries it (set by the database on insert): no join to
    # posts.
    grouped: ColumnElement[Any] = (
        Delivery.campaign_id.expression if by == "campaign" else Delivery.account_id.expression
    )
    stuck = (
        select(grouped, func.count())
        .select_from(Delivery)
        .join(Account, Account.id == Delivery.account_id)
        .where(cut.stuck)
        .group_by(grouped)
    )
    return stuck.where(grouped == bindparam("key")) if keyed else stuck


def deliveries_needing_attention(
    session: Session,
    *,
    now: datetime,
    windows: Windows,
    campaign_id: int | None = None,
    limit: int = 100,
    post_id: int | None = None,
) -> list[Attention]:
    """Failed, missed and unknown deliveries, and those stuck in a waiting state, most
    recently due first.

    Stuck: ``scheduled`` or ``queued`` past their time by ``windows.late_start`` (no
    dispatcher or worker took them), ``publishing`` for longer than a lease and its margin
    (the reconciler has not settled it), ``submitted`` for longer than the platform's usual
    processing time.

    Two reads, each the first ``limit`` rows of an index that holds only what it looks
    for (the partial index of deliveries that ended badly, and the waiting states' ranges
    by state and time), merged: never a walk over published history. Only the columns
    shown are read (no ORM objects: a hundred rows of three entities cost milliseconds).
    """
    cut = _Cut.of(session)
    values: dict[str, Any] = cut.values(now, windows)
    values.update(campaign_id=campaign_id, post_id=post_id)
    rows: list[Any] = []
    for query in _attention_statements(
        cut.platforms, by_campaign=campaign_id is not None, by_post=post_id is not None, limit=limit
    ):
        rows += column_rows(session, query, values).all()
    rows.sort(key=lambda row: (row.due_at, row.id), reverse=True)
    found: list[Attention] = []
    for row in rows[:limit]:
        state = DeliveryState(row.state)
        reason = row.last_error
        stuck = state in WAITING
        if stuck:
            waited = _waited(row, state, now=now)
            window = _window(state, row.platform, windows)
            reason = (
                f"{state.value} for {_duration(waited)}, longer than the "
                f"{_duration(window)} {row.platform} normally needs"
                + (f"; last error: {row.last_error}" if row.last_error else "")
            )
        found.append(
            Attention(
                delivery_id=row.id,
                post_id=row.post_id,
                campaign_id=row.campaign_id,
                account=f"{row.platform}:{row.handle}",
                platform=row.platform,
                state=state.value,
                due_at=row.due_at,
                attempts=row.attempts,
                stuck=stuck,
                reason=reason,
                error_code=row.last_error_code,
                text=row.text,
                error_kind=row.last_error_kind,
            )
        )
    return found


@dataclass(frozen=True)
class CountMismatch:
    """A (campaign, account, state) whose kept count differs from the deliveries."""

    campaign_id: int
    account_id: int
    state: str
    kept: int
    actual: int


@functools.lru_cache(maxsize=64)
def _attention_statements(
    platforms: tuple[str, ...], *, by_campaign: bool, by_post: bool, limit: int
) -> tuple[Any, Any]:
    """The two reads of :func:`deliveries_needing_attention` (ended badly, stuck), built
    once per set of platforms, filter and page size, with the times, the campaign and the
    post as parameters."""
    cut = _parametric_cut(platforms)
    queries: list[Any] = []
    for condition in (in_states(*ENDED_BADLY), cut.stuck):
        query = (
            select(
                Delivery.id,
                Delivery.post_id,
                Post.campaign_id,
                Account.platform,
                Account.handle,
                Delivery.state,
                Delivery.due_at,
                Delivery.next_attempt_at,
                Delivery.updated_at,
                Delivery.attempts,
                Delivery.last_error,
                Delivery.last_error_code,
                Delivery.last_error_kind,
                Post.text,
                cut.started.label("started"),
                cut.finished.label("finished"),
            )
            .join(Post, Post.id == Delivery.post_id)
            .join(Account, Account.id == Delivery.account_id)
            .where(condition)
            .order_by(Delivery.due_at.desc(), Delivery.id.desc())
            .limit(literal_limit(limit))
        )
        if by_campaign:
            # The campaign as the delivery carries it: one filter on the deliveries' side,
            # which the planner can combine with the campaign's index.
            query = query.where(Delivery.campaign_id == bindparam("campaign_id"))
        if by_post:
            query = query.where(Post.id == bindparam("post_id"))
        queries.append(query)
    return queries[0], queries[1]


def count_mismatches(session: Session) -> list[CountMismatch]:
    """The delivery counts compared with a GROUP BY over every delivery: empty when the
    triggers kept them exact (``publicist db check-counts``; the fault and race tests)."""
    actual = {
        (int(c), int(a), str(s)): int(n)
        for c, a, s, n in session.execute(
            select(Post.campaign_id, Delivery.account_id, Delivery.state, func.count())
            .join(Post, Post.id == Delivery.post_id)
            .group_by(Post.campaign_id, Delivery.account_id, Delivery.state)
        )
    }
    kept = {
        (row.campaign_id, row.account_id, row.state): int(row.n)
        for row in session.scalars(select(DeliveryCount))
    }
    return [
        CountMismatch(campaign, account, state, kept.get(k, 0), actual.get(k, 0))
        for k in sorted(set(actual) | set(kept))
        for campaign, account, state in [k]
        if kept.get(k, 0) != actual.get(k, 0)
    ]


def _platforms(session: Session) -> list[str]:
    return list(column_rows(session, select(Account.platform).distinct()).scalars())


def _waited(row: Any, state: DeliveryState, *, now: datetime) -> timedelta:
    """How long the delivery in ``row`` (the list's columns) has been in its state."""
    if state in (DeliveryState.SCHEDULED, DeliveryState.QUEUED):
        return now - row.next_attempt_at  # type: ignore[no-any-return]
    if state is DeliveryState.PUBLISHING:
        return now - (row.started or row.updated_at)  # type: ignore[no-any-return]
    return now - (row.finished or row.updated_at)  # type: ignore[no-any-return]


def _window(state: DeliveryState, platform: str, windows: Windows) -> timedelta:
    if state is DeliveryState.PUBLISHING:
        return windows.publishing
    if state is DeliveryState.SUBMITTED:
        return processing_window(platform)
    return windows.late_start


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 300:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def list_posts_in(
    session: Session,
    *,
    now: datetime,
    campaign_id: int | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Post]:
    """Posts by id, optionally of one campaign and in one state as reads show it:
    ``expired`` is a post in review whose time has come, and ``in_review`` leaves those out.

    Their variants, targets and deliveries (with the accounts) come along, three statements
    for the whole page: a list shows them for every post, and loading them post by post
    took hundreds of round trips for a page of a hundred."""
    query = (
        select(Post)
        .options(
            selectinload(Post.variants),
            selectinload(Post.targets).joinedload(PostTarget.account),
            selectinload(Post.deliveries).joinedload(Delivery.account),
        )
        .order_by(Post.id)
        .limit(limit)
        .offset(offset)
    )
    if campaign_id is not None:
        query = query.where(Post.campaign_id == campaign_id)
    if state == EXPIRED:
        query = query.where(Post.state == PostState.IN_REVIEW, Post.publish_at <= now)
    elif state == PostState.IN_REVIEW.value:
        query = query.where(
            Post.state == PostState.IN_REVIEW, or_(Post.publish_at.is_(None), Post.publish_at > now)
        )
    elif state is not None:
        query = query.where(Post.state == PostState(state))
    return list(session.scalars(query))


@dataclass(frozen=True)
class InboxItem:
    """One thing in the inbox: a delivery that needs a person, or an expired post."""

    kind: Literal["delivery", "post"]
    post_id: int
    delivery_id: int | None
    campaign_id: int
    campaign: str
    timezone: str
    account: str | None
    platform: str | None
    state: str
    """The delivery's state, ``rate_limited`` for one waiting on the platform, or ``expired``."""
    reason: ErrorKind
    """Why, as a kind the interfaces put into plain words (campaigns.reasons.PLAIN)."""
    detail: str | None
    """The platform's own message (or the stored reason), shown as it is."""
    code: str | None
    due_at: datetime
    attempts: int
    text: str
    actions: tuple[str, ...]
    """What may be done about it: retry, reschedule, cancel, confirm, republish."""


_DELIVERY_ACTIONS = {
    "failed": ("retry", "reschedule", "cancel"),
    "missed": ("retry", "reschedule", "cancel"),
    "unknown": ("confirm", "republish", "cancel"),
    "rate_limited": ("retry", "reschedule", "cancel"),
    "scheduled": ("retry", "reschedule", "cancel"),
    "queued": ("retry", "reschedule", "cancel"),
}
"""Publishing or submitted deliveries wait for the reconciler and the poller: no action."""


def _reason(state: str, stuck: bool, kind: str | None, detail: str | None) -> ErrorKind:
    if state == "unknown":
        return ErrorKind.OUTCOME_UNKNOWN
    if state == "missed":
        return ErrorKind.MISSED
    if stuck:
        return ErrorKind.STUCK
    if detail is not None and detail.startswith("gave up after"):
        return ErrorKind.GAVE_UP
    try:
        return ErrorKind(kind) if kind else ErrorKind.OTHER
    except ValueError:  # a kind of a later version, read by an older one
        return ErrorKind.OTHER


def _rate_limited(now: datetime, windows: Windows) -> ColumnElement[bool]:
    """Waiting for the platform's quota to reset (not yet late: those are "stuck")."""
    return _rate_limited_since(now - windows.late_start)


def _rate_limited_since(late_cut: Any) -> ColumnElement[bool]:
    """:func:`_rate_limited` with its cut (a time, or a parameter standing for one)."""
    return and_(
        in_states(DeliveryState.SCHEDULED),
        Delivery.last_error_kind == text_literal(ErrorKind.RATE_LIMITED.value),
        Delivery.next_attempt_at >= late_cut,
    )


def _expired() -> ColumnElement[bool]:
    # A literal state, as in in_states: a prepared statement's generic plan would otherwise
    # read every post to count the few in review.
    in_review = Post.state == text_literal(PostState.IN_REVIEW.value)
    return and_(in_review, Post.publish_at.is_not(None))


def inbox(
    session: Session,
    *,
    now: datetime,
    windows: Windows,
    limit: int = 200,
    post_id: int | None = None,
) -> list[InboxItem]:
    """Everything that needs a person, most recently due first: the deliveries
    :func:`deliveries_needing_attention` finds, those waiting on a platform's rate limit,
    and posts that expired in review (``post_id``: only those of one post)."""
    zones = {
        id_: (name, zone)
        for id_, name, zone in session.execute(
            select(Campaign.id, Campaign.name, Campaign.timezone)
        )
    }
    items: list[InboxItem] = []
    one_post = [] if post_id is None else [Post.id == post_id]
    attention = deliveries_needing_attention(
        session, now=now, windows=windows, limit=limit, post_id=post_id
    )
    for found in attention:
        name, zone = zones[found.campaign_id]
        items.append(
            InboxItem(
                kind="delivery",
                post_id=found.post_id,
                delivery_id=found.delivery_id,
                campaign_id=found.campaign_id,
                campaign=name,
                timezone=zone,
                account=found.account,
                platform=found.platform,
                state=found.state,
                reason=_reason(found.state, found.stuck, found.error_kind, found.reason),
                detail=found.reason,
                code=found.error_code,
                due_at=found.due_at,
                attempts=found.attempts,
                text=found.text,
                actions=_DELIVERY_ACTIONS.get(found.state, ()),
            )
        )
    limited = session.execute(
        select(Delivery, Post, Account)
        .join(Post, Post.id == Delivery.post_id)
        .join(Account, Account.id == Delivery.account_id)
        .where(_rate_limited(now, windows), *one_post)
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
        .limit(literal_limit(limit))
    )
    for delivery, post, account in limited:
        name, zone = zones[post.campaign_id]
        items.append(
            InboxItem(
                kind="delivery",
                post_id=post.id,
                delivery_id=delivery.id,
                campaign_id=post.campaign_id,
                campaign=name,
                timezone=zone,
                account=account.label,
                platform=account.platform,
                state="rate_limited",
                reason=ErrorKind.RATE_LIMITED,
                detail=delivery.last_error,
                code=delivery.last_error_code,
                due_at=delivery.due_at,
                attempts=delivery.attempts,
                text=post.text,
                actions=_DELIVERY_ACTIONS["rate_limited"],
            )
        )
    expired = session.scalars(
        select(Post)
        .where(_expired(), Post.publish_at <= now, *one_post)
        .order_by(Post.publish_at.desc(), Post.id.desc())
        .limit(literal_limit(limit))
    )
    for post in expired:
        name, zone = zones[post.campaign_id]
        if post.publish_at is None:  # excluded by the query; keeps the type exact
            continue
        items.append(
            InboxItem(
                kind="post",
                post_id=post.id,
                delivery_id=None,
                campaign_id=post.campaign_id,
                campaign=name,
                timezone=zone,
                account=None,
                platform=None,
                state=EXPIRED,
                reason=ErrorKind.EXPIRED,
                detail=None,
                code=None,
                due_at=post.publish_at,
                attempts=0,
                text=post.text,
                actions=("reschedule", "cancel"),
            )
        )
    items.sort(key=lambda item: (item.due_at, item.delivery_id or 0), reverse=True)
    return items[:limit]


def inbox_count(session: Session, *, now: datetime, windows: Windows) -> int:
    """How many items :func:`inbox` holds (the badge on the workspace's Inbox link).

    Every signed-in page shows it, so it is one statement (after the platforms the stuck
    condition names): the deliveries that ended badly (from the delivery counts), those
    stuck, those waiting on a rate limit and the posts whose review expired, each an
    index read."""
    cut = _Cut.of(session)
    values: dict[str, Any] = cut.values(now, windows)
    values["now"] = now
    return int(session.scalar(_inbox_count_statement(cut.platforms), values) or 0)


@functools.lru_cache(maxsize=64)
def _inbox_count_statement(platforms: tuple[str, ...]) -> Any:
    """The statement of :func:`inbox_count`, built once per set of platforms with ``now``
    and the cut's times as parameters: every signed-in page sends it, and assembling it
    cost more than PostgreSQL's answer."""
    cut = _parametric_cut(platforms)
    ended = select(func.coalesce(func.sum(DeliveryCount.n), 0)).where(_COUNTED_ENDED_BADLY)
    stuck = (
        select(func.count())
        .select_from(Delivery)
        .join(Account, Account.id == Delivery.account_id)
        .where(cut.stuck)
    )
    # The rate-limited are those not late yet: due after the cut that makes a wait "stuck".
    late_cut = bindparam("late_cut", type_=UTCDateTime())
    limited = select(func.count()).select_from(Delivery).where(_rate_limited_since(late_cut))
    now = bindparam("now", type_=UTCDateTime())
    expired = select(func.count()).select_from(Post).where(_expired(), Post.publish_at <= now)
    parts = [part.scalar_subquery() for part in (ended, stuck, limited, expired)]
    return select(parts[0] + parts[1] + parts[2] + parts[3])


def inbox_item(
    session: Session, *, now: datetime, windows: Windows, delivery_id: int | None, post_id: int
) -> InboxItem | None:
    """One row of the inbox after an action on it, or None when it no longer needs a person."""
    for item in inbox(session, now=now, windows=windows, post_id=post_id):
        if item.post_id == post_id and item.delivery_id == delivery_id:
            return item
    return None
