"""``/dashboard``: the server-rendered page, and its cookie login.

How the page authenticates: open ``/dashboard`` and paste a token (any role; a viewer token
is enough) into the form, or open ``/dashboard?token=…`` once (handy for a wall display).
Either way the server checks the token and answers with a redirect that sets an HttpOnly,
SameSite=Strict cookie scoped to ``/dashboard``, so the token leaves the address bar at once;
``publicist api`` also redacts ``token=`` from its access log. The cookie is only ever read
by the page, never by the JSON API, which takes tokens from the Authorization header alone.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from publicist.web.deps import DbSession, Now
from publicist.web.models import ApiToken
from publicist.web.page import login_page, render_dashboard
from publicist.web.schemas import MAX_ID, IdText
from publicist.web.tokens import authenticate

COOKIE = "publicist_token"
COOKIE_PATH = "/dashboard"
COOKIE_MAX_AGE = 30 * 24 * 3600

SECURITY_HEADERS = {
    # No script at all; styles and SVG are inline; forms post only back here.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _redirect_setting_cookie(request: Request, secret: str, campaign: int | None) -> Response:
    target = COOKIE_PATH + (f"?{urlencode({'campaign': campaign})}" if campaign else "")
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
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


def _token_from_cookie(request: Request, session: DbSession, now: Now) -> ApiToken | None:
    secret = request.cookies.get(COOKIE)
    return authenticate(session, secret=secret, now=now) if secret else None


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: DbSession,
    now: Now,
    token: Annotated[str | None, Query(max_length=200)] = None,
    campaign: Annotated[int | None, Query(ge=1, le=MAX_ID), IdText] = None,
) -> Response:
    if token is not None:
        if authenticate(session, secret=token, now=now) is None:
            return _html(login_page("That token is unknown or revoked."), 401)
        return _redirect_setting_cookie(request, token, campaign)
    if _token_from_cookie(request, session, now) is None:
        return _html(login_page(None), 401)
    return _html(render_dashboard(session, campaign_id=campaign, now=now))


@router.post("/dashboard/login")
def login(
    request: Request,
    session: DbSession,
    now: Now,
    body: Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")] = b"",
) -> Response:
    try:
        fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=5)
    except ValueError:  # more fields than a login form has
        fields = {}
    secret = (fields.get("token") or [""])[0].strip()
    if not secret or authenticate(session, secret=secret, now=now) is None:
        return _html(login_page("That token is unknown or revoked."), 401)
    return _redirect_setting_cookie(request, secret, None)


@router.post("/dashboard/logout")
def logout() -> Response:
    response = RedirectResponse(COOKIE_PATH, status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
