"""``/api/tokens``: admins issue and revoke API tokens (the CLI does the same locally)."""

from __future__ import annotations

from fastapi import APIRouter, status

from campaigns.people.models import Person
from publicist.web.auth import Admin
from publicist.web.deps import DbSession, Now, PathId
from publicist.web.present import token_out
from publicist.web.schemas import TokenCreate, TokenCreated, TokenOut
from publicist.web.tokens import create_token, list_tokens, revoke_token, token_actor

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


@router.get("")
def tokens(session: DbSession, _: Admin) -> list[TokenOut]:
    """Every token with its role and last use (never the token itself)."""
    return [token_out(t) for t in list_tokens(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
def issue(body: TokenCreate, session: DbSession, now: Now, caller: Admin) -> TokenCreated:
    """Create a token; the response is the only place it is ever shown.

    It belongs to the person who owns the calling token (if any), so it can never do more
    than they can and stops working when they are disabled.
    """
    issued = create_token(
        session,
        role=body.role,
        name=body.name,
        now=now,
        owner=None if caller.owner_id is None else session.get(Person, caller.owner_id),
        actor=token_actor(caller),
    )
    return TokenCreated(**token_out(issued.token).model_dump(), token=issued.secret)


@router.delete("/{token_id}")
def revoke(token_id: PathId, session: DbSession, now: Now, caller: Admin) -> TokenOut:
    """Revoke a token at once; requests carrying it get 401 from now on."""
    return token_out(revoke_token(session, token_id=token_id, now=now, actor=token_actor(caller)))
