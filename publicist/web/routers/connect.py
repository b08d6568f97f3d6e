"""``/accounts``: the workspace's accounts page: token health, connecting by each platform's
consent page (WeChat by app id and secret), reconnecting, disabling and removing.

Admins manage; everyone signed in reads. Every change is a POST carrying the person's CSRF
token; the platform's callback (a GET) is checked by the ``state`` the connection started
with, which belongs to the person who started it and serves once.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Body, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from campaigns.accounts import connector_class, get_account
from campaigns.actors import person_actor
from campaigns.connections.apps import SETTING_PREFIX, configured, oauth_app
from campaigns.connections.errors import ConnectionFailed
from campaigns.connections.flows import (
    complete_connection,
    connect_with_app_secret,
    start_connection,
)
from campaigns.connections.lifecycle import disable_account, remove_account
from campaigns.connections.queries import account_rows, future_deliveries, lapsing_tokens
from campaigns.people.roles import Role
from campaigns.states import AccountStatus
from connectors.errors import ConnectorError
from connectors.oauth import authorization_flow
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import parse_id
from publicist.core.settings import Settings
from publicist.web.connect_view import (
    PLATFORM_NAMES,
    health_words,
    problem_words,
)
from publicist.web.deps import AppSettings, DbSession, Now
from publicist.web.i18n import translations
from publicist.web.templating import render
from publicist.web.visitor import CurrentVisitor, Visitor, read_form, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]
HERE = "/accounts"
ACTIONS = ("disable", "remove")

router = APIRouter(include_in_schema=False)


def _is_admin(visitor: Visitor) -> bool:
    return visitor.person is not None and Role(visitor.person.role).allows(Role.ADMIN)


def _to_signin() -> Response:
    return RedirectResponse("/signin?" + urlencode({"next": HERE}), status_code=303)


def _zone(visitor: Visitor, settings: Settings) -> str:
    person = visitor.person
    return (person.timezone if person is not None else None) or settings.default_timezone


def _guard(request: Request, visitor: Visitor, form: dict[str, str]) -> Response | None:
    """Stop a change before it starts: sign in, CSRF, admin role."""
    if visitor.person is None:
        return _to_signin()
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    if not _is_admin(visitor):
        return _page_problem(
            visitor,
            403,
            translations(visitor.language).gettext(
                "Only admins may connect, disable or remove accounts."
            ),
        )
    return None


def _page_problem(visitor: Visitor, status: int, message: str) -> Response:
    response = render(
        visitor.language,
        "accounts_problem.html",
        {"visitor": visitor, "active": "accounts", "here": HERE, "message": message},
        status=status,
    )
    return visitor.finish(response)


def _consent_origins(settings: Settings) -> list[str]:
    """The hosts the Connect buttons' redirect goes to: a browser applies the page's CSP
    ``form-action`` to the redirect that follows a form, so each must be allowed there."""
    origins = []
    for slug in SETTING_PREFIX:
        if not configured(settings, slug):
            continue
        app = oauth_app(settings, slug)
        flow = authorization_flow(connector_class(slug))
        address = urlsplit(app.auth_base or (flow.authorize_url if flow else ""))
        if address.scheme and address.netloc:
            origins.append(f"{address.scheme}://{address.netloc}")
    return origins


def _callback_address(request: Request, platform: str) -> str:
    return str(request.url_for("account_callback", platform=platform))


@router.get("/accounts")
def accounts_page(
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    connected: str | None = None,
    done: str | None = None,
) -> Response:
    """Every account with its token health; connect buttons and warnings for admins."""
    if visitor.person is None:
        return _to_signin()
    gettext = translations(visitor.language).gettext
    zone = _zone(visitor, settings)
    rows = account_rows(session, now=now)
    lapsing = lapsing_tokens(session, now=now)
    platforms = [
        (slug, PLATFORM_NAMES[slug], configured(settings, slug)) for slug in SETTING_PREFIX
    ]
    response = render(
        visitor.language,
        "accounts.html",
        {
            "visitor": visitor,
            "active": "accounts",
            "here": HERE,
            "rows": [(row, health_words(row.health, gettext=gettext, zone=zone)) for row in rows],
            "lapsing": lapsing,
            "zone": zone,
            "admin": _is_admin(visitor),
            "platforms": platforms,
            "platform_names": PLATFORM_NAMES,
            "connected": connected,
            "done": done if done in ACTIONS else None,
        },
    )
    origins = " ".join(_consent_origins(settings))
    if origins:
        csp = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = csp.replace(
            "form-action 'self'", f"form-action 'self' {origins}"
        )
    return visitor.finish(response)


@router.post("/accounts/connect/{platform}")
def connect(
    platform: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    """Start a connection (or a reconnection, with ``account``) and go to the consent page."""
    form = read_form(body)
    if (stop := _guard(request, visitor, form)) is not None or visitor.person is None:
        return stop or _to_signin()
    gettext = translations(visitor.language).gettext
    try:
        account_id = parse_id(form["account"], field="account") if form.get("account") else None
        app = oauth_app(settings, platform)
        started = start_connection(
            session,
            app=app,
            redirect_uri=_callback_address(request, platform),
            secret=settings.encryption_key(),
            now=now,
            actor=person_actor(visitor.person.id, visitor.person.role),
            account_id=account_id,
        )
    except (InvalidInput, NotFound) as error:
        session.rollback()
        return _page_problem(
            visitor,
            422,
            gettext("This account cannot be connected: %(reason)s") % {"reason": str(error)},
        )
    return RedirectResponse(started.authorize_url, status_code=303)


@router.get("/accounts/callback/{platform}", name="account_callback")
def callback(
    platform: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
) -> Response:
    """Where the platform sends the person back: complete the connection, or say why not."""
    if visitor.person is None:
        return _to_signin()
    if not _is_admin(visitor):
        return _page_problem(
            visitor,
            403,
            translations(visitor.language).gettext(
                "Only admins may connect, disable or remove accounts."
            ),
        )
    gettext = translations(visitor.language).gettext
    q = request.query_params
    try:
        done = complete_connection(
            session,
            app=oauth_app(settings, platform),
            state=q.get("state"),
            code=q.get("code"),
            error=q.get("error"),
            secret=settings.encryption_key(),
            now=now,
            actor=person_actor(visitor.person.id, visitor.person.role),
        )
    except ConnectionFailed as error:
        session.rollback()
        return _page_problem(visitor, 400, problem_words(error, gettext=gettext))
    except (InvalidInput, Conflict, NotFound) as error:
        session.rollback()
        return _page_problem(
            visitor,
            422,
            gettext("This account cannot be connected: %(reason)s") % {"reason": str(error)},
        )
    return RedirectResponse(f"{HERE}?{urlencode({'connected': done.label})}", status_code=303)


@router.get("/accounts/wechat")
def wechat_form(
    session: DbSession, visitor: CurrentVisitor, account: str | None = None
) -> Response:
    """WeChat Official Accounts: the app id and AppSecret form, with the IP allow-list."""
    if visitor.person is None:
        return _to_signin()
    if not _is_admin(visitor):
        return _page_problem(
            visitor,
            403,
            translations(visitor.language).gettext(
                "Only admins may connect, disable or remove accounts."
            ),
        )
    handle = ""
    if account:
        try:
            handle = get_account(session, parse_id(account, field="account")).handle
        except (InvalidInput, NotFound):
            account = None
    return _wechat_page(visitor, account=account, handle=handle)


def _wechat_page(
    visitor: Visitor,
    *,
    account: str | None,
    handle: str,
    app_id: str = "",
    message: str | None = None,
    status: int = 200,
) -> Response:
    response = render(
        visitor.language,
        "accounts_wechat.html",
        {
            "visitor": visitor,
            "active": "accounts",
            "here": HERE,
            "account": account,
            "handle": handle,
            "app_id": app_id,
            "message": message,
        },
        status=status,
    )
    return visitor.finish(response)


@router.post("/accounts/wechat")
def wechat_connect(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _guard(request, visitor, form)) is not None or visitor.person is None:
        return stop or _to_signin()
    gettext = translations(visitor.language).gettext
    account = form.get("account") or None
    handle, app_id = form.get("handle", "").strip(), form.get("app_id", "").strip()
    try:
        if not handle:
            raise InvalidInput("handle", "", "must name the Official Account")
        done = connect_with_app_secret(
            session,
            platform="wechat",
            handle=handle,
            app_id=app_id,
            app_secret=form.get("app_secret", ""),
            api_base=settings.wechat_api_base,
            secret=settings.encryption_key(),
            now=now,
            actor=person_actor(visitor.person.id, visitor.person.role),
            account_id=parse_id(account, field="account") if account else None,
        )
    except ConnectionFailed as error:
        session.rollback()
        message = problem_words(error, gettext=gettext)
        return _wechat_page(
            visitor, account=account, handle=handle, app_id=app_id, message=message, status=400
        )
    except (InvalidInput, Conflict, NotFound, ConnectorError) as error:
        session.rollback()
        message = gettext("This account cannot be connected: %(reason)s") % {"reason": str(error)}
        return _wechat_page(
            visitor, account=account, handle=handle, app_id=app_id, message=message, status=422
        )
    return RedirectResponse(f"{HERE}?{urlencode({'connected': done.label})}", status_code=303)


@router.get("/accounts/{account_id}/{action}")
def confirm(
    account_id: str,
    action: str,
    session: DbSession,
    visitor: CurrentVisitor,
    settings: AppSettings,
) -> Response:
    """The confirmation: the deliveries that disabling or removing will cancel."""
    if visitor.person is None:
        return _to_signin()
    gettext = translations(visitor.language).gettext
    if not _is_admin(visitor):
        return _page_problem(
            visitor, 403, gettext("Only admins may connect, disable or remove accounts.")
        )
    try:
        if action not in ACTIONS:
            raise NotFound("page", action)
        account = get_account(session, parse_id(account_id, field="account"))
        if account.status is AccountStatus.REMOVED:
            raise NotFound("account", account_id)
    except (InvalidInput, NotFound):
        return _page_problem(visitor, 404, gettext("Not found: %(what)s") % {"what": account_id})
    return _confirm_page(session, visitor, account.id, action, zone=_zone(visitor, settings))


def _confirm_page(
    session: Session,
    visitor: Visitor,
    account_id: int,
    action: str,
    *,
    zone: str,
    message: str | None = None,
    status: int = 200,
) -> Response:
    account = get_account(session, account_id)
    response = render(
        visitor.language,
        "accounts_confirm.html",
        {
            "visitor": visitor,
            "active": "accounts",
            "here": HERE,
            "account": account,
            "action": action,
            "deliveries": future_deliveries(session, account_id=account.id),
            "zone": zone,
            "message": message,
        },
        status=status,
    )
    return visitor.finish(response)


@router.post("/accounts/{account_id}/{action}")
def apply(
    account_id: str,
    action: str,
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    settings: AppSettings,
    body: FormBody = b"",
) -> Response:
    form = read_form(body)
    if (stop := _guard(request, visitor, form)) is not None or visitor.person is None:
        return stop or _to_signin()
    gettext = translations(visitor.language).gettext
    actor = person_actor(visitor.person.id, visitor.person.role)
    try:
        if action not in ACTIONS:
            raise NotFound("page", action)
        account = get_account(session, parse_id(account_id, field="account"))
    except (InvalidInput, NotFound):
        return _page_problem(visitor, 404, gettext("Not found: %(what)s") % {"what": account_id})
    try:
        if action == "disable":
            disable_account(session, account_id=account.id, now=now, actor=actor)
        else:
            remove_account(
                session,
                account_id=account.id,
                secret=settings.encryption_key(),
                now=now,
                actor=actor,
            )
    except Conflict as error:
        session.rollback()
        return _page_problem(
            visitor, 409, gettext("This was not done: %(reason)s") % {"reason": str(error)}
        )
    return RedirectResponse(f"{HERE}?{urlencode({'done': action})}", status_code=303)
