"""What every writing page of the workspace does first: sign-in, CSRF and role, and the page
that says why a request stopped."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Body, Request
from fastapi.responses import RedirectResponse, Response

from campaigns.people.roles import Role
from publicist.web.i18n import translations
from publicist.web.templating import render
from publicist.web.visitor import Visitor, refused

FormBody = Annotated[bytes, Body(media_type="application/x-www-form-urlencoded")]


def may(visitor: Visitor, role: Role) -> bool:
    return visitor.person is not None and Role(visitor.person.role).allows(role)


def to_signin(request: Request) -> Response:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        path = "/dashboard"
    return RedirectResponse("/signin?" + urlencode({"next": path}), status_code=303)


def role_message(visitor: Visitor, role: Role) -> str:
    gettext = translations(visitor.language).gettext
    if role is Role.EDITOR:
        return gettext("Only editors, approvers and admins may write campaigns and posts.")
    return gettext("Only approvers and admins may do this.")


def problem(visitor: Visitor, status: int, message: str, *, back: str = "/campaigns") -> Response:
    response = render(
        visitor.language,
        "page_problem.html",
        {"visitor": visitor, "message": message, "status": status, "back": back},
        status=status,
    )
    return visitor.finish(response)


def guard(
    request: Request, visitor: Visitor, role: Role, form: dict[str, str] | None = None
) -> Response | None:
    """The answer that stops a request before it starts (sign in, CSRF on a form, role), or
    None when it may go on. The role check comes first for a page (GET) so that a viewer
    is told plainly that the composer is not theirs."""
    if visitor.person is None:
        return to_signin(request)
    if form is not None and not visitor.csrf_ok(request, form):
        return refused(visitor)
    if not may(visitor, role):
        return problem(visitor, 403, role_message(visitor, role))
    return None
