"""Who is looking at a page: a signed-in person (session cookie) or an anonymous browser, in
which language, and the CSRF token their forms must send back.

Signed-in people use their session's token. Anonymous forms (sign-in, the wall display's
token form) use a random token kept in an HttpOnly cookie of its own (double submit), so a
page on another site cannot post them either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import Response

from campaigns.people.models import Person
from campaigns.people.services import LANGUAGES
from campaigns.queries import Windows
from publicist.web.deps import DbSession, Now
from publicist.web.i18n import choose
from publicist.web.models import WebSession
from publicist.web.templating import render
from publicist.web.websessions import COOKIE, find_session, new_token, tokens_match
from publicist.web.workspace_status import WorkspaceStatus

CSRF_COOKIE = "publicist_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_FORM_FIELDS = 20


@dataclass
class Visitor:
    person: Person | None
    web_session: WebSession | None
    language: str
    csrf: str
    """The token this visitor's forms carry."""
    anonymous_csrf_is_new: bool
    secure: bool
    """The request came over https (directly or through a proxy that says so)."""
    status: WorkspaceStatus | None = None
    """The inbox count and the workers' health for a signed-in person's pages."""

    def csrf_ok(self, request: Request, form: dict[str, str]) -> bool:
        """True when the form field or the htmx header carries this visitor's token."""
        given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if self.web_session is not None:
            return tokens_match(self.web_session.csrf_token, given)
        return not self.anonymous_csrf_is_new and tokens_match(self.csrf, given)

    def finish(self, response: Response) -> Response:
        """Set the anonymous CSRF cookie on the response whose forms use a new token."""
        if self.web_session is None and self.anonymous_csrf_is_new:
            response.set_cookie(
                CSRF_COOKIE,
                self.csrf,
                path="/",
                httponly=True,
                samesite="strict",
                secure=self.secure,
            )
        return response


def is_https(request: Request) -> bool:
    # uvicorn rewrites the scheme from X-Forwarded-Proto when the proxy is trusted
    # (--forwarded-allow-ips), so this is true behind a TLS-terminating proxy as well.
    return request.url.scheme == "https"


def _visitor(request: Request, session: DbSession, now: Now) -> Visitor:
    row = find_session(session, secret=request.cookies.get(COOKIE), now=now)
    person = row.person if row is not None else None
    asked = request.query_params.get("lang")
    if person is None and asked in LANGUAGES:
        language = asked
    else:
        language = choose(
            person.language if person else None, request.headers.get("accept-language")
        )
    if row is not None:
        csrf, new = row.csrf_token, False
    else:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        usable = 20 <= len(cookie) <= 100
        csrf, new = (cookie, False) if usable else (new_token(), True)
    return Visitor(
        person=person,
        web_session=row,
        language=language,
        csrf=csrf,
        anonymous_csrf_is_new=new,
        secure=is_https(request),
        status=_status(request, session, now, person),
    )


def _status(
    request: Request, session: DbSession, now: datetime, person: Person | None
) -> WorkspaceStatus | None:
    if person is None:
        return None
    settings = request.app.state.settings
    return WorkspaceStatus(
        session,
        now=now,
        windows=Windows.from_settings(settings),
        zone=person.timezone or settings.default_timezone,
    )


CurrentVisitor = Annotated[Visitor, Depends(_visitor)]


def read_form(body: bytes) -> dict[str, str]:
    """A url-encoded form as single values; a body with more fields than ours is empty."""
    try:
        fields = parse_qs(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:
        return {}
    return {name: values[0] for name, values in fields.items()}


def refused(visitor: Visitor) -> Response:
    """403 for a state-changing request without this visitor's CSRF token."""
    response = render(visitor.language, "refused.html", {"visitor": visitor}, status=403)
    return visitor.finish(response)
