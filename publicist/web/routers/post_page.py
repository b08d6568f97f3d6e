"""``/posts/{id}``: a post's variants with their previews, its deliveries, review state and
history, and the actions each role may take, each through its service with a CSRF token and
each refusal explained in the person's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.actors import Actor, person_actor
from campaigns.audit.queries import post_history
from campaigns.calendar.queries import post_detail
from campaigns.composing import check_stored
from campaigns.models import Post
from campaigns.people.models import Person
from campaigns.people.roles import Role
from campaigns.services import (
    approve_post,
    cancel_post,
    get_post,
    reject_post,
    reschedule_post,
    schedule_post,
    submit_post,
)
from campaigns.states import PostState, shown_state
from campaigns.validation import describe_time
from publicist.core.errors import Conflict, Forbidden, NotFound, PublicistError
from publicist.web.calendar_view import Notice, state_names
from publicist.web.composer_view import (
    action_names,
    linkify,
    platform_namer,
    post_state_names,
    problem_notice,
    shown_checks,
)
from publicist.web.deps import DbSession, Now
from publicist.web.i18n import translations
from publicist.web.pages import FormBody, guard, may, problem
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form

router = APIRouter(include_in_schema=False)

ROLES = {
    "submit": Role.EDITOR,
    "approve": Role.APPROVER,
    "reject": Role.APPROVER,
    "schedule": Role.APPROVER,
    "reschedule": Role.APPROVER,
    "cancel": Role.APPROVER,
}
"""The role each action needs (the services check it again)."""


def _done_notice(done: str, gettext: Callable[[str], str]) -> Notice | None:
    texts = {
        "saved": gettext("Saved as a draft."),
        "submitted": gettext("Submitted for review."),
        "back-to-draft": gettext(
            "Saved. The post had been approved or was in review: the edit made it a draft "
            "again, so it needs submitting and approving anew."
        ),
        "approve": gettext("Approved."),
        "reject": gettext("Rejected; the editor sees your comment."),
        "schedule": gettext("Scheduled."),
        "reschedule": gettext("Moved to the new time."),
        "cancel": gettext("Cancelled."),
        "submit": gettext("Submitted for review."),
    }
    text = texts.get(done)
    return Notice("ok", text) if text else None


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()
    return {row[0]: row[1] for row in rows}


def _page(
    session: Session,
    visitor: Visitor,
    post: Post,
    *,
    now: datetime,
    notice: Notice | None = None,
    status: int = 200,
    choice_style: str = "buttons",
    typed: dict[str, str] | None = None,
) -> Response:
    gettext = translations(visitor.language).gettext
    detail = post_detail(session, post_id=post.id)
    zone = ZoneInfo(detail.timezone)
    history = post_history(session, post_id=post.id)
    people = _people(session, {e.person_id for e in history if e.person_id is not None})
    if post.created_by is not None:
        people.update(_people(session, {post.created_by}))
    local = post.publish_at.astimezone(zone) if post.publish_at else None
    state = shown_state(post.state, post.publish_at, now=now)
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "campaigns",
        "here": f"/posts/{post.id}",
        "post": post,
        "detail": detail,
        "state": state,
        "post_states": post_state_names(gettext),
        "delivery_states": state_names(gettext),
        "actions": action_names(gettext),
        "checks": shown_checks(check_stored(session, post=post), gettext),
        "handles": {t.account.platform: t.account.handle for t in post.targets},
        "linkify": linkify,
        "platform_name": platform_namer(gettext),
        "history": history,
        "people": people,
        "zone": zone,
        "when": describe_time(post.publish_at, zone) if post.publish_at else None,
        "local_date": local.strftime("%Y-%m-%d") if local else "",
        "local_time": local.strftime("%H:%M:%S") if local else "",
        "notice": notice,
        "choice_style": choice_style,
        "typed": typed or {},
        "may_edit": may(visitor, Role.EDITOR) and post.state is not PostState.CANCELLED,
        "may_submit": may(visitor, Role.EDITOR)
        and post.state in (PostState.DRAFT, PostState.REJECTED),
        "may_review": may(visitor, Role.APPROVER) and post.state is PostState.IN_REVIEW,
        "may_schedule": may(visitor, Role.APPROVER) and post.state is PostState.APPROVED,
        "may_move": may(visitor, Role.APPROVER)
        and post.state not in (PostState.CANCELLED,)
        and all(d.state in ("scheduled", "queued", "cancelled") for d in detail.deliveries),
        "may_cancel": may(visitor, Role.APPROVER) and post.state is not PostState.CANCELLED,
    }
    response = render(visitor.language, "post_page.html", context, status=status)
    return visitor.finish(response)


@router.get("/posts/{post_id}")
def post_page(
    post_id: int, request: Request, session: DbSession, now: Now, visitor: CurrentVisitor
) -> Response:
    if (stop := guard(request, visitor, Role.VIEWER)) is not None:
        return stop
    gettext = translations(visitor.language).gettext
    try:
        post = get_post(session, post_id)
    except NotFound as error:
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    notice = _done_notice(request.query_params.get("done", ""), gettext)
    return _page(session, visitor, post, now=now, notice=notice)


def _run(
    session: Session,
    action: str,
    *,
    post_id: int,
    form: dict[str, str],
    now: datetime,
    actor: Actor,
    zone: ZoneInfo,
) -> None:
    if action == "submit":
        submit_post(session, post_id=post_id, now=now, actor=actor)
    elif action == "approve":
        approve_post(session, post_id=post_id, now=now, actor=actor)
    elif action == "reject":
        reject_post(session, post_id=post_id, comment=form.get("comment", ""), now=now, actor=actor)
    elif action == "schedule":
        schedule_post(session, post_id=post_id, now=now, actor=actor)
    elif action == "reschedule":
        reschedule_post(session, post_id=post_id, at=_typed_time(form), now=now, actor=actor)
    elif action == "cancel":
        cancel_post(session, post_id=post_id, now=now, actor=actor)


def _typed_time(form: dict[str, str]) -> str:
    exact = form.get("at", "").strip()
    return exact or f"{form.get('date', '').strip()} {form.get('time', '').strip()}".strip()


@router.post("/posts/{post_id}/{action}")
def act(
    post_id: int,
    action: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    """One action on the post; a refusal shows the post again with the reason."""
    form = read_form(body)
    needed = ROLES.get(action)
    if needed is None:
        return Response(status_code=404)
    if (stop := guard(request, visitor, needed, form)) is not None:
        return stop
    if visitor.person is None:
        return problem(visitor, 401, "")
    gettext = translations(visitor.language).gettext
    try:
        post = get_post(session, post_id)
    except NotFound as error:
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    zone = ZoneInfo(post.campaign.timezone)
    actor = person_actor(visitor.person.id, visitor.person.role)
    try:
        _run(session, action, post_id=post.id, form=form, now=now, actor=actor, zone=zone)
    except PublicistError as error:
        session.rollback()
        notice = problem_notice(
            error,
            gettext=gettext,
            value=_typed_time(form),
            now=now.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
            states=post_state_names(gettext),
        )
        style = "radio" if "happens twice" in str(error) else "buttons"
        status = (
            409 if isinstance(error, Conflict) else 403 if isinstance(error, Forbidden) else 422
        )
        post = get_post(session, post_id)
        return _page(
            session,
            visitor,
            post,
            now=now,
            notice=notice,
            status=status,
            choice_style=style,
            typed=form,
        )
    return RedirectResponse(f"/posts/{post.id}?done={action}", status_code=303)
