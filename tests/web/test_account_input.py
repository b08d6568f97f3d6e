"""Account input (API and CLI): no empty tokens, http(s) endpoints only, no secret echoed."""

from __future__ import annotations

from typing import Any

import pytest

from publicist.cli.main import main
from publicist.core.settings import Settings
from tests.web.conftest import Api

ACCOUNT = {"platform": "mock", "handle": "@IPRinCN", "access_token": "tok-123"}
SECRET = "s3cr3t-value-xyz"


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _accounts(api: Api) -> list[Any]:
    return list(api.client.get("/api/accounts", headers=api.admin).json())


@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
def test_an_empty_access_token_is_refused(api: Api, token: str) -> None:
    response = api.client.post(
        "/api/accounts", json={**ACCOUNT, "access_token": token}, headers=api.admin
    )
    error = _error(response)
    assert error["field"] == "access_token"
    assert "empty" in error["rule"]
    assert _accounts(api) == []


def test_an_app_that_issues_its_own_tokens_may_start_without_one(api: Api) -> None:
    body = {**ACCOUNT, "access_token": "", "client_id": "wx123", "client_secret": SECRET}
    response = api.client.post("/api/accounts", json=body, headers=api.admin)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/publicist/secret.key",
        "FILE:///tmp/x",
        "ftp://example.com/",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "/var/lib/publicist",
        "127.0.0.1:8900",
        "http://",
        "https:///path-only",
        "http://[::1",
        "http://example.com:port/",
    ],
)
def test_only_http_base_urls_are_accepted_and_paths_are_not_echoed(api: Api, url: str) -> None:
    response = api.client.post(
        "/api/accounts", json={**ACCOUNT, "api_base_url": url}, headers=api.admin
    )
    error = _error(response)
    assert error["field"] == "api_base_url"
    assert "http" in error["rule"]
    assert "/etc/" not in response.text
    assert "/var/" not in response.text
    assert _accounts(api) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8900/twitter", "https://api.x.com"])
def test_http_base_urls_are_accepted(api: Api, url: str) -> None:
    response = api.client.post(
        "/api/accounts", json={**ACCOUNT, "api_base_url": url}, headers=api.admin
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "misspelt", ["acess_token", "accesstoken", "refresh_tokn", "client_secrt", "pasword", "x"]
)
def test_the_value_of_a_misspelt_or_unknown_field_is_never_echoed(api: Api, misspelt: str) -> None:
    response = api.client.post(
        "/api/accounts", json={**ACCOUNT, misspelt: SECRET}, headers=api.admin
    )
    error = _error(response)
    assert error["field"] == misspelt
    assert SECRET not in response.text


@pytest.mark.parametrize(
    "change",
    [
        {"access_token": 12345},
        {"refresh_token": ["x" * 5000]},
        {"client_secret": "y" * 5000},
        {"extra": {"api_key": "z" * 5000}},
    ],
)
def test_secret_fields_are_never_echoed(api: Api, change: dict[str, Any]) -> None:
    response = api.client.post("/api/accounts", json={**ACCOUNT, **change}, headers=api.admin)
    assert response.status_code == 422
    for value in change.values():
        assert str(value)[:20] not in response.text


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["publicist", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main()
    code = caught.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ("--token", ""),
        ("--token", "  "),
        ("--token", "t", "--api-base-url", "file:///etc/publicist/secret.key"),
        ("--token", "t", "--api-base-url", "ftp://example.com"),
        ("--token", "t", "--extra", SECRET),
    ],
)
def test_the_cli_refuses_the_same_with_one_line(
    configured_db: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    code, err = _cli(monkeypatch, capsys, "account", "add", "mock", "@IPRinCN", *args)
    assert code == 2, err
    assert err.startswith("error:")
    assert len(err.strip().splitlines()) == 1
    assert "/etc/" not in err
    assert SECRET not in err
    code, err = _cli(monkeypatch, capsys, "account", "add", "mock", "@IPRinCN", "--token", "t")
    assert code == 0, err  # nothing half-written: the handle is still free


def test_a_base_url_carrying_a_password_is_refused_and_never_echoed(api: Api) -> None:
    url = "https://user:hunter2@api.example.com/"
    response = api.client.post(
        "/api/accounts", json={**ACCOUNT, "api_base_url": url}, headers=api.admin
    )
    error = _error(response)
    assert error["field"] == "api_base_url"
    assert "password" in error["rule"]
    assert "hunter2" not in response.text
    assert _accounts(api) == []
