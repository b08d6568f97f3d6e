"""The accounts page over HTTP: who may do what, CSRF, the callback's refusals in the person's
language with nothing written, and disabling after the confirmation list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.models import Account
from campaigns.people.roles import Role
from campaigns.people.services import add_person
from campaigns.states import AccountStatus
from publicist.core.clock import FrozenClock
from publicist.core.settings import Settings
from publicist.web.app import create_app
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories
from tests.conftest import TEST_SECRET
from tests.integration.oauth_rig import press_for_location

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def x_app() -> Iterator[tuple[str, dict[str, str]]]:
    with SimulatorServer(["twitter"]) as server:
        base = server.base_url("twitter")
        control = SimulatorControl(base)
        try:
            app = control.add_account("@IPRinCN")
        finally:
            control.close()
        yield base, {"client_id": str(app["client_id"]), "secret": str(app["client_secret"])}


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def site(
    sessions: sessionmaker[Session], clock: FrozenClock, x_app: tuple[str, dict[str, str]]
) -> Iterator[TestClient]:
    base, app = x_app
    settings = Settings(
        secret_key=TEST_SECRET,
        default_timezone="Asia/Shanghai",
        x_client_id=app["client_id"],
        x_client_secret=app["secret"],  # type: ignore[arg-type]
        x_api_base=base,
        x_auth_base=base,
    )
    now = clock.now()
    with sessions() as session, session.begin():
        for role in (Role.ADMIN, Role.VIEWER):
            add_person(
                session,
                name=role.value,
                email=f"{role.value}@example.org",
                role=role,
                password=PASSWORD,
                now=now,
            )
        add_person(
            session,
            name="admin2",
            email="admin2@example.org",
            role=Role.ADMIN,
            password=PASSWORD,
            now=now,
        )
        factories.account(session, handle="cnipa", now=now)
        factories.campaign(session, now=now)
        factories.scheduled_post(
            session,
            campaign_name="IP Creates a Better Life",
            accounts=["mock:cnipa"],
            now=now,
            in_seconds=timedelta(days=1).total_seconds(),
            text="知识产权宣传周开幕",
        )
    with TestClient(create_app(settings, clock=clock, sessions=sessions)) as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def _signed_in(site: TestClient, email: str, language: str = "en") -> TestClient:
    client = TestClient(site.app)
    client.headers["Accept-Language"] = "zh-CN" if language == "zh_CN" else "en"
    csrf = _csrf(client.get("/signin").text)
    answer = client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def _accounts(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Account)) or 0)


def _start(client: TestClient) -> str:
    csrf = _csrf(client.get("/accounts").text)
    answer = client.post(
        "/accounts/connect/twitter", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def _back(client: TestClient, location: str) -> tuple[int, str]:
    parts = urlsplit(location)
    assert parts.path == "/accounts/callback/twitter"
    answer = client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    return answer.status_code, answer.text


def test_a_viewer_reads_but_may_not_connect(site: TestClient) -> None:
    viewer = _signed_in(site, "viewer@example.org")
    page = viewer.get("/accounts")
    assert page.status_code == 200
    assert "cnipa" in page.text
    assert "Connect X" not in page.text
    answer = viewer.post(
        "/accounts/connect/twitter", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert viewer.get("/accounts/1/disable").status_code == 403


def test_connect_needs_the_csrf_token(site: TestClient) -> None:
    admin = _signed_in(site, "admin@example.org")
    answer = admin.post("/accounts/connect/twitter", data={}, follow_redirects=False)
    assert answer.status_code == 403


def test_allow_connects_and_a_replayed_callback_is_refused(
    site: TestClient, sessions: sessionmaker[Session]
) -> None:
    admin = _signed_in(site, "admin@example.org")
    page = admin.get("/accounts")
    assert "form-action 'self' http://127.0.0.1:" in page.headers["content-security-policy"]
    location = press_for_location(_start(admin), "allow")
    status, _ = _back(admin, location)
    assert status == 303
    assert _accounts(sessions) == 2
    listed = admin.get("/accounts").text
    assert "IPRinCN" in listed
    assert "refreshes automatically" in listed
    status, text = _back(admin, location)
    assert status == 400
    assert "completed already" in text
    assert _accounts(sessions) == 2


def test_refused_consent_is_said_in_chinese_and_writes_nothing(
    site: TestClient, sessions: sessionmaker[Session]
) -> None:
    admin = _signed_in(site, "admin@example.org", "zh_CN")
    status, text = _back(admin, press_for_location(_start(admin), "deny"))
    assert status == 400
    assert "您在平台页面上拒绝了授权" in text
    assert _accounts(sessions) == 1


def test_another_admins_state_is_not_accepted(
    site: TestClient, sessions: sessionmaker[Session]
) -> None:
    admin = _signed_in(site, "admin@example.org")
    other = _signed_in(site, "admin2@example.org")
    location = press_for_location(_start(admin), "allow")
    status, text = _back(other, location)  # a link sent to someone else (login CSRF)
    assert status == 400
    assert "does not belong to a connection you started" in text
    assert _accounts(sessions) == 1
    assert _back(admin, location)[0] == 303  # still good for the one who started it


def test_disable_lists_the_delivery_then_cancels_it(
    site: TestClient, sessions: sessionmaker[Session]
) -> None:
    admin = _signed_in(site, "admin@example.org", "zh_CN")
    with sessions() as session:
        account_id = session.scalars(select(Account.id)).one()
    page = admin.get(f"/accounts/{account_id}/disable")
    assert page.status_code == 200
    assert "这将取消 1 条待发布内容" in page.text
    assert "知识产权宣传周开幕" in page.text
    answer = admin.post(
        f"/accounts/{account_id}/disable",
        data={"csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with sessions() as session:
        assert session.get(Account, account_id).status is AccountStatus.DISABLED  # type: ignore[union-attr]
    assert "已停用" in admin.get("/accounts").text
