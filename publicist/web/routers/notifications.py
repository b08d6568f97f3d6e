"""``/settings/notifications`` (each person: which events, on which channel, digest) and
``/admin/notifications`` (admins: channels, webhooks and the webhook delivery log).

The same services as the CLI (``campaigns.events``). Channel URLs and webhook secrets carry
credentials: pages show channels redacted, and a webhook's signing secret once, on the page
that answers its creation.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.events.channels import add_channel, remove_channel, subscribe
from campaigns.events.kinds import KINDS
from campaigns.events.queries import (
    active_channels,
    active_webhooks,
    subscriptions_of,
    webhook_log,
)
from campaigns.events.webhooks import add_webhook, remove_webhook
from campaigns.events.wording import kind_name
from campaigns.people.roles import Role
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import parse_id
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]
MINE = "/settings/notifications"
ADMIN = "/admin/notifications"

router = APIRouter(include_in_schema=False)


def _to_signin(path: str) -> Response:
    return RedirectResponse("/signin?" + urlencode({"next": path}), status_code=303)


def _is_admin(visitor: Visitor) -> bool:
    return visitor.person is not None and Role(visitor.person.role).allows(Role.ADMIN)


def _kinds(language: str) -> list[tuple[str, str]]:
    return [(kind, kind_name(kind, language)) for kind in KINDS]


def _error_text(visitor: Visitor, error: InvalidInput | NotFound | Conflict) -> str:
    gettext = translations(visitor.language).gettext
    if isinstance(error, InvalidInput):
        # The value is left out: a refused channel URL may hold a password or bot token.
        return gettext("%(field)s: %(rule)s") % {"field": error.field, "rule": error.rule}
    return str(error)


def _mine_page(
    session: Session,
    visitor: Visitor,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    person = visitor.person
    if person is None:
        return _to_signin(MINE)
    chosen = {s.channel_id: s for s in subscriptions_of(session, person_id=person.id)}
    channels = [
        {
            "id": c.id,
            "name": c.name,
            "kind": c.kind,
            "kinds": chosen[c.id].kinds if c.id in chosen else [],
            "digest": chosen[c.id].digest_minutes if c.id in chosen else 0,
        }
        for c in active_channels(session)
    ]
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "notifications",
        "here": MINE,
        "channels": channels,
        "kinds": _kinds(visitor.language),
        "notice": notice,
        "error": error,
        "is_admin": _is_admin(visitor),
    }
    return visitor.finish(render(visitor.language, "notifications.html", context, status=status))


@router.get(MINE)
def my_notifications(session: DbSession, visitor: CurrentVisitor, saved: str = "") -> Response:
    gettext = translations(visitor.language).gettext
    return _mine_page(session, visitor, notice=gettext("Saved.") if saved else None)


@router.post(MINE)
def save_my_notifications(
    request: Request, session: DbSession, visitor: CurrentVisitor, body: FormBody = b""
) -> Response:
    """One channel's choices: a checkbox per event kind and the digest minutes."""
    form = read_form(body)
    if visitor.person is None:
        return _to_signin(MINE)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    try:
        channel_id = parse_id(form.get("channel_id", ""), field="channel")
        digest_text = form.get("digest", "0").strip() or "0"
        if not digest_text.isascii() or not digest_text.isdigit():
            raise InvalidInput("digest_minutes", digest_text, "must be a whole number of minutes")
        subscribe(
            session,
            person_id=visitor.person.id,
            channel_id=channel_id,
            kinds=[kind for kind in KINDS if form.get(f"kind-{kind}") == "on"],
            digest_minutes=int(digest_text),
        )
    except (InvalidInput, NotFound) as error:
        session.rollback()
        return _mine_page(session, visitor, status=422, error=_error_text(visitor, error))
    return RedirectResponse(MINE + "?saved=1", status_code=303)


def _admin_guard(request: Request, visitor: Visitor, form: dict[str, str]) -> Response | None:
    if visitor.person is None:
        return _to_signin(ADMIN)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    if not _is_admin(visitor):
        return _admin_page_for_non_admin(visitor)
    return None


def _admin_page_for_non_admin(visitor: Visitor) -> Response:
    gettext = translations(visitor.language).gettext
    context = {
        "visitor": visitor,
        "active": "admin-notifications",
        "here": ADMIN,
        "message": gettext("Only admins may manage channels and webhooks."),
    }
    return visitor.finish(render(visitor.language, "notify_refused.html", context, status=403))


def _admin_page(
    session: Session,
    visitor: Visitor,
    *,
    status: int = 200,
    error: str | None = None,
    new_secret: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "admin-notifications",
        "here": ADMIN,
        "channels": active_channels(session),
        "webhooks": active_webhooks(session),
        "log": webhook_log(session, limit=50),
        "kinds": dict(_kinds(visitor.language)),
        "error": error,
        "new_secret": new_secret,
        "form": form or {},
    }
    return visitor.finish(render(visitor.language, "notify_admin.html", context, status=status))


@router.get(ADMIN)
def admin_notifications(session: DbSession, visitor: CurrentVisitor) -> Response:
    if visitor.person is None:
        return _to_signin(ADMIN)
    if not _is_admin(visitor):
        return _admin_page_for_non_admin(visitor)
    return _admin_page(session, visitor)


@router.post(ADMIN + "/channels")
def new_channel(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _admin_guard(request, visitor, form)) is not None:
        return stop
    try:
        add_channel(
            session,
            name=form.get("name", ""),
            url=form.get("url", "").strip(),
            secret=settings.encryption_key(),
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        session.rollback()
        kept = {"name": form.get("name", "")}  # never the URL: it may hold a secret
        return _admin_page(
            session, visitor, status=422, error=_error_text(visitor, error), form=kept
        )
    return RedirectResponse(ADMIN, status_code=303)


@router.post(ADMIN + "/channels/{channel_id}/remove")
def drop_channel(
    channel_id: str,
    request: Request,
    session: DbSession,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _admin_guard(request, visitor, form)) is not None:
        return stop
    try:
        remove_channel(session, key=str(parse_id(channel_id, field="channel")))
    except (InvalidInput, NotFound) as error:
        return _admin_page(session, visitor, status=404, error=_error_text(visitor, error))
    return RedirectResponse(ADMIN, status_code=303)


@router.post(ADMIN + "/webhooks")
def new_webhook(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    """Register a webhook and show its signing secret on this answer only."""
    form = read_form(body)
    if (stop := _admin_guard(request, visitor, form)) is not None:
        return stop
    try:
        _target, secret = add_webhook(
            session,
            url=form.get("url", "").strip(),
            kinds=[],
            allow_private=form.get("allow_private") == "on",
            secret=settings.encryption_key(),
            now=now,
        )
    except InvalidInput as error:
        session.rollback()
        return _admin_page(
            session,
            visitor,
            status=422,
            error=_error_text(visitor, error),
            form={"webhook_url": form.get("url", "")},
        )
    session.flush()
    return _admin_page(session, visitor, new_secret=secret)


@router.post(ADMIN + "/webhooks/{target_id}/remove")
def drop_webhook(
    target_id: str,
    request: Request,
    session: DbSession,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _admin_guard(request, visitor, form)) is not None:
        return stop
    try:
        remove_webhook(session, target_id=target_id)
    except (InvalidInput, NotFound) as error:
        return _admin_page(session, visitor, status=404, error=_error_text(visitor, error))
    return RedirectResponse(ADMIN, status_code=303)
