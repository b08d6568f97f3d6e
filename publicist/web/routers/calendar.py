"""``/calendar``: deliveries by week, month or list; reschedule by drag and drop or a form;
secret iCalendar feeds per campaign.

Signed-in people read it; approvers and admins move posts (through ``reschedule_post``, the
same service, role rule and checks as the CLI and API); editors and above make or revoke
feeds. A feed URL
(``/calendar/feeds/{secret}.ics``) needs no sign-in: its secret is the credential, stored
hashed, shown once, and kept out of the access log (``publicist.web.redact``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.actors import person_actor
from campaigns.calendar.feeds import create_feed, feed_path, find_feed, live_feeds, revoke_feed
from campaigns.calendar.ical import campaign_calendar
from campaigns.calendar.queries import (
    Filters,
    entries,
    filter_choices,
    first_entries_per_day,
    post_detail,
)
from campaigns.models import Campaign
from campaigns.people.roles import Role
from campaigns.services import reschedule_post
from campaigns.validation import describe_time, parse_publish_time
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import parse_id
from publicist.web.calendar_view import (
    QUERY_FIELDS,
    CalendarQuery,
    Notice,
    days,
    parse_query,
    period,
    post_state_names,
    refusal,
    state_names,
    weekday_names,
    window,
    zone_options,
)
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]
CALENDAR_TYPE = "text/calendar; charset=utf-8"

router = APIRouter(include_in_schema=False)


MONTH_DAY_LIMIT = 6
"""Entries a month view shows per day; "N more" links to that day's week for the rest."""


def _may_edit(visitor: Visitor) -> bool:
    """Editors and above manage the campaign's calendar feeds."""
    return visitor.person is not None and Role(visitor.person.role).allows(Role.EDITOR)


def _may_move(visitor: Visitor) -> bool:
    """Moving a post changes when it goes out: approvers and admins, as in the API."""
    return visitor.person is not None and Role(visitor.person.role).allows(Role.APPROVER)


def _feed_guard(request: Request, visitor: Visitor, form: dict[str, str]) -> Response | None:
    """The answer that stops a feed change before it starts (sign in, CSRF, role), or None."""
    if visitor.person is None:
        return _to_signin("/calendar")
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    if not _may_edit(visitor):
        gettext = translations(visitor.language).gettext
        return _problem(visitor, 403, gettext("Only editors, approvers and admins may do this."))
    return None


def _to_signin(path: str) -> Response:
    return RedirectResponse("/signin?" + urlencode({"next": path}), status_code=303)


def _problem(visitor: Visitor, status: int, message: str) -> Response:
    response = render(
        visitor.language,
        "calendar_problem.html",
        {
            "visitor": visitor,
            "active": "calendar",
            "message": message,
            "status": status,
            "here": "/calendar",
        },
        status=status,
    )
    return visitor.finish(response)


def _bad_input(visitor: Visitor, error: InvalidInput | NotFound) -> Response:
    gettext = translations(visitor.language).gettext
    if isinstance(error, NotFound):
        return _problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    return _problem(
        visitor,
        422,
        gettext("This calendar address is not valid: %(field)s %(value)s %(rule)s")
        % {"field": error.field, "value": repr(str(error.value))[:80], "rule": error.rule},
    )


def _zone(session: Session, query: CalendarQuery, default: str) -> tuple[str, str]:
    """The zone the page is shown in, and the one "the campaign's zone" means here."""
    campaign_zone = default
    if query.campaign_id is not None:
        campaign = session.get(Campaign, query.campaign_id)
        if campaign is None:
            raise NotFound("campaign", query.campaign_id)
        campaign_zone = campaign.timezone
    return (query.zone or campaign_zone), campaign_zone


def _page(
    session: Session,
    visitor: Visitor,
    query: CalendarQuery,
    *,
    now: datetime,
    default_zone: str,
    notice: Notice | None = None,
    status: int = 200,
    new_feed: str | None = None,
    base_url: str = "",
    form_values: dict[str, str] | None = None,
) -> Response:
    gettext = translations(visitor.language).gettext
    zone_name, campaign_zone = _zone(session, query, default_zone)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    anchor = query.start or today
    shown = period(query.view, anchor)
    start, end = window(shown, zone)
    filters = Filters(
        campaign_id=query.campaign_id,
        platform=query.platform,
        account_id=query.account_id,
        states=[query.state] if query.state else None,
    )
    per_day: dict[date, int] | None = None
    if query.view == "month":
        # A month shows the first entries of each day and how many more it holds, so that
        # a month of a 10,000-post campaign stays a page (the week and list show them all).
        page = first_entries_per_day(
            session, start=start, end=end, zone=zone, limit=MONTH_DAY_LIMIT, filters=filters
        )
        found, per_day = page.entries, page.per_day
    else:
        found = entries(session, start=start, end=end, filters=filters)
    campaigns, accounts = filter_choices(session)
    detail = None
    if query.post_id is not None:
        try:
            detail = post_detail(session, post_id=query.post_id)
        except NotFound:
            detail = None
    feeds = (
        live_feeds(session, campaign_id=query.campaign_id)
        if query.campaign_id is not None and _may_edit(visitor)
        else []
    )
    person_zone = visitor.person.timezone if visitor.person else None
    moved = None
    if detail is not None and detail.publish_at is not None:
        moved = detail.publish_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "calendar",
        "here": query.url(),
        "q": query,
        "query_fields": {k: v for k, v in query.fields().items() if k in QUERY_FIELDS},
        "period": shown,
        "today": today,
        "days": days(
            shown, anchor if query.view == "month" else None, found, zone, query.post_url, per_day
        ),
        "entries": found,
        "zone": zone_name,
        "zone_info": zone,
        "campaign_zone": campaign_zone,
        "person_zone": person_zone,
        "zone_options": zone_options,
        "campaigns": campaigns,
        "accounts": accounts,
        "platforms": sorted({a.platform for a in accounts}),
        "states": state_names(gettext),
        "post_states": post_state_names(gettext),
        "weekdays": weekday_names(gettext),
        "detail": detail,
        "detail_time": moved,
        "notice": notice,
        "may_edit": _may_edit(visitor),
        "may_move": _may_move(visitor),
        "feeds": feeds,
        "new_feed": new_feed,
        "base_url": base_url,
        "form_values": form_values or {},
        "describe_time": describe_time,
        "ZoneInfo": ZoneInfo,
    }
    response = render(visitor.language, "calendar.html", context, status=status, scripts=True)
    return visitor.finish(response)


@router.get("/calendar")
def calendar(
    request: Request, session: DbSession, now: Now, visitor: CurrentVisitor, settings: AppSettings
) -> Response:
    if visitor.person is None:
        return _to_signin(
            str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        )
    values = dict(request.query_params)
    try:
        query = parse_query(values)
        notice = None
        if values.get("moved") and query.post_id is not None:
            detail = post_detail(session, post_id=query.post_id)
            if detail.publish_at is not None:
                gettext = translations(visitor.language).gettext
                when = describe_time(detail.publish_at, ZoneInfo(detail.timezone))
                notice = Notice(
                    "ok",
                    gettext("Post %(post)s moved to %(when)s.")
                    % {"post": detail.post_id, "when": when},
                )
        return _page(
            session, visitor, query, now=now, default_zone=settings.default_timezone, notice=notice
        )
    except (InvalidInput, NotFound) as error:
        return _bad_input(visitor, error)


@router.post("/calendar/reschedule")
def reschedule(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    """Move a post: a day and time of day in the zone shown (the form and drag and drop), or
    one of the exact times offered after a refusal (``at``, with its offset)."""
    form = read_form(body)
    if visitor.person is None:
        return _to_signin("/calendar")
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    gettext = translations(visitor.language).gettext
    if not _may_move(visitor) or visitor.person is None:
        return _problem(visitor, 403, gettext("Only approvers and admins may move posts."))
    try:
        post_id = parse_id(form.get("post_id", ""), field="post_id")
        query = parse_query({**form, "post": str(post_id)})
        detail = post_detail(session, post_id=post_id)
        zone_name, _ = _zone(session, query, settings.default_timezone)
    except (InvalidInput, NotFound) as error:
        return _bad_input(visitor, error)
    exact = form.get("at", "").strip()
    typed = exact or f"{form.get('date', '').strip()} {form.get('time', '').strip()}".strip()
    shown_now = now.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M %Z")
    try:
        at: str | datetime = typed
        if not exact and zone_name != detail.timezone:
            # Typed in the zone the person reads the calendar in: the same DST rule, there.
            at = parse_publish_time(typed, zone=ZoneInfo(zone_name))
        actor = person_actor(visitor.person.id, visitor.person.role)
        reschedule_post(session, post_id=post_id, at=at, now=now, actor=actor)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        notice = refusal(error, gettext=gettext, value=typed, now=shown_now)
        return _page(
            session,
            visitor,
            query,
            now=now,
            default_zone=settings.default_timezone,
            notice=notice,
            status=409 if isinstance(error, Conflict) else 422,
            form_values={"date": form.get("date", ""), "time": form.get("time", "")},
        )
    return RedirectResponse(query.url() + "&moved=1", status_code=303)


@router.post("/calendar/feeds")
def new_feed(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    """A new feed URL for the campaign shown; its secret is on this page once, then never."""
    form = read_form(body)
    stop = _feed_guard(request, visitor, form)
    if stop is not None or visitor.person is None:
        return stop or _to_signin("/calendar")
    try:
        query = parse_query(form)
        if query.campaign_id is None:
            raise InvalidInput("campaign", "", "must be chosen: a feed shows one campaign")
        campaign = session.get(Campaign, query.campaign_id)
        if campaign is None:
            raise NotFound("campaign", query.campaign_id)
    except (InvalidInput, NotFound) as error:
        return _bad_input(visitor, error)
    issued = create_feed(session, campaign=campaign, now=now, person_id=visitor.person.id)
    base = str(request.base_url).rstrip("/")
    return _page(
        session,
        visitor,
        query,
        now=now,
        default_zone=settings.default_timezone,
        new_feed=base + feed_path(issued.secret),
    )


@router.post("/calendar/feeds/{feed_id}/revoke")
def revoke(
    feed_id: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _feed_guard(request, visitor, form)) is not None:
        return stop
    try:
        query = parse_query(form)
        revoke_feed(session, feed_id=parse_id(feed_id, field="feed"), now=now)
    except (InvalidInput, NotFound) as error:
        return _bad_input(visitor, error)
    except Conflict:
        pass  # revoked already: what was asked is true
    return RedirectResponse(query.url(), status_code=303)


@router.get("/calendar/feeds/{name}")
def feed(name: str, request: Request, session: DbSession, now: Now) -> Response:
    """The campaign's iCalendar; 404 alike for a malformed, unknown or revoked secret."""
    secret = name.removesuffix(".ics")
    found = find_feed(session, secret=secret) if name.endswith(".ics") else None
    if found is None:
        return Response("not found\n", status_code=404, media_type="text/plain")
    body = campaign_calendar(
        session, campaign=found.campaign, base_url=str(request.base_url), now=now
    )
    return Response(
        body,
        media_type=CALENDAR_TYPE,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
