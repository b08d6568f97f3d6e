"""`publicist api` passes the trusted proxies to uvicorn, so cookies are Secure behind https."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from typer.testing import CliRunner

from publicist.cli import api
from publicist.cli.main import app


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    @contextmanager
    def no_database() -> Iterator[None]:
        yield

    def fake_run(target: str, **options: Any) -> None:
        calls.update(options, target=target)

    monkeypatch.setattr(api, "database", no_database)
    monkeypatch.setattr("uvicorn.run", fake_run)
    return calls


def test_forwarded_allow_ips_reaches_uvicorn(served: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["api", "--forwarded-allow-ips", "10.0.0.5,10.0.0.6"])
    assert result.exit_code == 0, result.output
    assert served["proxy_headers"] is True
    assert served["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"


def test_only_loopback_proxy_trusted_by_default(served: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["api"])
    assert result.exit_code == 0, result.output
    assert served["forwarded_allow_ips"] == "127.0.0.1"
