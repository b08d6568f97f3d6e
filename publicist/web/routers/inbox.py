"""``/inbox``: what needs a person (failed, unknown, missed, stuck, rate-limited deliveries and
expired posts), each with its reason in plain words and the next step as buttons.

Signed-in people read it; approvers and admins act. An action goes through the same
campaign service as ``publicist delivery …`` and ``/api/deliveries/{id}/…``; through htmx it
answers with the one row (as it is now, or a line saying what was done) and the updated
count of the navigation, so the page is not reloaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.actors import Actor, person_actor
from campaigns.delivery_actions import (
    cancel_delivery,
    confirm_delivery,
    republish_delivery,
    reschedule_delivery,
    retry_delivery,
)
from campaigns.models import Delivery
from campaigns.people.roles import Role
from campaigns.queries import InboxItem, Windows, inbox, inbox_item
from campaigns.services import cancel_post, reschedule_post
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from publicist.core.ids import parse_id
from publicist.web.calendar_view import Notice
from publicist.web.deps import DbSession, Now, Waits
from publicist.web.i18n import translations
from publicist.web.inbox_view import done_text, excerpt, item_state_names, problem, reason_texts
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]
DELIVERY_ACTIONS = ("retry", "reschedule", "cancel", "confirm", "republish")
POST_ACTIONS = ("reschedule", "cancel")
DUPLICATE_OK = "yes"

router = APIRouter(include_in_schema=False)


def _may_act(visitor: Visitor) -> bool:
    """Acting publishes or stops a post: approvers and admins, as in the API."""
    return visitor.person is not None and Role(visitor.person.role).allows(Role.APPROVER)


def _context(visitor: Visitor) -> dict[str, Any]:
    gettext = translations(visitor.language).gettext
    return {
        "visitor": visitor,
        "active": "inbox",
        "here": "/inbox",
        "reasons": reason_texts(gettext),
        "states": item_state_names(gettext),
        "excerpt": excerpt,
        "may_act": _may_act(visitor),
    }


@router.get("/inbox")
def inbox_page(session: DbSession, now: Now, windows: Waits, visitor: CurrentVisitor) -> Response:
    if visitor.person is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/inbox"}), status_code=303)
    return _notice_page(session, visitor, now=now, windows=windows, notice=None, status=200)


def _act(
    session: Session,
    *,
    kind: str,
    object_id: int,
    action: str,
    form: dict[str, str],
    now: datetime,
    actor: Actor,
) -> None:
    at = form.get("at", "").strip()
    if kind == "posts":
        if action == "reschedule":
            reschedule_post(session, post_id=object_id, at=at, now=now, actor=actor)
        else:
            cancel_post(session, post_id=object_id, now=now, actor=actor)
        return
    if action == "retry":
        retry_delivery(session, delivery_id=object_id, now=now, actor=actor)
    elif action == "reschedule":
        reschedule_delivery(session, delivery_id=object_id, at=at, now=now, actor=actor)
    elif action == "cancel":
        cancel_delivery(session, delivery_id=object_id, now=now, actor=actor)
    elif action == "confirm":
        confirm_delivery(
            session, delivery_id=object_id, url=form.get("url", ""), now=now, actor=actor
        )
    else:
        if form.get("duplicate_ok") != DUPLICATE_OK:
            raise InvalidInput(
                "duplicate_ok", "", "must be ticked: publishing again may post it twice"
            )
        republish_delivery(session, delivery_id=object_id, now=now, actor=actor)


@router.post("/inbox/{kind}/{object_id}/{action}")
def act(
    kind: str,
    object_id: str,
    action: str,
    request: Request,
    session: DbSession,
    now: Now,
    windows: Waits,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    """One action on one row; answers htmx with that row, a plain form with the page."""
    form = read_form(body)
    if visitor.person is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/inbox"}), status_code=303)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    allowed = DELIVERY_ACTIONS if kind == "deliveries" else POST_ACTIONS
    if kind not in ("deliveries", "posts") or action not in allowed:
        return Response("not found\n", status_code=404, media_type="text/plain")
    gettext = translations(visitor.language).gettext
    htmx = request.headers.get("HX-Request") == "true"
    notice: Notice | None = None
    status = 200
    try:
        row_id = parse_id(object_id, field="id")
    except InvalidInput:
        return Response("not found\n", status_code=404, media_type="text/plain")
    if not _may_act(visitor):
        notice, status = Notice("error", gettext("Only approvers and admins may do this.")), 403
    else:
        actor = person_actor(visitor.person.id, visitor.person.role)
        try:
            _act(
                session,
                kind=kind,
                object_id=row_id,
                action=action,
                form=form,
                now=now,
                actor=actor,
            )
            notice = Notice("ok", done_text(action, gettext))
        except (InvalidInput, Conflict, Forbidden, NotFound) as error:
            session.rollback()
            zone = ZoneInfo(visitor.status.zone if visitor.status else "UTC")
            typed = form.get("url", "") if action == "confirm" else form.get("at", "")
            notice = problem(
                error,
                gettext=gettext,
                value=typed,
                now=now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            )
            status = {
                InvalidInput: 422,
                Forbidden: 403,
                NotFound: 404,
            }.get(type(error), 409 if isinstance(error, Conflict) else 422)
    if not htmx:
        if notice is not None and notice.kind == "ok":
            # A plain form: post, redirect, get (a reload does not act twice).
            return RedirectResponse("/inbox", status_code=303)
        return _notice_page(
            session, visitor, now=now, windows=windows, notice=notice, status=status
        )
    item = _current(session, kind=kind, row_id=row_id, now=now, windows=windows)
    context = _context(visitor) | {
        "item": item,
        "row_key": f"{kind}-{row_id}",
        "notice": notice,
        "form": form,
    }
    # Always 200 for htmx: it swaps only successful answers, and the refusal is in the row.
    response = render(visitor.language, "inbox_answer.html", context, scripts=True)
    return visitor.finish(response)


def _current(
    session: Session, *, kind: str, row_id: int, now: datetime, windows: Windows
) -> InboxItem | None:
    """The row as it is after the action, or None when it no longer needs a person."""
    if kind == "posts":
        return inbox_item(session, now=now, windows=windows, delivery_id=None, post_id=row_id)
    delivery = session.get(Delivery, row_id)
    if delivery is None:
        return None
    return inbox_item(
        session, now=now, windows=windows, delivery_id=row_id, post_id=delivery.post_id
    )


def _notice_page(
    session: Session,
    visitor: Visitor,
    *,
    now: datetime,
    windows: Windows,
    notice: Notice | None,
    status: int,
) -> Response:
    context = _context(visitor) | {
        "items": inbox(session, now=now, windows=windows),
        "notice": notice,
    }
    return visitor.finish(
        render(visitor.language, "inbox.html", context, status=status, scripts=True)
    )
