"""The broker restarts empty, or the database goes away for a few seconds, mid-run.

Both servers are private to the test (tests/faults/services.py). Redis runs without
persistence, so a restart loses every queued and reserved message: the deliveries they
carried must be queued again from the database. A PostgreSQL outage fails whatever a worker
tries to record meanwhile, including the outcome of a publish that went out: the lease and
the reconciler must settle those. In both tests the simulator holds publish requests until
the server is gone, so that some are surely in flight across the outage.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine

from campaigns.states import DeliveryState
from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.faults.rig import (
    Stack,
    all_settled,
    check_exactly_once,
    delivery_states,
    reconciled_after_lease,
    wait_for,
)
from tests.faults.scenario import Schedule, schedule_posts
from tests.faults.services import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

OUTAGE_SECONDS = 4.0


def _run_until_some_published(
    engine: Engine, control: SimulatorControl, simulator: SimulatorServer, stack: Stack
) -> Schedule:
    schedule = schedule_posts(
        engine,
        control,
        base_url=simulator.base_url("twitter"),
        accounts=3,
        per_account=8,
        first_in=6,
        spacing=2,
    )
    stack.start()
    wait_for(
        lambda: delivery_states(engine)[DeliveryState.PUBLISHED.value] >= 6,
        what="the first posts to go out",
        timeout=90,
        stack=stack,
    )
    control.faults(hold_creates=True)
    wait_for(lambda: control.held() > 0, what="a held publish request", timeout=60, stack=stack)
    return schedule


def _let_held_requests_through(control: SimulatorControl, stack: Stack) -> None:
    """The platform answers the requests in flight while the server is away."""
    control.faults(hold_creates=False)
    wait_for(
        lambda: control.held() == 0, what="the held requests to finish", timeout=30, stack=stack
    )


def _settle_and_check(
    engine: Engine, control: SimulatorControl, stack: Stack, schedule: Schedule
) -> None:
    wait_for(lambda: all_settled(engine), what="every delivery to settle", timeout=150, stack=stack)
    stack.stop()
    verdict = check_exactly_once(engine, control, remote_account=schedule.remote_account)
    assert verdict.published == schedule.deliveries, verdict.states


def test_redis_restarting_empty_mid_run_loses_and_doubles_nothing(
    stack: Stack,
    database: tuple[str, Engine],
    private_redis: PrivateRedis,
    simulator: SimulatorServer,
    control: SimulatorControl,
) -> None:
    _, engine = database
    schedule = _run_until_some_published(engine, control, simulator, stack)
    private_redis.stop()
    _let_held_requests_through(control, stack)
    time.sleep(OUTAGE_SECONDS)
    private_redis.start()
    _settle_and_check(engine, control, stack, schedule)


def test_postgres_stopping_for_seconds_mid_run_loses_and_doubles_nothing(
    stack: Stack,
    database: tuple[str, Engine],
    private_postgres: PrivatePostgres,
    simulator: SimulatorServer,
    control: SimulatorControl,
) -> None:
    _, engine = database
    schedule = _run_until_some_published(engine, control, simulator, stack)
    private_postgres.stop()
    _let_held_requests_through(control, stack)
    time.sleep(OUTAGE_SECONDS)
    private_postgres.start()
    _settle_and_check(engine, control, stack, schedule)
    # The posts answered while the database was away could not be recorded by their worker.
    assert reconciled_after_lease(stack).get("published")
