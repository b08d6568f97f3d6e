"""Schedule → real Celery worker and beat (Redis, PostgreSQL) → publish → collect → report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select

from campaigns.models import Campaign, Delivery
from campaigns.states import DeliveryState
from connectors.mock import MockPlatform
from metrics.models import DeliveryMetrics
from metrics.reports import campaign_report
from publicist.core.database import make_engine, session_scope
from publicist.core.migrate import upgrade
from tests import factories
from tests.conftest import drop_postgres_database, postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

REDIS_DB = 11
BROKER_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
DELIVERIES_PER_ACCOUNT = 6
WAIT_SECONDS = 90


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def production_db() -> Iterator[tuple[str, Engine]]:
    url, admin = postgres_database("publicist_e2e")
    engine = make_engine(url)
    try:
        upgrade(url)
        yield url, engine
    finally:
        engine.dispose()
        drop_postgres_database(url, admin)


def _start(
    args: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "publicist", *args],
            env=env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _states(engine: Engine) -> str:
    """The deliveries as staff would see them, so a timeout says where they stand."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                Delivery.id, Delivery.state, Delivery.attempts, Delivery.due_at, Delivery.last_error
            )
        ).all()
    return "\n".join(
        f"delivery {row[0]}: {row[1]} attempts={row[2]} due={row[3]} error={row[4]}" for row in rows
    )


def _wait_for(condition, *, what: str, processes, logs, engine: Engine | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is not None:
                pytest.fail(
                    f"{log.name} exited while waiting for {what}:\n{log.read_text()[-3000:]}"
                )
        if time.monotonic() > deadline:
            tails = "\n".join(log.read_text()[-2000:] for log in logs)
            states = _states(engine) if engine is not None else ""
            pytest.fail(f"timed out waiting for {what}\n{states}\n{tails}")
        time.sleep(0.25)


def test_deliveries_publish_once_on_time_and_report_matches_platform(
    tmp_path: Path, broker: redis.Redis, production_db: tuple[str, Engine]
) -> None:
    url, engine = production_db
    store = str(tmp_path / "mock-platform.sqlite")
    speed = 3600.0
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        handles = ["@IPRinCN", "cnipa-weibo"]
        for handle in handles:
            factories.account(session, handle=handle, now=now, store=store, speed=speed)
        factories.campaign(session, name="2021 National IP Publicity Week", now=now)
        for n in range(DELIVERIES_PER_ACCOUNT):
            factories.scheduled_post(
                session,
                campaign_name="2021 National IP Publicity Week",
                accounts=[f"mock:{h}" for h in handles],
                now=now,
                in_seconds=6 + n * 0.5,
                text=f"IP Week day {n}",
            )
    expected = DELIVERIES_PER_ACCOUNT * 2

    env = {
        **os.environ,
        "PUBLICIST_DATABASE_URL": url,
        "PUBLICIST_BROKER_URL": BROKER_URL,
        "PUBLICIST_SECRET_KEY": factories.SECRET,
        "PUBLICIST_DISPATCH_TICK_SECONDS": "0.5",
        "PUBLICIST_COLLECT_TICK_SECONDS": "1",
        "PUBLICIST_COLLECTION_SPEED": str(speed),
    }
    logs = [tmp_path / "worker.log", tmp_path / "beat.log"]
    processes = [
        _start(["worker", "--concurrency", "4"], env=env, cwd=tmp_path, log=logs[0]),
        _start(["beat"], env=env, cwd=tmp_path, log=logs[1]),
    ]
    try:

        def published() -> bool:
            with session_scope(engine) as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.state == DeliveryState.PUBLISHED)
                )
            return done == expected

        _wait_for(
            published,
            what="every delivery to be published",
            processes=processes,
            logs=logs,
            engine=engine,
        )
        frozen = datetime.now(UTC) + timedelta(seconds=0.5)
        with MockPlatform.open(store) as platform:
            platform.freeze(frozen)

        def collected_after_freeze() -> bool:
            with session_scope(engine) as session:
                fresh = session.scalar(
                    select(func.count())
                    .select_from(DeliveryMetrics)
                    .where(DeliveryMetrics.collected_at > frozen)
                )
            return fresh == expected

        _wait_for(
            collected_after_freeze,
            what="a collection after the freeze",
            processes=processes,
            logs=logs,
        )
    finally:
        for process in processes:
            _stop(process)

    with MockPlatform.open(store) as platform:
        counts = platform.count_by_marker()
        posts = platform.posts()
        truth = platform.totals(datetime.now(UTC))
    with session_scope(engine) as session:
        deliveries = list(session.scalars(select(Delivery)))
        assert len(deliveries) == expected
        for delivery in deliveries:
            assert delivery.state is DeliveryState.PUBLISHED
            assert counts.get(delivery.marker) == 1, (
                f"{delivery.marker} posted {counts.get(delivery.marker)} times"
            )
            assert delivery.attempts == 1
            assert delivery.started_at is not None
            assert delivery.started_at >= delivery.due_at
            assert delivery.remote_id
            assert delivery.url
        assert len(posts) == expected
        campaign = session.scalars(select(Campaign)).one()
        report = campaign_report(session, campaign=campaign)
    assert truth.views > 0
    assert report.published == expected
    assert report.views == truth.views
    assert report.interactions == truth.interactions
