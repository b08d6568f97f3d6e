"""Connecting accounts end to end: every platform's consent page on its simulator over HTTP,
the code exchanged by the real connectors, the account stored through the real services; on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.accounts import get_account, open_connector, read_credentials
from campaigns.connections.errors import ConnectionFailed, ConnectionProblem
from campaigns.connections.flows import (
    OAuthApp,
    complete_connection,
    connect_with_app_secret,
    start_connection,
)
from campaigns.connections.models import PendingAuthorization
from campaigns.models import Account
from campaigns.states import AccountStatus, DeliveryState
from connectors.errors import ReauthorizationRequired
from publicist.core.clock import FrozenClock
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories
from tests.integration.oauth_rig import CALLBACK, OAUTH_PLATFORMS, app_for, press

SECRET = factories.SECRET
NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


_controls: dict[str, SimulatorControl] = {}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer([*OAUTH_PLATFORMS, "wechat"]) as running:
        yield running
        for control in _controls.values():
            control.close()
        _controls.clear()


def control_of(server: SimulatorServer, platform: str) -> SimulatorControl:
    """One control client per platform for the module (closed with the server)."""
    key = server.base_url(platform)
    if key not in _controls:
        _controls[key] = SimulatorControl(key)
    return _controls[key]


def app_of(server: SimulatorServer, platform: str, **settings: object) -> OAuthApp:
    return app_for(platform, control_of(server, platform), server.base_url(platform), **settings)


def started(session: Session, app: OAuthApp, *, now: datetime = NOW, **kw: object) -> str:
    return start_connection(
        session,
        app=app,
        redirect_uri=CALLBACK,
        secret=SECRET,
        now=now,
        **kw,  # type: ignore[arg-type]
    ).authorize_url


def complete(
    session: Session, app: OAuthApp, answer: dict[str, str], *, now: datetime = NOW
) -> int:
    return complete_connection(
        session,
        app=app,
        state=answer.get("state"),
        code=answer.get("code"),
        error=answer.get("error"),
        secret=SECRET,
        now=now,
    ).account_id


def refused(
    session: Session, app: OAuthApp, answer: dict[str, str], **kw: datetime
) -> ConnectionProblem:
    accounts = session.scalar(select(func.count()).select_from(Account))
    with pytest.raises(ConnectionFailed) as caught, session.begin_nested():
        complete(session, app, answer, **kw)
    assert session.scalar(select(func.count()).select_from(Account)) == accounts
    return caught.value.problem


@pytest.mark.parametrize("platform", OAUTH_PLATFORMS)
def test_allow_connects_the_account_with_encrypted_tokens(
    session: Session, server: SimulatorServer, platform: str
) -> None:
    app = app_of(server, platform)
    answer = press(started(session, app), "allow")
    account = get_account(session, complete(session, app, answer))
    assert (account.platform, account.status) == (platform, AccountStatus.ACTIVE)
    assert account.handle.lstrip("@") == "IPRinCN"
    credentials = read_credentials(account, secret=SECRET)
    assert credentials.access_token
    assert credentials.access_token.encode() not in account.credentials_encrypted
    assert credentials.client_id == app.client_id
    assert account.token_expires_at is not None
    pending = session.scalars(select(PendingAuthorization)).one()
    assert pending.used_at == NOW
    assert len(pending.state_digest) == 64  # only the digest of the state is kept
    assert answer["state"] not in pending.state_digest


def test_x_asks_for_the_publishing_scopes_with_pkce_s256(
    session: Session, server: SimulatorServer
) -> None:
    url = started(session, app_of(server, "twitter"))
    assert "code_challenge_method=S256" in url
    assert "scope=tweet.read+tweet.write+users.read+offline.access+media.write" in url
    pending = session.scalars(select(PendingAuthorization)).one()
    assert pending.verifier_encrypted is not None


@pytest.mark.parametrize("platform", OAUTH_PLATFORMS)
def test_deny_writes_nothing(session: Session, server: SimulatorServer, platform: str) -> None:
    app = app_of(server, platform)
    answer = press(started(session, app), "deny")
    assert answer["error"] == "access_denied"
    assert refused(session, app, answer) is ConnectionProblem.DENIED


@pytest.mark.parametrize("platform", OAUTH_PLATFORMS)
def test_a_wrong_state_is_refused(session: Session, server: SimulatorServer, platform: str) -> None:
    app = app_of(server, platform)
    answer = press(started(session, app), "allow")
    forged = {**answer, "state": answer["state"][:-2] + "xx"}
    assert refused(session, app, forged) is ConnectionProblem.STATE_UNKNOWN
    assert refused(session, app, {**answer, "state": ""}) is ConnectionProblem.STATE_UNKNOWN


def test_an_expired_or_used_state_is_refused(session: Session, server: SimulatorServer) -> None:
    app = app_of(server, "weibo")
    answer = press(started(session, app), "allow")
    late = NOW + timedelta(minutes=10, seconds=1)
    assert refused(session, app, answer, now=late) is ConnectionProblem.STATE_EXPIRED
    complete(session, app, answer)
    assert refused(session, app, answer) is ConnectionProblem.STATE_USED


@pytest.mark.parametrize("platform", OAUTH_PLATFORMS)
def test_an_expired_code_is_refused(
    session: Session, server: SimulatorServer, platform: str
) -> None:
    app = app_of(server, platform)
    answer = press(started(session, app), "allow")
    control_of(server, platform).clock(advance_seconds=11 * 60)  # every platform's code lapsed
    assert refused(session, app, answer) is ConnectionProblem.CODE_REFUSED


@pytest.mark.parametrize("platform", OAUTH_PLATFORMS)
def test_a_reused_code_is_refused(session: Session, server: SimulatorServer, platform: str) -> None:
    app = app_of(server, platform)
    first = press(started(session, app), "allow")
    complete(session, app, first)
    second = press(started(session, app), "allow")
    replay = {**second, "code": first["code"]}
    assert refused(session, app, replay) is ConnectionProblem.CODE_REFUSED


def test_a_token_endpoint_failure_writes_nothing(session: Session, server: SimulatorServer) -> None:
    app = app_of(server, "twitter")
    answer = press(started(session, app), "allow")
    control_of(server, "twitter").faults(error_rate=1.0)
    try:
        assert refused(session, app, answer) is ConnectionProblem.TOKEN_ENDPOINT
    finally:
        control_of(server, "twitter").clear_faults()
    assert session.scalars(select(PendingAuthorization)).one().used_at is None


@pytest.mark.parametrize("platform", ["twitter", "tiktok"])
def test_the_rotating_refresh_token_after_connecting(
    session: Session, server: SimulatorServer, platform: str
) -> None:
    app = app_of(server, platform)
    account = get_account(session, complete(session, app, press(started(session, app), "allow")))
    first = read_credentials(account, secret=SECRET)
    with open_connector(account, secret=SECRET, clock=FrozenClock(NOW)) as connector:
        renewed = connector.refresh_credentials()
        assert renewed.refresh_token
        assert renewed.refresh_token != first.refresh_token
        assert renewed.access_token != first.access_token
        connector.credentials = first  # the spent refresh token no longer works
        with pytest.raises(ReauthorizationRequired):
            connector.refresh_credentials()


def test_reconnecting_keeps_the_id_and_the_scheduled_deliveries(
    session: Session, server: SimulatorServer
) -> None:
    app = app_of(server, "twitter")
    account_id = complete(session, app, press(started(session, app), "allow"))
    factories.campaign(session, now=NOW)
    post = factories.scheduled_post(
        session,
        campaign_name="IP Creates a Better Life",
        accounts=[str(account_id)],
        now=NOW,
        in_seconds=3600,
    )
    old = read_credentials(get_account(session, account_id), secret=SECRET)
    url = started(session, app, account_id=account_id)
    again = complete_connection(
        session,
        app=app,
        secret=SECRET,
        now=NOW,
        **{k: v for k, v in press(url, "allow").items() if k in ("state", "code")},  # type: ignore[arg-type]
        error=None,
    )
    assert again.account_id == account_id
    assert again.reconnected
    assert read_credentials(get_account(session, account_id), secret=SECRET) != old
    assert [d.state for d in post.deliveries] == [DeliveryState.SCHEDULED]
    assert post.deliveries[0].account_id == account_id


def test_wechat_connects_by_app_id_and_secret(session: Session, server: SimulatorServer) -> None:
    control = control_of(server, "wechat")
    control.reset()
    provisioned = control.add_account("cnipa-gzh")
    base = server.base_url("wechat")
    with pytest.raises(ConnectionFailed) as caught, session.begin_nested():
        connect_with_app_secret(
            session,
            platform="wechat",
            handle="cnipa-gzh",
            app_id=provisioned["client_id"],
            app_secret="not-the-secret",
            api_base=base,
            secret=SECRET,
            now=NOW,
        )
    assert caught.value.problem is ConnectionProblem.APP_REFUSED
    assert "not-the-secret" not in str(caught.value)
    assert session.scalar(select(func.count()).select_from(Account)) == 0
    connected = connect_with_app_secret(
        session,
        platform="wechat",
        handle="cnipa-gzh",
        app_id=provisioned["client_id"],
        app_secret=provisioned["client_secret"],
        api_base=base,
        secret=SECRET,
        now=NOW,
    )
    credentials = read_credentials(get_account(session, connected.account_id), secret=SECRET)
    assert credentials.access_token
    assert credentials.client_id == provisioned["client_id"]
