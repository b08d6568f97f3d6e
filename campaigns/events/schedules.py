"""Scheduled report e-mails: which campaign, how often, to whom, and which period each covers."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from campaigns.events.channels import EMAIL
from campaigns.events.models import Channel, ReportSchedule
from campaigns.models import Campaign
from campaigns.people.services import LANGUAGES
from campaigns.services import find_campaign
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import as_id, parse_id

EVERY = ("week", "month")
SEND_AT = time(8, 0)
"""Reports leave at 08:00 in the campaign's time zone, the start of a working day."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def first_run(every: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    """The first sending time: next Monday (week) or the 1st of next month, at 08:00."""
    today = now.astimezone(zone).date()
    day = today + timedelta(days=7 - today.weekday()) if every == "week" else _next_month(today)
    return datetime.combine(day, SEND_AT, tzinfo=zone)


def period_before(every: str, run_at: datetime, *, zone: ZoneInfo) -> tuple[date, date]:
    """The days a run reports on: the 7 days before it (week), or the previous month."""
    day = run_at.astimezone(zone).date()
    if every == "week":
        return day - timedelta(days=7), day - timedelta(days=1)
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def next_run(every: str, run_at: datetime, *, zone: ZoneInfo) -> datetime:
    local = run_at.astimezone(zone)
    day = local.date() + timedelta(days=7) if every == "week" else _next_month(local.date())
    return datetime.combine(day, SEND_AT, tzinfo=zone)


def email_channel(session: Session, key: str | None = None) -> Channel:
    """The e-mail channel named by ``key``, or the first one an admin added."""
    query = select(Channel).where(Channel.kind == EMAIL, Channel.disabled.is_(False))
    if key is not None:
        channel_id = as_id(key)
        query = query.where(
            (Channel.name == key) | (Channel.id == channel_id if channel_id else false())
        )
    channel = session.scalars(query.order_by(Channel.id)).first()
    if channel is None:
        if key is not None:
            raise NotFound("e-mail channel", key)
        raise Conflict(
            "no e-mail channel: an admin adds one first ('publicist notify channel add mailto://…')"
        )
    return channel


def schedule_report(
    session: Session,
    *,
    campaign: str,
    every: str,
    recipients: list[str],
    language: str,
    now: datetime,
    channel: str | None = None,
) -> ReportSchedule:
    """E-mail ``campaign``'s period report every week or month to ``recipients``."""
    if every not in EVERY:
        raise InvalidInput("every", every, "must be 'week' or 'month'")
    if not recipients:
        raise InvalidInput("to", "", "needs at least one e-mail address")
    for address in recipients:
        if not _EMAIL.fullmatch(address):
            raise InvalidInput("to", address, "is not an e-mail address")
    if language not in LANGUAGES:
        raise InvalidInput("language", language, "must be one of " + ", ".join(LANGUAGES))
    found: Campaign = find_campaign(session, campaign)
    zone = ZoneInfo(found.timezone)
    schedule = ReportSchedule(
        campaign_id=found.id,
        every=every,
        recipients=[address.lower() for address in recipients],
        channel_id=email_channel(session, channel).id,
        language=language,
        next_run_at=first_run(every, now=now, zone=zone),
        created_at=now,
    )
    session.add(schedule)
    session.flush()
    return schedule


def remove_schedule(session: Session, *, schedule_id: str) -> None:
    schedule = session.get(ReportSchedule, parse_id(schedule_id, field="schedule"))
    if schedule is None:
        raise NotFound("report schedule", schedule_id)
    session.delete(schedule)
    session.flush()


def due_schedules(session: Session, *, now: datetime, limit: int = 20) -> list[ReportSchedule]:
    """Schedules whose time has come, locked (skipped if another run holds them)."""
    return list(
        session.scalars(
            select(ReportSchedule)
            .where(ReportSchedule.next_run_at <= now)
            .order_by(ReportSchedule.next_run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
