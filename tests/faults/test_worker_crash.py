"""Kill -9 the worker while its publish request is in flight, again and again.

The simulator holds every creating request until told. Each round waits until one is held,
then either kills the worker's process group at once (the platform never creates the post),
or first freezes the worker, lets the held requests through so the platform creates the
posts, and kills it before it can read the answers. A new worker is started each time. The
lease of each interrupted delivery expires, and the reconciler must ask the platform: a post
that went out is recorded, one that did not is published again, never twice.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from simulators.control import SimulatorControl
from simulators.server import SimulatorServer
from tests.faults.rig import (
    Stack,
    all_settled,
    check_exactly_once,
    reconciled_after_lease,
    wait_for,
)
from tests.faults.scenario import schedule_posts

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

ROUNDS = 4


def test_a_worker_killed_mid_request_neither_loses_nor_doubles_a_post(
    stack: Stack,
    database: tuple[str, Engine],
    simulator: SimulatorServer,
    control: SimulatorControl,
) -> None:
    _, engine = database
    schedule = schedule_posts(
        engine,
        control,
        base_url=simulator.base_url("twitter"),
        accounts=3,
        per_account=8,
        first_in=6,
        spacing=2.5,
    )
    control.faults(hold_creates=True)
    stack.start()
    for round_number in range(ROUNDS):
        wait_for(lambda: control.held() > 0, what="a held publish request", timeout=90, stack=stack)
        if round_number % 2:
            # The platform commits the posts; the worker dies before it reads the answers.
            stack.freeze_worker()
            expected = len(control.posts()) + control.held()
            control.release()
            wait_for(
                lambda target=expected: len(control.posts()) >= target,
                what="the held posts to be created",
                timeout=30,
                stack=stack,
            )
            stack.kill_worker()
        else:
            # The worker dies with its requests unanswered; the platform never creates them.
            stack.kill_worker()
            control.release()
        stack.start_worker()
    control.faults(hold_creates=False)
    wait_for(lambda: all_settled(engine), what="every delivery to settle", timeout=150, stack=stack)
    stack.stop()

    verdict = check_exactly_once(engine, control, remote_account=schedule.remote_account)
    assert stack.kills == ROUNDS
    assert verdict.published == schedule.deliveries, verdict.states
    reconciled = reconciled_after_lease(stack)
    assert reconciled.get("published"), "no post that went out was found by the reconciler"
    assert reconciled.get("scheduled"), "no post that never went out was published again"
