"""``/api/accounts``: platform accounts; credentials go in and never come out."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from campaigns.accounts import create_account, get_account
from campaigns.models import Account
from connectors.base import Credentials
from publicist.web.auth import Admin, Editor
from publicist.web.deps import AppSettings, DbSession, Now, PathId
from publicist.web.present import account_out
from publicist.web.schemas import AccountCreate, AccountOut
from publicist.web.tokens import token_actor

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


@router.get("")
def list_accounts(session: DbSession, _: Editor) -> list[AccountOut]:
    """Every connected account (no credentials)."""
    accounts = session.scalars(select(Account).order_by(Account.platform, Account.handle))
    return [account_out(a) for a in accounts]


@router.get("/{account_id}")
def show_account(account_id: PathId, session: DbSession, _: Editor) -> AccountOut:
    return account_out(get_account(session, account_id))


@router.post("", status_code=status.HTTP_201_CREATED)
def add_account(
    body: AccountCreate, session: DbSession, now: Now, settings: AppSettings, caller: Admin
) -> AccountOut:
    """Connect an account (admin): its credentials are stored encrypted and never shown."""
    credentials = Credentials(
        access_token=body.access_token.get_secret_value(),
        refresh_token=body.refresh_token.get_secret_value() if body.refresh_token else None,
        client_id=body.client_id,
        client_secret=body.client_secret.get_secret_value() if body.client_secret else None,
        user_id=body.user_id,
        extra=dict(body.extra),
    )
    account = create_account(
        session,
        platform=body.platform,
        handle=body.handle,
        credentials=credentials,
        secret=settings.encryption_key(),
        now=now,
        api_base_url=body.api_base_url,
        rate_limit_requests=body.rate_limit_requests,
        rate_limit_per_seconds=body.rate_limit_per_seconds,
        actor=token_actor(caller),
    )
    return account_out(account)
