"""``/signin`` and ``/signout``: people sign in with their e-mail and password.

Failed attempts are throttled per e-mail and per client address (``publicist.web.throttle``);
the password is never logged, echoed or kept. The session cookie is HttpOnly, SameSite=Lax
(a link from an e-mail still opens the workspace signed in; a cross-site form post does not
carry it) and Secure when the request came over https.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import RedirectResponse, Response

from campaigns.actors import person_actor
from campaigns.people.queries import normalise_email
from campaigns.people.services import check_password, set_language
from publicist.web.deps import DbSession, Now
from publicist.web.templating import render
from publicist.web.throttle import clear_failures, record_failure, retry_at
from publicist.web.visitor import CSRF_COOKIE, CurrentVisitor, Visitor, read_form, refused
from publicist.web.websessions import COOKIE, LIFETIME, end_session, start_session

HOME = "/dashboard"
FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (``/…``, not ``//host``) may be where sign-in leads."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:500]
    return HOME


def signin_page(
    visitor: Visitor,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    next_path: str = HOME,
    wait_until: datetime | None = None,
    now: datetime | None = None,
    token_form: bool = False,
    token_error: bool = False,
) -> Response:
    minutes = None
    if wait_until is not None and now is not None:
        minutes = max(1, -(-int((wait_until - now).total_seconds()) // 60))
    response = render(
        visitor.language,
        "signin.html",
        {
            "visitor": visitor,
            "error": error,
            "email": email,
            "next_path": next_path,
            "wait_until": wait_until.strftime("%H:%M UTC") if wait_until else None,
            "wait_minutes": minutes,
            "token_form": token_form,
            "token_error": token_error,
        },
        status=status,
    )
    if minutes is not None:
        response.headers["Retry-After"] = str(minutes * 60)
    return visitor.finish(response)


@router.get("/signin")
def signin_form(
    visitor: CurrentVisitor, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    if visitor.person is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return signin_page(visitor, next_path=safe_next(next))


@router.post("/signin")
def signin(
    request: Request, session: DbSession, now: Now, visitor: CurrentVisitor, body: FormBody = b""
) -> Response:
    form = read_form(body)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    email = normalise_email(form.get("email", ""))[:254]
    password = form.get("password", "")
    next_path = safe_next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    wait = retry_at(session, email=email, address=address, now=now)
    if wait is not None:
        return signin_page(
            visitor,
            status=429,
            error="throttled",
            email=email,
            next_path=next_path,
            wait_until=wait,
            now=now,
        )
    person = check_password(session, email=email, password=password) if email else None
    if person is None:
        record_failure(session, email=email, address=address, now=now)
        return signin_page(visitor, status=401, error="wrong", email=email, next_path=next_path)
    clear_failures(session, email=email)
    secret, _ = start_session(session, person=person, now=now)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=visitor.secure,
    )
    response.delete_cookie(CSRF_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/signout")
def signout(
    request: Request, session: DbSession, visitor: CurrentVisitor, body: FormBody = b""
) -> Response:
    if visitor.web_session is None:
        return RedirectResponse("/signin", status_code=303)
    if not visitor.csrf_ok(request, read_form(body)):
        return refused(visitor)
    end_session(session, row=visitor.web_session)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=visitor.secure)
    return response


@router.post("/account/language")
def choose_language(
    request: Request, session: DbSession, visitor: CurrentVisitor, now: Now, body: FormBody = b""
) -> Response:
    """The header's language switch: saved on the person, so every page and device follows."""
    form = read_form(body)
    if visitor.person is None:
        return RedirectResponse("/signin", status_code=303)
    if not visitor.csrf_ok(request, form):
        return refused(visitor)
    person = visitor.person
    set_language(
        session,
        person=person,
        language=form.get("language") or None,
        now=now,
        actor=person_actor(person.id, person.role),
    )
    return RedirectResponse(safe_next(form.get("next")), status_code=303)
