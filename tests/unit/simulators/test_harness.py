"""The shared simulator harness over real HTTP: clock, tokens, faults, holds, engagement."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from simulators.control import SimulatorControl
from simulators.server import SimulatorServer

MODULES = {"toy": "tests.unit.simulators.toy_platform"}


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(["toy"], modules=MODULES) as running:
        yield running


@pytest.fixture
def control(server: SimulatorServer) -> Iterator[SimulatorControl]:
    client = SimulatorControl(server.base_url("toy"))
    yield client
    client.close()


def _post(server: SimulatorServer, token: str, text: str) -> httpx.Response:
    return httpx.post(
        server.base_url("toy") + "/posts",
        json={"text": text},
        headers={"authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_drop_after_commit_cuts_the_connection_but_keeps_the_post(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    account = control.add_account("@office")
    control.faults(drop_next_creates=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(server, account["access_token"], "hello https://example.org/a")
    assert _post(server, account["access_token"], "second").status_code == 200
    posts = control.posts()
    assert [p["text"] for p in posts] == ["second", "hello https://example.org/a"]
    counts = control.counts()
    assert sorted(counts.values()) == [1, 1]


def test_rate_limit_burst_and_error_rate_are_applied_then_cleared(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    token = control.add_account("@office")["access_token"]
    control.faults(rate_limit_next=2)
    assert [_post(server, token, f"t{n}").status_code for n in range(3)] == [429, 429, 200]
    control.faults(error_rate=1.0)
    assert _post(server, token, "x").status_code == 503
    control.clear_faults()
    assert _post(server, token, "y").status_code == 200


def test_held_requests_wait_until_released(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    token = control.add_account("@office")["access_token"]
    control.faults(hold_creates=True)
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(_post(server, token, "h").status_code))
    worker.start()
    deadline = time.monotonic() + 5
    while control.held() == 0:
        assert time.monotonic() < deadline, "the request was never held"
        time.sleep(0.02)
    assert results == []
    assert control.posts() == []
    assert control.release() == 1
    worker.join(timeout=5)
    assert results == [200]


def test_expired_token_is_refused(server: SimulatorServer, control: SimulatorControl) -> None:
    token = control.add_account("@office")["access_token"]
    assert control.expire_tokens() == 1
    with pytest.raises(Exception, match="expired"):
        server.sims["toy"].tokens.check(token)


def test_engagement_grows_monotonically_with_virtual_time_and_freezes(
    server: SimulatorServer, control: SimulatorControl
) -> None:
    token = control.add_account("@office")["access_token"]
    assert _post(server, token, "grow").status_code == 200
    seen = []
    for _ in range(4):
        control.clock(advance_seconds=30)
        seen.append(control.truth()["totals"])
    views = [t["views"] for t in seen]
    likes = [t["likes"] for t in seen]
    assert views == sorted(views)
    assert 0 < views[0] < views[-1]
    assert likes == sorted(likes)
    control.freeze(now=True)
    frozen = control.truth()["totals"]
    control.clock(advance_seconds=600)
    assert control.truth()["totals"] == frozen


def test_engagement_is_reproducible_from_the_seed() -> None:
    totals = []
    for _ in range(2):
        with SimulatorServer(["toy"], modules=MODULES, seed=7) as server:
            control = SimulatorControl(server.base_url("toy"))
            token = control.add_account("@office")["access_token"]
            _post(server, token, "same")
            post = server.sims["toy"].live_posts()[0]
            sim = server.sims["toy"]
            totals.append(sim.engagement(post, post.created_at.replace(year=2100)))
            control.close()
    assert totals[0] == totals[1]
