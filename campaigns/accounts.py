"""Accounts: creation, lookup by reference, and credentials kept encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account
from campaigns.validation import as_row_id, check_rate_limit, require_text
from connectors import registry
from connectors.base import BaseConnector, Connector, Credentials
from connectors.http import make_client
from connectors.media import MediaLoader
from publicist.core.clock import Clock, system_clock
from publicist.core.crypto import decrypt_json, encrypt_json
from publicist.core.errors import Conflict, InvalidInput, NotFound


def create_account(
    session: Session,
    *,
    platform: str,
    handle: str,
    credentials: Credentials,
    secret: str,
    now: datetime,
    api_base_url: str | None = None,
    rate_limit_requests: int | None = None,
    rate_limit_per_seconds: float | None = None,
) -> Account:
    registry.load(platform)  # unknown platform -> did-you-mean error
    handle = require_text(handle, "handle")
    check_rate_limit(rate_limit_requests, rate_limit_per_seconds)
    existing = session.scalar(
        select(Account).where(Account.platform == platform, Account.handle == handle)
    )
    if existing is not None:
        raise Conflict(f"account {platform}:{handle} already exists")
    account = Account(
        platform=platform,
        handle=handle,
        api_base_url=api_base_url,
        credentials_encrypted=encrypt_json(secret, credentials.to_dict()),
        token_expires_at=credentials.expires_at,
        rate_limit_requests=rate_limit_requests,
        rate_limit_per_seconds=rate_limit_per_seconds,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def find_account(session: Session, reference: str, *, field: str = "account") -> Account:
    """``platform:handle``, a bare handle (if unique) or a numeric id."""
    reference = reference.strip()
    query = select(Account)
    if ":" in reference:
        platform, _, handle = reference.partition(":")
        query = query.where(Account.platform == platform, Account.handle == handle)
    elif reference.isdigit():  # an id; one out of range names no account
        query = query.where(Account.id == (as_row_id(reference) or 0))
    else:
        query = query.where(Account.handle == reference)
    matches = list(session.scalars(query))
    if not matches:
        raise InvalidInput(
            field, reference, "is not a known account (see 'publicist account list')"
        )
    if len(matches) > 1:
        options = ", ".join(a.label for a in matches)
        raise InvalidInput(field, reference, f"is ambiguous; use one of {options}")
    return matches[0]


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    return account


def read_credentials(account: Account, *, secret: str) -> Credentials:
    return Credentials.from_dict(decrypt_json(secret, account.credentials_encrypted))


def store_credentials(account: Account, credentials: Credentials, *, secret: str) -> None:
    account.credentials_encrypted = encrypt_json(secret, credentials.to_dict())
    account.token_expires_at = credentials.expires_at


def connector_class(platform: str) -> type[Connector]:
    """The installed connector for ``platform`` (the registry's cached lookup)."""
    return registry.load(platform)


@contextmanager
def open_connector(
    account: Account, *, secret: str, clock: Clock = system_clock, media: MediaLoader | None = None
) -> Iterator[Connector]:
    """A connector for ``account`` with its own HTTP client, closed on exit.

    ``media`` (see ``campaigns.media.media_loader``) reads the media library and fetches
    media URLs under the configured policy; connectors built on ``BaseConnector`` take it.
    Without it a connector reads no library and fetches public addresses only.
    """
    factory = connector_class(account.platform)
    base_url = account.api_base_url or factory.default_base_url
    with make_client(base_url) as http:
        credentials = read_credentials(account, secret=secret)
        if media is not None and issubclass(factory, BaseConnector):
            # Built-in connectors take the loader; a plugin's constructor may not know it.
            built = cast(type[BaseConnector], factory)
            yield cast(Connector, built(credentials, http=http, clock=clock, media=media))
        else:
            yield factory(credentials, http=http, clock=clock)
