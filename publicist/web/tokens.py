"""API tokens: created with a role, stored as a sha256 hash, shown to their owner only once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor, ActorKind
from campaigns.audit.log import record
from campaigns.people.models import Person

# Role and parse_role are re-exported: the roles live with the people they describe.
from campaigns.people.roles import Role as Role
from campaigns.people.roles import lower
from campaigns.people.roles import parse_role as parse_role
from publicist.core.crypto import secret_digest
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.reads import column_rows
from publicist.web.models import ApiToken

TOKEN_PREFIX = "pub_"  # noqa: S105 - a recognisable prefix, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so reads do not turn into writes."""


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: ``secret`` is the only copy there will ever be."""

    token: ApiToken
    secret: str

    def __repr__(self) -> str:
        return f"IssuedToken({self.token!r})"


def create_token(
    session: Session,
    *,
    role: Role,
    name: str,
    now: datetime,
    owner: Person | None = None,
    actor: Actor = OPERATOR,
) -> IssuedToken:
    """A new token; one owned by a person may not have a higher role than theirs."""
    actor.require(Role.ADMIN, "creating a token")
    name = name.strip()
    if not name:
        raise InvalidInput("name", name, "must not be empty")
    if len(name) > 100:
        raise InvalidInput("name", name, "must be at most 100 characters")
    if owner is not None and not Role(owner.role).allows(role):
        raise InvalidInput(
            "role", role.value, f"must not be above its owner's role ({owner.role}, {owner.email})"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role.value,
        token_hash=secret_digest(secret),
        owner_id=owner.id if owner is not None else None,
        created_at=now,
    )
    session.add(token)
    session.flush()
    _record(session, token, "token.create", {}, actor=actor, now=now)
    return IssuedToken(token=token, secret=secret)


def _fields(token: ApiToken) -> dict[str, object]:
    """Never the secret nor its hash."""
    return {
        "name": token.name,
        "role": token.role,
        "owner_id": token.owner_id,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _record(
    session: Session,
    token: ApiToken,
    action: str,
    before: dict[str, object],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    record(
        session,
        actor=actor,
        action=action,
        kind="token",
        object_id=token.id,
        before=before,
        after=_fields(token),
        now=now,
    )


@dataclass(frozen=True)
class Caller:
    """A live token as a request sees it: whom it acts for and what it may do.

    Plain values read in one statement (no ORM objects): every API request starts here.
    """

    token_id: int
    name: str
    role: Role
    """The token's own role."""
    owner_id: int | None
    owner_role: Role | None
    """Its owner's role now; None for a token without an owner."""

    @property
    def effective_role(self) -> Role:
        """What the token may do: its own role, capped by its owner's current role."""
        return self.role if self.owner_role is None else lower(self.role, self.owner_role)


_LIVE_TOKEN = (
    select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.role,
        ApiToken.owner_id,
        ApiToken.last_used_at,
        Person.role.label("owner_role"),
    )
    .outerjoin(Person, Person.id == ApiToken.owner_id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.revoked_at.is_(None),
        or_(Person.id.is_(None), Person.disabled.is_(False)),
    )
)
"""The token with a hash, unless it is revoked or its owner is disabled."""


def authenticate(session: Session, *, secret: str, now: datetime) -> Caller | None:
    """The live token matching ``secret``, or None (unknown, malformed, revoked, or owned by a
    disabled person). Records its use at most once per ``LAST_USED_RESOLUTION``."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = column_rows(session, _LIVE_TOKEN, {"digest": secret_digest(secret)}).one_or_none()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Caller(
        token_id=row.id,
        name=row.name,
        role=Role(row.role),
        owner_id=row.owner_id,
        owner_role=None if row.owner_role is None else Role(row.owner_role),
    )


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(
    session: Session, *, token_id: int, now: datetime, actor: Actor = OPERATOR
) -> ApiToken:
    actor.require(Role.ADMIN, "revoking a token")
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token", token_id, "see 'publicist token list'")
    if token.revoked_at is not None:
        raise Conflict(f"token {token_id} is already revoked")
    before = _fields(token)
    token.revoked_at = now
    session.flush()
    _record(session, token, "token.revoke", before, actor=actor, now=now)
    return token


def token_actor(caller: Caller) -> Actor:
    """The caller behind a token: its owner (if any) for the audit and the self-approval
    rule, with the token's effective role."""
    return Actor(
        kind=ActorKind.TOKEN,
        role=caller.effective_role,
        person_id=caller.owner_id,
        token_id=caller.token_id,
    )
