"""Accounts: creation, lookup by reference, and credentials kept encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import account_fields, record
from campaigns.models import Account
from campaigns.people.roles import Role
from campaigns.validation import check_rate_limit, require_text
from connectors import registry
from connectors.base import BaseConnector, Connector, Credentials
from connectors.http import make_client
from connectors.media import MediaLoader
from publicist.core.clock import Clock, system_clock
from publicist.core.crypto import decrypt_json, encrypt_json
from publicist.core.errors import Conflict, InvalidInput, NotFound
from publicist.core.ids import as_id, looks_like_id


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
    actor: Actor = OPERATOR,
) -> Account:
    actor.require(Role.ADMIN, "connecting an account")
    registry.load(platform)  # unknown platform -> did-you-mean error
    handle = require_text(handle, "handle")
    _check_access_token(credentials)
    if api_base_url is not None:
        _check_base_url(api_base_url)
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
    record(  # never the credentials: account_fields leaves them out
        session,
        actor=actor,
        action="account.create",
        kind="account",
        object_id=account.id,
        after=account_fields(account),
        now=now,
    )
    return account


def _check_access_token(credentials: Credentials) -> None:
    """An empty token would only fail at publish time; only an app that fetches its own
    tokens from its id and secret (WeChat) may start without one."""
    if credentials.access_token.strip():
        return
    if credentials.client_id and credentials.client_secret:
        return
    raise InvalidInput(
        "access_token",
        "",
        "must not be empty (unless a client id and client secret are given for the "
        "platform to issue tokens)",
    )


def _check_base_url(url: str) -> None:
    """Only http(s) endpoints: a connector must never be pointed at a file or another scheme.

    The error shows only the scheme: the rest may be a local path or carry a password.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:  # e.g. an invalid IPv6 literal or port
        parts, host = None, None
    scheme = parts.scheme.lower() if parts else ""
    if scheme not in ("http", "https"):
        raise InvalidInput(
            "api_base_url", f"{scheme}:" if scheme else "(no scheme)", "must be an http(s) URL"
        )
    if not host:
        raise InvalidInput("api_base_url", f"{scheme}:", "must name a host (http(s)://HOST/...)")
    if parts is not None and (parts.username is not None or parts.password is not None):
        # Credentials belong in the account's encrypted credentials, never in a URL that is
        # shown in lists and written to the audit log.
        raise InvalidInput(
            "api_base_url", f"{scheme}://(not shown)", "must not carry a user name or password"
        )


def refuse_nul(reference: str, *, field: str) -> None:
    """PostgreSQL refuses NUL in any text, even in a comparison; say so before asking it."""
    if "\x00" in reference:
        raise InvalidInput(field, reference, "must not contain the NUL character")


def find_account(session: Session, reference: str, *, field: str = "account") -> Account:
    """``platform:handle``, a bare handle (if unique) or a numeric id."""
    reference = reference.strip()
    refuse_nul(reference, field=field)
    query = select(Account)
    if ":" in reference:
        platform, _, handle = reference.partition(":")
        query = query.where(Account.platform == platform, Account.handle == handle)
    elif looks_like_id(reference):  # an id; one out of range names no account
        query = query.where(Account.id == (as_id(reference) or 0))
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
