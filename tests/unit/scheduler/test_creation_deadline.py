"""A post is created only while its attempt still owns the delivery."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import TransientError
from connectors.http import LONGEST_REQUEST_SECONDS, creation_deadline, send
from publicist.core.settings import Settings
from scheduler.lease import creation_budget


def _client(sent: list[str]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200, json={})

    return httpx.Client(base_url="http://127.0.0.1", transport=httpx.MockTransport(answer))


def test_the_budget_leaves_one_margin_before_the_lease_ends() -> None:
    assert creation_budget(150, LONGEST_REQUEST_SECONDS) == 150 - LONGEST_REQUEST_SECONDS == 80
    assert creation_budget(6, 3) == 3


def test_the_default_margin_is_the_longest_request() -> None:
    assert Settings().publish_creation_margin_seconds == LONGEST_REQUEST_SECONDS


def test_past_the_deadline_only_creating_requests_are_refused() -> None:
    sent: list[str] = []
    with _client(sent) as client, creation_deadline(-1):
        send(client, "POST", "/upload", platform="mock", classify=lambda _: None)
        with pytest.raises(TransientError, match="nothing was sent"):
            send(client, "POST", "/create", platform="mock", classify=lambda _: None, creates=True)
    assert sent == ["/upload"]


def test_within_the_deadline_and_outside_any_the_post_is_created() -> None:
    sent: list[str] = []
    with _client(sent) as client:
        with creation_deadline(60):
            send(client, "POST", "/create", platform="mock", classify=lambda _: None, creates=True)
        with creation_deadline(-1):
            pass
        send(client, "POST", "/create", platform="mock", classify=lambda _: None, creates=True)
    assert sent == ["/create", "/create"]
