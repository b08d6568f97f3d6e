"""``/dashboard``: the server-rendered page, for signed-in people and for wall displays.

People sign in at ``/signin`` (any role may read the dashboard). A screen without a person
(a wall display) may instead paste a token (a viewer token is enough) into the form, or open
``/dashboard?token=…`` once. Either way the server checks the token and answers with a
redirect that sets an HttpOnly, SameSite=Strict cookie scoped to ``/dashboard``, so the token
leaves the address bar at once; ``publicist api`` also redacts ``token=`` from its access log.
The cookie is only ever read by the page, never by the JSON API, which takes tokens from the
Authorization header alone.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import RedirectResponse, Response

from publicist.web.dashboard_view import dashboard_context
from publicist.web.deps import DbSession, Now, Waits
from publicist.web.i18n import translations
from publicist.web.routers.signin import signin_page
from publicist.web.schemas import MAX_ID, IdText
from publicist.web.templating import render
from publicist.web.tokens import Caller, authenticate
from publicist.web.visitor import CurrentVisitor, read_form, refused

COOKIE = "publicist_token"
COOKIE_PATH = "/dashboard"
COOKIE_MAX_AGE = 30 * 24 * 3600
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


def _redirect_setting_cookie(request: Request, secret: str, campaign: int | None) -> Response:
    target = COOKIE_PATH + (f"?{urlencode({'campaign': campaign})}" if campaign else "")
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _token_from_cookie(request: Request, session: DbSession, now: Now) -> Caller | None:
    secret = request.cookies.get(COOKIE)
    return authenticate(session, secret=secret, now=now) if secret else None


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    windows: Waits,
    token: Annotated[str | None, Query(max_length=200)] = None,
    campaign: Annotated[int | None, Query(ge=1, le=MAX_ID), IdText] = None,
) -> Response:
    if token is not None:
        if authenticate(session, secret=token, now=now) is None:
            return signin_page(visitor, status=401, token_form=True, token_error=True)
        return _redirect_setting_cookie(request, token, campaign)
    wall_display = visitor.person is None
    if wall_display and _token_from_cookie(request, session, now) is None:
        return signin_page(visitor, status=401, token_form=True)
    context = dashboard_context(
        session,
        campaign_id=campaign,
        now=now,
        windows=windows,
        gettext=translations(visitor.language).gettext,
    )
    here = COOKIE_PATH + (f"?{urlencode({'campaign': campaign})}" if campaign else "")
    response = render(
        visitor.language,
        "dashboard.html",
        {
            **context,
            "visitor": visitor,
            "wall_display": wall_display,
            "active": "dashboard",
            "here": here,
            "now": now,
        },
        # A wall display runs no script at all; people get htmx for partial updates.
        scripts=not wall_display,
    )
    return visitor.finish(response)


@router.post("/dashboard/login")
def login(
    request: Request,
    session: DbSession,
    now: Now,
    visitor: CurrentVisitor,
    body: Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")] = b"",
) -> Response:
    form = read_form(body)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    secret = form.get("token", "").strip()
    if not secret or authenticate(session, secret=secret, now=now) is None:
        return signin_page(visitor, status=401, token_form=True, token_error=True)
    return _redirect_setting_cookie(request, secret, None)


@router.post("/dashboard/logout")
def logout(
    request: Request,
    visitor: CurrentVisitor,
    body: Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")] = b"",
) -> Response:
    if not visitor.csrf_ok(request, read_form(body)):
        return refused(visitor)
    response = RedirectResponse(COOKIE_PATH, status_code=303, headers=NO_STORE)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
