"""Starting and completing a connection by a platform's authorisation-code flow, and WeChat's
app id and secret.

A started connection is a :class:`PendingAuthorization` row: a random ``state`` (stored as
its SHA-256), the PKCE verifier (encrypted), who started it and where the platform must send
the person back; it lapses after ten minutes and serves once. Completing it checks all of
that, exchanges the code server-side, and creates the account or reconnects the existing one
(same id, history and scheduled deliveries). Any failure raises :class:`ConnectionFailed`
before anything is written, so the caller's rollback leaves no trace.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.accounts import (
    connector_class,
    create_account,
    get_account,
    read_credentials,
    store_credentials,
)
from campaigns.actors import OPERATOR, Actor
from campaigns.audit.log import account_fields, record
from campaigns.connections.errors import ConnectionFailed, ConnectionProblem
from campaigns.connections.models import PendingAuthorization
from campaigns.models import Account
from campaigns.people.roles import Role
from campaigns.states import AccountStatus
from connectors.base import Connector, Credentials
from connectors.errors import AuthorizationRefused, ConnectorError
from connectors.http import make_client
from connectors.oauth import (
    Authorized,
    AuthorizingConnector,
    authorization_flow,
    authorize_address,
    pkce_pair,
)
from publicist.core.clock import FrozenClock
from publicist.core.crypto import decrypt_json, encrypt_json, secret_digest
from publicist.core.errors import InvalidInput

STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class OAuthApp:
    """Publicist's app registered with a platform, and where its API and consent pages are
    (``None``: the platform's real hosts)."""

    platform: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    api_base: str | None = None
    auth_base: str | None = None


@dataclass(frozen=True)
class StartedConnection:
    """Where to send the person, and until when the started connection is good."""

    authorize_url: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Connected:
    account_id: int
    label: str
    reconnected: bool


def start_connection(
    session: Session,
    *,
    app: OAuthApp,
    redirect_uri: str,
    secret: str,
    now: datetime,
    actor: Actor = OPERATOR,
    account_id: int | None = None,
) -> StartedConnection:
    """Store a pending authorisation and return the platform's consent address."""
    actor.require(Role.ADMIN, "connecting an account")
    flow = authorization_flow(connector_class(app.platform))
    if flow is None:
        raise InvalidInput(
            "platform", app.platform, "connects with an app id and secret, not a consent page"
        )
    if account_id is not None and get_account(session, account_id).platform != app.platform:
        raise InvalidInput("platform", app.platform, f"is not the platform of account {account_id}")
    state = secrets.token_urlsafe(32)
    pair = pkce_pair() if flow.pkce else None
    pending = PendingAuthorization(
        state_digest=secret_digest(state),
        platform=app.platform,
        account_id=account_id,
        person_id=actor.person_id,
        redirect_uri=redirect_uri,
        verifier_encrypted=(
            encrypt_json(secret, {"verifier": pair.verifier}) if pair is not None else None
        ),
        created_at=now,
        expires_at=now + STATE_LIFETIME,
    )
    session.add(pending)
    session.flush()
    url = authorize_address(
        flow,
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        state=state,
        challenge=pair.challenge if pair is not None else None,
        auth_base=app.auth_base,
    )
    return StartedConnection(authorize_url=url, expires_at=pending.expires_at)


def complete_connection(
    session: Session,
    *,
    app: OAuthApp,
    state: str | None,
    code: str | None,
    error: str | None,
    secret: str,
    now: datetime,
    actor: Actor = OPERATOR,
) -> Connected:
    """Finish what :func:`start_connection` began (the platform's callback parameters)."""
    actor.require(Role.ADMIN, "connecting an account")
    pending = _pending(session, state=state, platform=app.platform, actor=actor, now=now)
    if error:
        raise ConnectionFailed(ConnectionProblem.DENIED, error[:100])
    if not code:
        raise ConnectionFailed(ConnectionProblem.NO_CODE)
    verifier = (
        str(decrypt_json(secret, pending.verifier_encrypted)["verifier"])
        if pending.verifier_encrypted is not None
        else None
    )
    factory = connector_class(app.platform)
    with make_client(app.api_base or factory.default_base_url) as http:
        connector = factory(
            Credentials(client_id=app.client_id, client_secret=app.client_secret),
            http=http,
            clock=FrozenClock(now),
        )
        if not isinstance(connector, AuthorizingConnector):
            raise InvalidInput("platform", app.platform, "has no authorisation-code flow")
        try:
            authorized = connector.complete_authorization(
                code=code, redirect_uri=pending.redirect_uri, verifier=verifier
            )
        except AuthorizationRefused as exc:
            raise ConnectionFailed(ConnectionProblem.CODE_REFUSED, exc.code or "") from exc
        except ConnectorError as exc:
            raise ConnectionFailed(ConnectionProblem.TOKEN_ENDPOINT, exc.code or "") from exc
    result = _store(
        session,
        platform=app.platform,
        authorized=authorized,
        account_id=pending.account_id,
        api_base=app.api_base,
        secret=secret,
        now=now,
        actor=actor,
    )
    pending.used_at = now
    session.flush()
    return result


def connect_with_app_secret(
    session: Session,
    *,
    platform: str,
    handle: str,
    app_id: str,
    app_secret: str,
    api_base: str | None,
    secret: str,
    now: datetime,
    actor: Actor = OPERATOR,
    account_id: int | None = None,
) -> Connected:
    """WeChat: no consent page; the app id and AppSecret buy a token, which proves them (and
    that this server's address is on the account's IP allow-list)."""
    actor.require(Role.ADMIN, "connecting an account")
    if not app_id.strip():
        raise InvalidInput("app_id", "", "must not be empty")
    if not app_secret.strip():
        raise InvalidInput("app_secret", "(not shown)", "must not be empty")
    factory = connector_class(platform)
    with make_client(api_base or factory.default_base_url) as http:
        connector: Connector = factory(
            Credentials(client_id=app_id.strip(), client_secret=app_secret.strip()),
            http=http,
            clock=FrozenClock(now),
        )
        try:
            credentials = connector.refresh_credentials()
        except AuthorizationRefused as exc:
            raise ConnectionFailed(ConnectionProblem.APP_REFUSED, exc.code or "") from exc
        except ConnectorError as exc:
            problem = (
                ConnectionProblem.TOKEN_ENDPOINT if exc.retryable else ConnectionProblem.APP_REFUSED
            )
            raise ConnectionFailed(problem, exc.message) from exc
    authorized = Authorized(credentials=credentials, handle=handle.strip())
    return _store(
        session,
        platform=platform,
        authorized=authorized,
        account_id=account_id,
        api_base=api_base,
        secret=secret,
        now=now,
        actor=actor,
    )


def _pending(
    session: Session, *, state: str | None, platform: str, actor: Actor, now: datetime
) -> PendingAuthorization:
    if not state:
        raise ConnectionFailed(ConnectionProblem.STATE_UNKNOWN)
    pending = session.scalar(
        select(PendingAuthorization)
        .where(PendingAuthorization.state_digest == secret_digest(state))
        .with_for_update()
    )
    # Another person's state is as unknown as a forged one: a callback link sent to an admin
    # must not connect an account under someone else's name (login CSRF).
    if pending is None or pending.platform != platform or pending.person_id != actor.person_id:
        raise ConnectionFailed(ConnectionProblem.STATE_UNKNOWN)
    if pending.used_at is not None:
        raise ConnectionFailed(ConnectionProblem.STATE_USED)
    if pending.expires_at <= now:
        raise ConnectionFailed(ConnectionProblem.STATE_EXPIRED)
    return pending


def _store(
    session: Session,
    *,
    platform: str,
    authorized: Authorized,
    account_id: int | None,
    api_base: str | None,
    secret: str,
    now: datetime,
    actor: Actor,
) -> Connected:
    """Create the account, or give the existing one its new tokens (keeping its id)."""
    handle = authorized.handle or authorized.credentials.user_id or ""
    account: Account | None = (
        get_account(session, account_id)
        if account_id is not None
        else session.scalar(
            select(Account).where(Account.platform == platform, Account.handle == handle)
        )
    )
    if account is None:
        created = create_account(
            session,
            platform=platform,
            handle=handle,
            credentials=authorized.credentials,
            secret=secret,
            now=now,
            api_base_url=api_base,
            actor=actor,
        )
        return Connected(account_id=created.id, label=created.label, reconnected=False)
    known = read_credentials(account, secret=secret).user_id
    fresh = authorized.credentials.user_id
    if known and fresh and known != fresh:
        raise ConnectionFailed(ConnectionProblem.OTHER_ACCOUNT, handle)
    before = account_fields(account)
    store_credentials(account, authorized.credentials, secret=secret)
    account.status = AccountStatus.ACTIVE
    account.status_reason = None
    account.status_changed_at = now
    session.flush()
    record(
        session,
        actor=actor,
        action="account.reconnect",
        kind="account",
        object_id=account.id,
        before=before,
        after=account_fields(account),
        now=now,
    )
    return Connected(account_id=account.id, label=account.label, reconnected=True)
