"""The keeper's own thread renews a running attempt's lease without being asked."""

from __future__ import annotations

import time

from publicist.core.clock import system_clock
from scheduler.lease import LeaseKeeper


def test_the_keeper_thread_renews_on_its_own() -> None:
    renewed: list[int] = []

    def renew(delivery_id: int, *_: object) -> bool:
        renewed.append(delivery_id)
        return True

    keeper = LeaseKeeper(renew)
    with keeper.hold(
        delivery_id=9,
        attempt=1,
        lease_seconds=0.3,
        margin_seconds=0.15,
        ticket=3,
        clock=system_clock,
        taken_at=time.monotonic(),
    ):
        give_up = time.monotonic() + 10
        while not renewed and time.monotonic() < give_up:
            time.sleep(0.02)
    assert renewed[:1] == [9]
