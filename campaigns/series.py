"""Recurring series: one RFC 5545 rule over a local wall time, each occurrence its own post.

"Every weekday at 09:30 from 20 April to 26 April" is ``rule="FREQ=WEEKLY;BYDAY=MO,TU,WE,
TH,FR"``, ``starts="2026-04-20 09:30"``, ``until=date(2026, 4, 26)``. The rule runs over
the campaign zone's wall clock, so 09:30 stays 09:30 local after a DST change. Every
occurrence meets the DST rule of any publish time: one the clocks skip refuses the whole
series (naming that date and its two valid neighbours); one they pass twice needs
``overlap`` ("earlier" or "later"). All or nothing: an error writes no post. The caller
commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

# python-dateutil ships no type information; the few attributes used are typed where read.
from dateutil.rrule import HOURLY, rrule, rrulestr  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import record
from campaigns.content import library_of
from campaigns.models import Post, PostSeries
from campaigns.people.roles import Role
from campaigns.schemas import PostInput
from campaigns.services import _resolve_accounts, add_post, cancel_post, check_post
from campaigns.states import PostState, shown_state
from campaigns.validation import parse_publish_time, parse_timezone, require_future
from publicist.core.errors import Conflict, InvalidInput, NotFound

MAX_OCCURRENCES = 500
"""More posts than this in one series is a mistake in the rule, not a plan."""
HORIZON = timedelta(days=731)
"""A series ends within two years of its start (this also bounds the rule's search)."""
RULE_LIMIT = 500
"""The size of ``post_series.rule``."""
Overlap = Literal["earlier", "later"]
OVERLAPS: dict[str, Overlap] = {"earlier": "earlier", "later": "later"}
"""The choices for a time the clocks pass twice, by name (for inputs read as text)."""


@dataclass(frozen=True)
class SeriesInput:
    """A series to create: the post every occurrence copies (its ``at`` must be empty), the
    rule, the first occurrence's local wall time in the campaign's zone, and an end."""

    post: PostInput
    rule: str
    """An RRULE value, e.g. ``FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR`` (an ``RRULE:`` prefix is
    accepted); it may carry its own ``UNTIL`` or ``COUNT``."""
    starts: str
    """``YYYY-MM-DD HH:MM``, local to the campaign's zone, without an offset."""
    until: date | None = None
    """The last day (inclusive, local) an occurrence may fall on."""
    overlap: Overlap | None = None
    """Which of the two times an occurrence inside a fall-back hour takes."""
    approve: bool = False
    """Approve and schedule every occurrence at once (an approver's right)."""


@dataclass(frozen=True)
class Occurrence:
    post_id: int
    publish_at: datetime | None
    state: str
    """As reads show it (``expired`` for one still in review past its time)."""
    text: str


@dataclass(frozen=True)
class SeriesView:
    id: int
    campaign_id: int
    campaign: str
    timezone: str
    rule: str
    starts: str
    until: date | None
    overlap: str | None
    created_at: datetime
    cancelled_at: datetime | None
    occurrences: list[Occurrence]


def _parse_start(value: str) -> datetime:
    text = value.strip()
    try:
        start = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        raise InvalidInput(
            "starts", value, "is not a local date and time (use YYYY-MM-DD HH:MM)"
        ) from None
    if start.tzinfo is not None:
        raise InvalidInput(
            "starts",
            value,
            "must be a local wall time without an offset: the series keeps that wall time "
            "across DST changes",
        )
    return start.replace(second=0, microsecond=0)


def _parse_rule(value: str, start: datetime) -> rrule:
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text or len(text) > RULE_LIMIT or any(c in text for c in "\r\n:"):
        raise InvalidInput(
            "rule", value[:80], f"must be one RRULE value of at most {RULE_LIMIT} characters"
        )
    try:
        parsed = rrulestr(text, dtstart=start)
    except (ValueError, TypeError, IndexError, KeyError):
        raise InvalidInput(
            "rule", text, "is not an RFC 5545 RRULE (e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR)"
        ) from None
    if not isinstance(parsed, rrule):
        raise InvalidInput("rule", text, "must be a single RRULE")
    if parsed._freq > HOURLY:  # MINUTELY, SECONDLY
        raise InvalidInput("rule", text, "repeats more often than hourly; that is not a series")
    return parsed


def occurrences(
    *, rule: str, starts: str, until: date | None, zone: ZoneInfo, overlap: Overlap | None
) -> list[datetime]:
    """Every occurrence as an aware UTC time, or InvalidInput naming the first problem.

    The rule is expanded over naive wall times (so DST never moves them), bounded by
    ``HORIZON``, then each wall time is placed in ``zone`` under the DST rule.
    """
    start = _parse_start(starts)
    parsed = _parse_rule(rule, start)
    count: int | None = parsed._count
    own_until: datetime | None = parsed._until
    if own_until is not None and own_until.tzinfo is not None:
        own_until = own_until.astimezone(zone).replace(tzinfo=None)
    if until is not None and own_until is not None:
        raise InvalidInput("until", until.isoformat(), "is given twice: the rule has an UNTIL")
    end = datetime.combine(until, time.max) if until is not None else own_until
    if end is None and count is None:
        raise InvalidInput(
            "until", "", "must be given: a series needs an end (a last day, UNTIL or COUNT)"
        )
    horizon = start + HORIZON
    if end is not None and end > horizon:
        raise InvalidInput(
            "until",
            end.date().isoformat(),
            f"is more than two years after the start ({start:%Y-%m-%d})",
        )
    # Always expanded up to a date: a rule that can never match would otherwise be searched
    # to the year 9999.
    bounded = parsed.replace(count=None, until=end or horizon)
    walls: list[datetime] = []
    for wall in bounded:
        walls.append(wall)
        if count is not None and len(walls) == count:
            break
        if len(walls) > MAX_OCCURRENCES:
            break
    if count is not None and len(walls) < min(count, MAX_OCCURRENCES + 1):
        raise InvalidInput("rule", f"COUNT={count}", "does not fit within two years of the start")
    if len(walls) > MAX_OCCURRENCES:
        raise InvalidInput(
            "rule",
            rule,
            f"makes more than {MAX_OCCURRENCES} occurrences; the limit is "
            f"{MAX_OCCURRENCES} per series",
        )
    if not walls:
        raise InvalidInput("rule", rule, "makes no occurrence between the start and the end")
    return [_place(wall, zone, overlap) for wall in walls]


def _place(wall: datetime, zone: ZoneInfo, overlap: Overlap | None) -> datetime:
    """A wall time in ``zone``: refused inside a gap, resolved by ``overlap`` inside a fold."""
    earlier = wall.replace(tzinfo=zone, fold=0)
    later = wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier.astimezone(UTC)
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:  # a fold
        if overlap is None:
            raise InvalidInput(
                "overlap",
                f"{wall:%Y-%m-%d %H:%M}",
                f"is needed: the occurrence on {wall:%Y-%m-%d} happens twice in {zone.key} "
                f"(the clocks go back); choose 'earlier' ({_shown(earlier)}) or 'later' "
                f"({_shown(later)})",
            )
        return (earlier if overlap == "earlier" else later).astimezone(UTC)
    try:  # a gap: the one DST rule of publish times names the two valid neighbours
        parse_publish_time(wall, zone=zone, field="starts")
    except InvalidInput as error:
        raise InvalidInput(
            "starts",
            f"{wall:%Y-%m-%d %H:%M}",
            f"has an occurrence on {wall:%Y-%m-%d} that {error.rule}; the whole series is "
            "refused (change the time of day or the rule)",
        ) from None
    return earlier.astimezone(UTC)


def _shown(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M}{offset[:3]}:{offset[3:]} ({moment.tzname()})"


def create_series(
    session: Session, *, data: SeriesInput, now: datetime, actor: Actor = OPERATOR
) -> PostSeries:
    """Create a series and one post per occurrence, all or nothing.

    Each occurrence is an ordinary post (its own id; edited, approved or cancelled alone)
    carrying ``series_id``; as drafts by default, or approved and scheduled with
    ``data.approve``. Content is checked once, then every occurrence is placed under the DST
    rule before anything is written. The composer calls this with the post it built.
    """
    actor.require(Role.EDITOR, "creating a series")
    if data.approve:
        actor.require(Role.APPROVER, "approving a series")
    if data.post.at is not None:
        raise InvalidInput("at", data.post.at, "must be empty: a series' times come from its rule")
    if data.overlap not in (None, "earlier", "later"):
        raise InvalidInput("overlap", data.overlap, "must be 'earlier' or 'later'")
    campaign, accounts = _resolve_accounts(session, data.post, field_prefix="")
    zone = parse_timezone(campaign.timezone)
    times = occurrences(
        rule=data.rule, starts=data.starts, until=data.until, zone=zone, overlap=data.overlap
    )
    require_future(times[0], now=now, field="starts")
    check_post(
        data.post, campaign=campaign, accounts=accounts, now=now, library=library_of(session)
    )
    series = PostSeries(
        campaign_id=campaign.id,
        rule=data.rule.strip().removeprefix("RRULE:"),
        starts_local=f"{_parse_start(data.starts):%Y-%m-%d %H:%M}",
        until_on=data.until,
        timezone=campaign.timezone,
        overlap=data.overlap,
        created_by=actor.person_id,
        created_at=now,
    )
    session.add(series)
    session.flush()
    post_ids = []
    for index, moment in enumerate(times):
        post = add_post(
            session,
            data=replace(data.post, at=moment.isoformat()),
            now=now,
            approve=data.approve,
            field_prefix=f"occurrence[{index}].",
            actor=actor,
        )
        post.series_id = series.id
        post_ids.append(post.id)
    session.flush()
    record(
        session,
        actor=actor,
        action="series.create",
        kind="series",
        object_id=series.id,
        after={
            "rule": series.rule,
            "starts": series.starts_local,
            "until": data.until.isoformat() if data.until else None,
            "timezone": series.timezone,
            "overlap": series.overlap,
            "posts": post_ids,
        },
        now=now,
    )
    return series


def get_series(session: Session, *, series_id: int, now: datetime) -> SeriesView:
    """A series with its occurrences in time order."""
    series = session.get(PostSeries, series_id)
    if series is None:
        raise NotFound("series", series_id, "see 'publicist series list'")
    return _view(session, series, now=now)


def _view(session: Session, series: PostSeries, *, now: datetime) -> SeriesView:
    posts = session.scalars(
        select(Post).where(Post.series_id == series.id).order_by(Post.publish_at, Post.id)
    ).all()
    campaign = posts[0].campaign.name if posts else str(series.campaign_id)
    return SeriesView(
        id=series.id,
        campaign_id=series.campaign_id,
        campaign=campaign,
        timezone=series.timezone,
        rule=series.rule,
        starts=series.starts_local,
        until=series.until_on,
        overlap=series.overlap,
        created_at=series.created_at,
        cancelled_at=series.cancelled_at,
        occurrences=[
            Occurrence(
                post_id=p.id,
                publish_at=p.publish_at,
                state=shown_state(p.state, p.publish_at, now=now),
                text=p.text,
            )
            for p in posts
        ],
    )


def list_series(
    session: Session, *, campaign_id: int | None = None, limit: int = 100
) -> list[PostSeries]:
    """Series, newest first, optionally of one campaign."""
    query = select(PostSeries).order_by(PostSeries.id.desc()).limit(limit)
    if campaign_id is not None:
        query = query.where(PostSeries.campaign_id == campaign_id)
    return list(session.scalars(query))


def cancel_series(
    session: Session, *, series_id: int, now: datetime, actor: Actor = OPERATOR
) -> list[int]:
    """Cancel every future occurrence not yet cancelled (through ``cancel_post``, each
    audited); past ones stay as they are. Returns the ids of the posts cancelled."""
    actor.require(Role.APPROVER, "cancelling a series")
    series = session.get(PostSeries, series_id, with_for_update=True, populate_existing=True)
    if series is None:
        raise NotFound("series", series_id, "see 'publicist series list'")
    if series.cancelled_at is not None:
        raise Conflict(f"series {series.id} was already cancelled")
    future = session.scalars(
        select(Post.id)
        .where(
            Post.series_id == series.id,
            Post.state != PostState.CANCELLED,
            Post.publish_at > now,
        )
        .order_by(Post.publish_at, Post.id)
    ).all()
    for post_id in future:
        cancel_post(session, post_id=post_id, now=now, actor=actor)
    series.cancelled_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="series.cancel",
        kind="series",
        object_id=series.id,
        after={"cancelled_posts": list(future)},
        now=now,
    )
    return list(future)
