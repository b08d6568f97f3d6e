"""``/series`` and ``/series/{id}``: recurring series and their occurrences, each linked to its
post on the calendar; approvers cancel a series' future occurrences here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.actors import person_actor
from campaigns.people.roles import Role
from campaigns.series import Occurrence, cancel_series, get_series, list_series
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import parse_id
from publicist.web.calendar_view import Notice, post_state_names
from publicist.web.deps import DbSession, Now
from publicist.web.i18n import translations
from publicist.web.inbox_view import item_state_names
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]

router = APIRouter(include_in_schema=False)


def _to_signin(path: str) -> Response:
    return RedirectResponse("/signin?" + urlencode({"next": path}), status_code=303)


def post_link(occurrence: Occurrence) -> str:
    """The occurrence's own page, where it is edited or cancelled alone."""
    return f"/posts/{occurrence.post_id}"


def _context(visitor: Visitor, **extra: Any) -> dict[str, Any]:
    gettext = translations(visitor.language).gettext
    return {
        "visitor": visitor,
        "active": "series",
        "states": item_state_names(gettext) | post_state_names(gettext),
        "may_cancel": visitor.person is not None
        and Role(visitor.person.role).allows(Role.APPROVER),
        **extra,
    }


@router.get("/series")
def series_list(session: DbSession, visitor: CurrentVisitor) -> Response:
    if visitor.person is None:
        return _to_signin("/series")
    context = _context(visitor, here="/series", all_series=list_series(session))
    return visitor.finish(render(visitor.language, "series_list.html", context))


def _series_page(
    session: Session,
    visitor: Visitor,
    series_id: int,
    *,
    now: datetime,
    notice: Notice | None = None,
    status: int = 200,
) -> Response:
    view = get_series(session, series_id=series_id, now=now)
    context = _context(
        visitor,
        here=f"/series/{series_id}",
        series=view,
        links={o.post_id: post_link(o) for o in view.occurrences},
        notice=notice,
    )
    return visitor.finish(render(visitor.language, "series.html", context, status=status))


def _missing(visitor: Visitor) -> Response:
    gettext = translations(visitor.language).gettext
    return visitor.finish(
        render(
            visitor.language,
            "calendar_problem.html",
            {
                "visitor": visitor,
                "message": gettext("It no longer exists."),
                "status": 404,
                "here": "/series",
            },
            status=404,
        )
    )


@router.get("/series/{series_id}")
def series_page(series_id: str, session: DbSession, now: Now, visitor: CurrentVisitor) -> Response:
    if visitor.person is None:
        return _to_signin(f"/series/{series_id}")
    try:
        return _series_page(session, visitor, parse_id(series_id, field="series"), now=now)
    except (InvalidInput, NotFound):
        return _missing(visitor)


@router.post("/series/{series_id}/cancel")
def series_cancel(
    series_id: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if visitor.person is None:
        return _to_signin("/series")
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    gettext = translations(visitor.language).gettext
    try:
        row_id = parse_id(series_id, field="series")
        get_series(session, series_id=row_id, now=now)
    except (InvalidInput, NotFound):
        return _missing(visitor)
    if not Role(visitor.person.role).allows(Role.APPROVER):
        notice = Notice("error", gettext("Only approvers and admins may do this."))
        return _series_page(session, visitor, row_id, now=now, notice=notice, status=403)
    try:
        cancelled = cancel_series(
            session,
            series_id=row_id,
            now=now,
            actor=person_actor(visitor.person.id, visitor.person.role),
        )
    except Conflict:
        session.rollback()
        notice = Notice("conflict", gettext("This series was already cancelled."))
        return _series_page(session, visitor, row_id, now=now, notice=notice, status=409)
    notice = Notice(
        "ok",
        gettext("Cancelled %(count)s future posts of this series.") % {"count": len(cancelled)},
    )
    return _series_page(session, visitor, row_id, now=now, notice=notice)
