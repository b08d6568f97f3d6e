"""Fault-test fixtures: private Redis and PostgreSQL, the X simulator, a worker stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from publicist.core.database import make_engine
from publicist.core.migrate import upgrade
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests import factories
from tests.counts import assert_counts_exact
from tests.faults.rig import Stack
from tests.faults.services import PrivatePostgres, PrivateRedis

LEASE_SECONDS = 6
"""Short, so a killed worker's attempt is reconciled within the test."""
MARGIN_SECONDS = LEASE_SECONDS / 2
"""The creation margin the settings allow with this lease: still far longer than any
request the simulator answers without a hold or a latency."""


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def database(private_postgres: PrivatePostgres) -> Iterator[tuple[str, Engine]]:
    url = private_postgres.create_database("publicist")
    upgrade(url)
    engine = make_engine(url)
    try:
        yield url, engine
        # Whatever the fault did, the kept delivery counts still equal the deliveries.
        assert_counts_exact(engine)
    finally:
        engine.dispose()


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(["twitter"]) as server:
        yield server


@pytest.fixture
def control(simulator: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(simulator.base_url("twitter"))
    try:
        yield client
    finally:
        client.close()


def worker_env(*, database_url: str, broker_url: str) -> dict[str, str]:
    """The parent's environment without its Publicist settings, plus the fault-test ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLICIST_")}
    env.update(
        {
            "PUBLICIST_DATABASE_URL": database_url,
            "PUBLICIST_BROKER_URL": broker_url,
            "PUBLICIST_SECRET_KEY": factories.SECRET,
            "PUBLICIST_DISPATCH_TICK_SECONDS": "0.5",
            "PUBLICIST_DISPATCH_LOOKAHEAD_SECONDS": "3",
            "PUBLICIST_PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
            "PUBLICIST_PUBLISH_CREATION_MARGIN_SECONDS": str(MARGIN_SECONDS),
            "PUBLICIST_RECONCILE_TICK_SECONDS": "1",
            # The simulator shows a post as soon as it is created: no indexing lag to wait out.
            "PUBLICIST_RECONCILE_SETTLE_SECONDS": "1",
            # Metrics collection is not under test here; keep its traffic out of the way.
            "PUBLICIST_COLLECT_TICK_SECONDS": "3600",
        }
    )
    return env


@pytest.fixture
def stack(
    tmp_path: Path, database: tuple[str, Engine], private_redis: PrivateRedis
) -> Iterator[Stack]:
    """Not started: each test starts it when its schedule is in place."""
    workers = Stack(tmp_path, worker_env(database_url=database[0], broker_url=private_redis.url))
    try:
        yield workers
    finally:
        workers.stop()
