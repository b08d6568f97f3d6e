"""The API's reads (publicist.web.reading) on real engines, not a test's transaction: one trip
to the thread pool, no transaction on PostgreSQL, the token still checked and its use still
recorded, every connection given back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person
from campaigns.schemas import CampaignInput
from campaigns.services import create_campaign
from publicist.core.clock import FrozenClock
from publicist.core.crypto import secret_digest
from publicist.core.database import session_factory
from publicist.web.app import create_app
from publicist.web.models import ApiToken
from publicist.web.reading import read_sessions
from publicist.web.tokens import create_token
from tests.conftest import migrated_database
from tests.web.conftest import app_settings


@dataclass
class Served:
    client: TestClient
    engine: Engine
    sessions: sessionmaker[Session]
    clock: FrozenClock
    campaign_id: int
    viewer: str
    owned: str

    def get(self, path: str, secret: str | None = None) -> Any:
        headers = {} if secret is None else {"Authorization": f"Bearer {secret}"}
        return self.client.get(path, headers=headers)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock) -> Iterator[Served]:
    with migrated_database(request.param, tmp_path, "reads") as (_, engine):
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            campaign = create_campaign(
                session,
                data=CampaignInput(name="IP Week"),
                default_timezone="Asia/Shanghai",
                now=clock.now(),
            )
            person = add_person(
                session,
                name="Li Na",
                email="li@example.org",
                role=Role.VIEWER,
                password="correct horse battery",
                now=clock.now(),
            )
            viewer = create_token(session, role=Role.VIEWER, name="wall", now=clock.now())
            owned = create_token(
                session, role=Role.VIEWER, name="li's", now=clock.now(), owner=person
            )
            campaign_id = campaign.id
        with TestClient(create_app(app_settings(), clock=clock, sessions=sessions)) as client:
            yield Served(client, engine, sessions, clock, campaign_id, viewer.secret, owned.secret)


def test_a_read_takes_one_trip_to_the_thread_pool(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(function, "__qualname__", repr(function)))
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    answer = served.get(f"/api/reports/campaigns/{served.campaign_id}/totals", served.viewer)
    assert answer.status_code == 200, answer.text
    assert trips == ["Reader._run"]


def test_reads_run_without_a_transaction_on_postgresql_only(served: Served) -> None:
    reads = read_sessions(served.sessions)
    if served.engine.dialect.name != "postgresql":
        assert reads is served.sessions
        return
    with reads() as session:
        session.execute(select(ApiToken.id))
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        assert raw.info.transaction_status == TransactionStatus.IDLE  # none left open


def test_sessions_on_a_tests_connection_are_kept_as_they_are(served: Served) -> None:
    with served.engine.connect() as connection:
        bound = sessionmaker(bind=connection)
        assert read_sessions(bound) is bound


def test_a_read_records_the_tokens_use(served: Served) -> None:
    assert served.get("/api/reports/campaigns", served.viewer).status_code == 200
    first = _last_used(served)
    assert first is not None
    served.clock.advance(timedelta(seconds=30))  # within the resolution: no write
    served.get("/api/reports/campaigns", served.viewer)
    assert _last_used(served) == first
    served.clock.advance(timedelta(minutes=2))
    served.get("/api/reports/campaigns", served.viewer)
    assert _last_used(served) == served.clock.now()


def test_refusals_and_missing_things_answer_in_json(served: Served) -> None:
    missing = served.get("/api/reports/campaigns/999999", served.viewer)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    anonymous = served.get(f"/api/reports/campaigns/{served.campaign_id}")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "unauthorized"
    unknown = served.get("/api/reports/failures", "pub_not-a-token")
    assert unknown.status_code == 401


def test_a_disabled_owners_token_stops_reading(served: Served) -> None:
    assert served.get("/api/reports/failures", served.owned).status_code == 200
    with served.sessions() as session, session.begin():
        disable_person(session, email="li@example.org", now=served.clock.now())
    assert served.get("/api/reports/failures", served.owned).status_code == 401
    assert served.get("/api/reports/failures", served.viewer).status_code == 200


def test_every_connection_is_given_back(served: Served) -> None:
    for path in (
        f"/api/reports/campaigns/{served.campaign_id}",
        "/api/reports/campaigns/999999",
        "/api/reports/accounts",
    ):
        served.get(path, served.viewer)
        served.get(path)
    assert served.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def _last_used(served: Served) -> Any:
    with served.sessions() as session:
        return session.scalar(
            select(ApiToken.last_used_at).where(ApiToken.token_hash == secret_digest(served.viewer))
        )
