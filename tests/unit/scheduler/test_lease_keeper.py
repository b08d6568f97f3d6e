"""A slow attempt keeps its lease; one whose delivery was taken over never creates its post."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from connectors.errors import TransientError
from connectors.http import send
from publicist.core.clock import system_clock
from scheduler import lease
from scheduler.lease import LeaseKeeper

LEASE = 0.3  # seconds: a margin of half of it; renewal due after a third


def _create(client: httpx.Client) -> None:
    send(client, "POST", "/2/tweets", platform="mock", classify=lambda _: None, creates=True)


@pytest.fixture(autouse=True)
def no_background_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests call ``renew_due`` themselves, so timing never decides the outcome."""
    monkeypatch.setattr(LeaseKeeper, "_start_thread", lambda self: None)


@pytest.fixture
def client() -> httpx.Client:
    answer = httpx.MockTransport(lambda request: httpx.Response(201, json={}))
    return httpx.Client(base_url="http://127.0.0.1", transport=answer)


def test_a_renewed_lease_keeps_the_window_open_past_its_first_budget(
    client: httpx.Client,
) -> None:
    renewals: list[tuple[int, int, int]] = []

    def renew(delivery_id: int, attempt: int, ticket: int, until: datetime, now: datetime) -> bool:
        renewals.append((delivery_id, attempt, ticket))
        assert until > now
        return True

    keeper = LeaseKeeper(renew)
    with keeper.hold(
        delivery_id=7,
        attempt=2,
        lease_seconds=LEASE,
        margin_seconds=LEASE / 2,
        ticket=3,
        clock=system_clock,
        taken_at=time.monotonic(),
    ) as window:
        time.sleep(LEASE)  # past the first budget (half the lease)
        keeper.renew_due()
        assert time.monotonic() < window.deadline
        _create(client)  # still allowed: the lease is held
    assert renewals
    assert set(renewals) == {(7, 2, 3)}  # the attempt's ticket is presented


def test_without_renewal_the_window_closes_after_its_budget(client: httpx.Client) -> None:
    keeper = LeaseKeeper(lambda *_: True)
    taken_long_ago = time.monotonic() - LEASE
    with (
        keeper.hold(
            delivery_id=7,
            attempt=1,
            lease_seconds=LEASE,
            margin_seconds=LEASE / 2,
            ticket=3,
            clock=system_clock,
            taken_at=taken_long_ago,
        ),
        pytest.raises(TransientError, match="nothing was sent"),
    ):
        _create(client)


def test_a_taken_over_attempt_may_not_create_its_post(client: httpx.Client) -> None:
    keeper = LeaseKeeper(lambda *_: False)
    with keeper.hold(
        delivery_id=7,
        attempt=1,
        lease_seconds=LEASE,
        margin_seconds=LEASE / 2,
        ticket=3,
        clock=system_clock,
        taken_at=time.monotonic(),
    ) as window:
        time.sleep(LEASE / 3)
        keeper.renew_due()
        assert window.deadline == float("-inf")
        with pytest.raises(TransientError, match="nothing was sent"):
            _create(client)


def test_an_attempt_stuck_too_long_is_left_to_the_reconciler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renewals: list[int] = []
    monkeypatch.setattr(lease, "MAX_ATTEMPT_SECONDS", LEASE)
    keeper = LeaseKeeper(lambda delivery_id, *_: renewals.append(delivery_id) or True)
    with keeper.hold(
        delivery_id=7,
        attempt=1,
        lease_seconds=LEASE,
        margin_seconds=LEASE / 2,
        ticket=3,
        clock=system_clock,
        taken_at=time.monotonic() - 2 * LEASE,
    ):
        keeper.renew_due()
    assert renewals == []


def test_a_database_outage_leaves_the_window_to_close_by_itself() -> None:
    def unavailable(*_: object) -> bool:
        raise ConnectionError("database is away")

    keeper = LeaseKeeper(unavailable)
    taken = time.monotonic() - LEASE / 3
    with keeper.hold(
        delivery_id=7,
        attempt=1,
        lease_seconds=LEASE,
        margin_seconds=LEASE / 2,
        ticket=3,
        clock=system_clock,
        taken_at=taken,
    ) as window:
        before = window.deadline
        keeper.renew_due()
        assert window.deadline == before
