"""``/posts/new`` and ``/posts/{id}/edit``: the composer (editors and up), its live checks
(``/posts/check``), and media uploaded from the page into the library.

Every rule comes from the services: ``check_variants`` runs the connectors' own validation as
one types, ``add_post`` and ``edit_post`` check everything again when the post is saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.actors import Actor, person_actor
from campaigns.audit.queries import post_revision
from campaigns.composing import COMPOSER_PLATFORMS, check_variants
from campaigns.media import get_media, list_media, media_file
from campaigns.models import Account, Campaign, MediaItem, Post
from campaigns.people.roles import Role
from campaigns.series import create_series
from campaigns.services import add_post, edit_post, get_post, submit_post
from campaigns.states import PostState
from publicist.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PublicistError
from publicist.core.ids import parse_id
from publicist.web.composer_view import (
    ComposerForm,
    KindOf,
    VariantForm,
    linkify,
    platform_namer,
    post_state_names,
    problem_notice,
    read_multi_form,
    shown_checks,
)
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.pages import FormBody, guard, problem
from publicist.web.templating import render
from publicist.web.uploads import UPLOAD_BODY_BYTES, receive_upload
from publicist.web.visitor import CurrentVisitor, Visitor

router = APIRouter(include_in_schema=False)


def _single(form: dict[str, list[str]]) -> dict[str, str]:
    return {name: values[0] for name, values in form.items() if values}


def _accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.platform, Account.handle)))


def _tabs(accounts: list[Account]) -> list[str]:
    """The composer's platforms, then any other platform an account is on."""
    others = sorted({a.platform for a in accounts} - set(COMPOSER_PLATFORMS))
    return [*COMPOSER_PLATFORMS, *others]


def _kind_of(session: Session) -> KindOf:
    """Media kinds looked up one chosen item at a time (the check runs on every keystroke)."""

    def kind(media_id: int) -> str | None:
        item = session.get(MediaItem, media_id)
        return item.kind if item is not None else None

    return kind


def _campaign(session: Session, reference: str) -> Campaign:
    campaign = session.get(Campaign, parse_id(reference, field="campaign"))
    if campaign is None:
        raise NotFound("campaign", reference)
    return campaign


def _chosen(accounts: list[Account], form: ComposerForm) -> list[Account]:
    chosen = set(form.accounts)
    return [a for a in accounts if str(a.id) in chosen]


def _form_of(post: Post) -> ComposerForm:
    """A stored post as the composer's fields."""

    def media_of(items: list[dict[str, Any]] | None) -> str:
        for item in items or []:
            if isinstance(item.get("media_id"), int):
                return str(item["media_id"])
        return ""

    variants = {
        v.platform: VariantForm(
            text=v.text or "",
            title=v.title or "",
            digest=v.digest or "",
            media_id=media_of(v.media),
        )
        for v in post.variants
    }
    return ComposerForm(
        campaign=str(post.campaign_id),
        text=post.text,
        media_id=media_of(post.media),
        accounts=[str(t.account_id) for t in post.targets],
        revision="",
        variants={p: variants.get(p, VariantForm()) for p in COMPOSER_PLATFORMS},
    )


def _editable_here(post: Post) -> bool:
    """Whether the composer shows all of the post's media: at most one library item per
    list. A URL or several items (possible through the API and CLI) would be lost on saving,
    so such a post is not edited here."""
    lists = [post.media, *(v.media for v in post.variants)]
    for items in lists:
        entries = items or []
        if len(entries) > 1 or any(not isinstance(e.get("media_id"), int) for e in entries):
            return False
    return True


def _not_here(visitor: Visitor, post: Post) -> Response:
    gettext = translations(visitor.language).gettext
    return problem(
        visitor,
        409,
        gettext(
            "Post %(post)s has media the composer cannot show (a web address or several "
            "items in one place); edit it with the API or the command line so that nothing "
            "is lost."
        )
        % {"post": post.id},
        back=f"/posts/{post.id}",
    )


def _page(
    session: Session,
    visitor: Visitor,
    *,
    campaign: Campaign,
    form: ComposerForm,
    now: datetime,
    post: Post | None = None,
    notice: Any = None,
    status: int = 200,
    choice_style: str = "buttons",
    revision: int | None = None,
    intent: str = "",
) -> Response:
    gettext = translations(visitor.language).gettext
    accounts = _accounts(session)
    library = [m for m in list_media(session)]
    zone = ZoneInfo(campaign.timezone)
    context: dict[str, Any] = {
        "visitor": visitor,
        "active": "composer",
        "here": f"/posts/{post.id}/edit" if post else f"/posts/new?campaign={campaign.id}",
        "campaign": campaign,
        "post": post,
        "form": form,
        "accounts": accounts,
        "tabs": _tabs(accounts),
        "platform_name": platform_namer(gettext),
        "library": library,
        "notice": notice,
        "choice_style": choice_style,
        "intent": intent,
        "revision": revision if revision is not None else form.revision,
        "now_local": now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "post_states": post_state_names(gettext),
        **_checks_context(session, visitor, form, accounts),
    }
    response = render(visitor.language, "composer.html", context, status=status, scripts=True)
    return visitor.finish(response)


def _checks_context(
    session: Session, visitor: Visitor, form: ComposerForm, accounts: list[Account]
) -> dict[str, Any]:
    """Each chosen platform's counters, messages and preview."""
    gettext = translations(visitor.language).gettext
    chosen = _chosen(accounts, form)
    platforms = sorted({a.platform for a in chosen})
    kinds = _kind_of(session)
    try:
        data = form.post_input(campaign="", kind_of=kinds, platforms=set(platforms), timed=False)
    except InvalidInput:
        # A media choice that is not a library item: checked without it (saving refuses it).
        data = ComposerForm(
            text=form.text,
            variants={p: VariantForm(v.text, v.title, v.digest) for p, v in form.variants.items()},
        ).post_input(campaign="", kind_of=kinds, platforms=set(platforms), timed=False)
    checks = check_variants(session, data=data, platforms=platforms)
    handles: dict[str, str] = {}
    for account in chosen:
        handles.setdefault(account.platform, account.handle)
    return {
        "checks": shown_checks(checks, gettext),
        "handles": handles,
        "linkify": linkify,
        "platform_name": platform_namer(gettext),
    }


def _refusal(
    session: Session,
    visitor: Visitor,
    error: PublicistError,
    *,
    campaign: Campaign,
    form: ComposerForm,
    now: datetime,
    post: Post | None = None,
    intent: str = "",
) -> Response:
    session.rollback()
    gettext = translations(visitor.language).gettext
    zone = ZoneInfo(campaign.timezone)
    notice = problem_notice(
        error,
        gettext=gettext,
        value=form.typed_time,
        now=now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        states=post_state_names(gettext),
    )
    style = (
        "radio" if isinstance(error, InvalidInput) and "happens twice" in error.rule else "buttons"
    )
    status = 409 if isinstance(error, Conflict) else 403 if isinstance(error, Forbidden) else 422
    if post is not None:
        post = session.get(Post, post.id)
    return _page(
        session,
        visitor,
        campaign=campaign,
        form=form,
        now=now,
        post=post,
        notice=notice,
        status=status,
        choice_style=style,
        intent=intent,
    )


@router.get("/posts/new")
def new_post(request: Request, session: DbSession, now: Now, visitor: CurrentVisitor) -> Response:
    if (stop := guard(request, visitor, Role.EDITOR)) is not None:
        return stop
    reference = request.query_params.get("campaign", "")
    if not reference:
        return RedirectResponse("/campaigns", status_code=303)
    try:
        campaign = _campaign(session, reference)
    except (InvalidInput, NotFound) as error:
        gettext = translations(visitor.language).gettext
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    form = ComposerForm(campaign=str(campaign.id))
    return _page(session, visitor, campaign=campaign, form=form, now=now)


@router.post("/posts/new")
def create(
    request: Request, session: DbSession, now: Now, visitor: CurrentVisitor, body: FormBody = b""
) -> Response:
    raw = read_multi_form(body)
    if (stop := guard(request, visitor, Role.EDITOR, _single(raw))) is not None:
        return stop
    if visitor.person is None:  # guard answered already; this narrows the type
        return problem(visitor, 401, "")
    form = ComposerForm.parse(raw)
    try:
        campaign = _campaign(session, form.campaign)
    except (InvalidInput, NotFound) as error:
        gettext = translations(visitor.language).gettext
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    actor = person_actor(visitor.person.id, visitor.person.role)
    kinds = _kind_of(session)
    platforms = {a.platform for a in _chosen(_accounts(session), form)}
    try:
        if form.repeat:
            return _create_series(session, form, raw, campaign=campaign, now=now, actor=actor)
        data = form.post_input(
            campaign=campaign.name, kind_of=kinds, platforms=platforms, timed=True
        )
        post = add_post(session, data=data, now=now, actor=actor)
        if _action(raw) == "submit":
            submit_post(session, post_id=post.id, now=now, actor=actor)
    except PublicistError as error:
        return _refusal(
            session, visitor, error, campaign=campaign, form=form, now=now, intent=_action(raw)
        )
    done = "submitted" if _action(raw) == "submit" else "saved"
    return RedirectResponse(f"/posts/{post.id}?done={done}", status_code=303)


def _create_series(
    session: Session,
    form: ComposerForm,
    raw: dict[str, list[str]],
    *,
    campaign: Campaign,
    now: datetime,
    actor: Actor,
) -> Response:
    """The composed post repeated by its rule: one post per occurrence (campaigns.series),
    each submitted for review when the person pressed Submit; all or none."""
    platforms = {a.platform for a in _chosen(_accounts(session), form)}
    data = form.post_input(
        campaign=campaign.name, kind_of=_kind_of(session), platforms=platforms, timed=False
    )
    series = create_series(session, data=form.series_input(data), now=now, actor=actor)
    if _action(raw) == "submit":
        for post_id in session.scalars(
            select(Post.id).where(Post.series_id == series.id).order_by(Post.id)
        ):
            submit_post(session, post_id=post_id, now=now, actor=actor)
    return RedirectResponse(f"/series/{series.id}", status_code=303)


def _action(raw: dict[str, list[str]]) -> str:
    """Save as draft or submit; a DST choice button carries the intent of the first press."""
    action = (raw.get("action") or raw.get("intent") or ["draft"])[0]
    return "submit" if action == "submit" else "draft"


@router.get("/posts/{post_id}/edit")
def edit_page(
    post_id: int, request: Request, session: DbSession, now: Now, visitor: CurrentVisitor
) -> Response:
    if (stop := guard(request, visitor, Role.EDITOR)) is not None:
        return stop
    try:
        post = get_post(session, post_id)
    except NotFound as error:
        gettext = translations(visitor.language).gettext
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    if not _editable_here(post):
        return _not_here(visitor, post)
    form = _form_of(post)
    revision = post_revision(session, post_id=post.id)
    return _page(
        session, visitor, campaign=post.campaign, form=form, now=now, post=post, revision=revision
    )


@router.post("/posts/{post_id}/edit")
def save_edit(
    post_id: int,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    body: FormBody = b"",
) -> Response:
    raw = read_multi_form(body)
    if (stop := guard(request, visitor, Role.EDITOR, _single(raw))) is not None:
        return stop
    if visitor.person is None:
        return problem(visitor, 401, "")
    gettext = translations(visitor.language).gettext
    try:
        post = get_post(session, post_id)
    except NotFound as error:
        return problem(visitor, 404, gettext("Not found: %(what)s") % {"what": str(error)})
    if not _editable_here(post):
        return _not_here(visitor, post)
    form = ComposerForm.parse(raw)
    campaign = post.campaign
    was = post.state
    actor = person_actor(visitor.person.id, visitor.person.role)
    kinds = _kind_of(session)
    platforms = {a.platform for a in _chosen(_accounts(session), form)}
    try:
        revision = _revision(form.revision)
        edit_post(
            session,
            post_id=post.id,
            changes=form.changes(kind_of=kinds, platforms=platforms),
            now=now,
            actor=actor,
            expected_revision=revision,
        )
        if _action(raw) == "submit":
            submit_post(session, post_id=post.id, now=now, actor=actor)
    except PublicistError as error:
        return _refusal(
            session,
            visitor,
            error,
            campaign=campaign,
            form=form,
            now=now,
            post=post,
            intent=_action(raw),
        )
    if _action(raw) == "submit":
        done = "submitted"
    elif was in (PostState.APPROVED, PostState.SCHEDULED, PostState.IN_REVIEW):
        done = "back-to-draft"
    else:
        done = "saved"
    return RedirectResponse(f"/posts/{post.id}?done={done}", status_code=303)


def _revision(text: str) -> int:
    """The post's revision the form was opened at (0: before any audit entry)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidInput("revision", text[:20], "is not the revision of a post")
    return int(text)


@router.post("/posts/check")
def check(
    request: Request, session: DbSession, visitor: CurrentVisitor, body: FormBody = b""
) -> Response:
    """The live checks of the form as typed (htmx, as one types): nothing is written."""
    raw = read_multi_form(body)
    if (stop := guard(request, visitor, Role.EDITOR, _single(raw))) is not None:
        return stop
    form = ComposerForm.parse(raw)
    context = {"visitor": visitor, **_checks_context(session, visitor, form, _accounts(session))}
    context["tabs"] = _tabs(_accounts(session))
    response = render(visitor.language, "composer_checks.html", context, scripts=True)
    return visitor.finish(response)


@router.post("/composer/media", max_body_size=UPLOAD_BODY_BYTES)
async def upload(
    request: Request, session: DbSession, now: Now, settings: AppSettings, visitor: CurrentVisitor
) -> Response:
    """A file sent by the composer's upload control (the file itself is the body, the CSRF
    token in the header htmx also uses); typed and capped by the library from its bytes."""
    if visitor.person is None or not visitor.csrf_ok(request, {}):
        return JSONResponse({"error": "refused"}, status_code=403)
    gettext = translations(visitor.language).gettext
    if not Role(visitor.person.role).allows(Role.EDITOR):
        return JSONResponse(
            {"error": gettext("Only editors, approvers and admins may upload.")}, status_code=403
        )
    name = request.query_params.get("name", "")[:200]
    try:
        item = await receive_upload(
            request, session, media_dir=settings.media_dir, name=name, now=now
        )
    except InvalidInput as error:
        message = gettext("The file was not added: %(value)s %(rule)s") % {
            "value": str(error.value),
            "rule": error.rule,
        }
        return JSONResponse({"error": message}, status_code=422)
    return JSONResponse(
        {"id": item.id, "kind": item.kind, "name": item.name, "url": f"/media/{item.id}/view"},
        status_code=201,
    )


@router.get("/media/{media_id}/view")
def view_media(
    media_id: int, session: DbSession, settings: AppSettings, visitor: CurrentVisitor
) -> Response:
    """A library item for the previews of signed-in people: only items of the library, by the
    name Publicist gave the file."""
    if visitor.person is None:
        return Response(status_code=404)
    try:
        stored = get_media(session, media_id)
        path = media_file(stored, media_dir=settings.media_dir)
    except NotFound:
        return Response(status_code=404)
    return FileResponse(
        path,
        media_type=stored.content_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )
