"""Who is calling: a bearer token for the API, with a role checked on every route.

The API reads tokens only from the ``Authorization`` header, never from cookies, so a
browser cannot be tricked into sending a write on someone's behalf (no CSRF surface). The
workspace pages have their own sign-in with a session cookie and a CSRF token on every form
(``publicist.web.routers.signin``, ``publicist.web.visitor``); a token's role is capped by
its owner's (``publicist.web.tokens.effective_role``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from publicist.web.deps import DbSession, Now
from publicist.web.models import ApiToken
from publicist.web.tokens import Role, authenticate, effective_role


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


def current_token(
    session: DbSession,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiToken:
    if credentials is None or not credentials.credentials:
        raise AuthError(401, "unauthorized", "an API token is required (Authorization: Bearer …)")
    token = authenticate(session, secret=credentials.credentials, now=now)
    if token is None:
        raise AuthError(401, "unauthorized", "the API token is unknown or revoked")
    return token


def check_role(token: ApiToken, needed: Role) -> None:
    role = effective_role(token)
    if not role.allows(needed):
        capped = " (capped by its owner's role)" if role.value != token.role else ""
        raise AuthError(
            403,
            "forbidden",
            f"this needs the {needed.value} role; the token {token.name!r} is {role.value}"
            + capped,
        )


def require(needed: Role) -> Callable[[ApiToken], Awaitable[ApiToken]]:
    """A dependency that lets through tokens with ``needed`` or a higher role."""

    async def dependency(token: Annotated[ApiToken, Depends(current_token)]) -> ApiToken:
        check_role(token, needed)
        return token

    return dependency


Viewer = Annotated[ApiToken, Depends(require(Role.VIEWER))]
Editor = Annotated[ApiToken, Depends(require(Role.EDITOR))]
Approver = Annotated[ApiToken, Depends(require(Role.APPROVER))]
Admin = Annotated[ApiToken, Depends(require(Role.ADMIN))]
