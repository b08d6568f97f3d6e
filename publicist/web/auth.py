"""Who is calling: a bearer token for the API, with a role checked on every route.

The API reads tokens only from the ``Authorization`` header, never from cookies, so a
browser cannot be tricked into sending a write on someone's behalf (no CSRF surface). The
workspace pages have their own sign-in with a session cookie and a CSRF token on every form
(``publicist.web.routers.signin``, ``publicist.web.visitor``); a token's role is capped by
its owner's (``publicist.web.tokens.Caller.effective_role``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from publicist.web.deps import DbSession, Now
from publicist.web.tokens import Caller, Role, authenticate


class AuthError(Exception):
    """401 (no valid token) or 403 (valid token, role too low); turned into JSON centrally."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        self.status = status
        self.kind = kind
        super().__init__(message)


bearer = HTTPBearer(
    auto_error=False,
    description="An API token from 'publicist token create --role viewer|editor|approver|admin'.",
)


def authorize(
    session: Session,
    credentials: HTTPAuthorizationCredentials | None,
    needed: Role,
    *,
    now: datetime,
) -> Caller:
    """The caller behind ``credentials`` if its token is live and allows ``needed``."""
    if credentials is None or not credentials.credentials:
        raise AuthError(401, "unauthorized", "an API token is required (Authorization: Bearer …)")
    caller = authenticate(session, secret=credentials.credentials, now=now)
    if caller is None:
        raise AuthError(401, "unauthorized", "the API token is unknown or revoked")
    role = caller.effective_role
    if not role.allows(needed):
        capped = " (capped by its owner's role)" if role != caller.role else ""
        raise AuthError(
            403,
            "forbidden",
            f"this needs the {needed.value} role; the token {caller.name!r} is {role.value}"
            + capped,
        )
    return caller


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
"""The bearer token as sent, if any; declares the API's security scheme in OpenAPI."""


def require(
    needed: Role,
) -> Callable[[Session, datetime, HTTPAuthorizationCredentials | None], Caller]:
    """A dependency that lets through tokens with ``needed`` or a higher role.

    For routes that use the request's session (``publicist.web.deps.DbSession``); the
    reports' reads take a ``publicist.web.reading.Reader`` instead, which checks the token in
    the same trip to the thread pool as the read.
    """

    def dependency(session: DbSession, now: Now, credentials: Credentials) -> Caller:
        return authorize(session, credentials, needed, now=now)

    return dependency


Viewer = Annotated[Caller, Depends(require(Role.VIEWER))]
Editor = Annotated[Caller, Depends(require(Role.EDITOR))]
Approver = Annotated[Caller, Depends(require(Role.APPROVER))]
Admin = Annotated[Caller, Depends(require(Role.ADMIN))]
