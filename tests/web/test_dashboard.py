"""The dashboard page without a browser: its login, its cookie, its safety headers."""

from __future__ import annotations

import logging
import re

import pytest

from publicist.web.redact import RedactTokens, redact
from publicist.web.tokens import Role
from tests.web.conftest import Api


def _campaign(api: Api, name: str) -> int:
    response = api.client.post("/api/campaigns", json={"name": name}, headers=api.editor)
    assert response.status_code == 201
    return int(response.json()["id"])


def _no_cookie(api: Api) -> None:
    api.client.cookies.clear()


def test_without_a_token_the_page_asks_for_one(api: Api) -> None:
    response = api.client.get("/dashboard")
    assert response.status_code == 401
    assert 'action="/dashboard/login"' in response.text
    assert "<script" not in response.text


def test_the_root_leads_to_the_dashboard(api: Api) -> None:
    response = api.client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"


def test_a_token_in_the_address_becomes_a_cookie_and_leaves_the_address(api: Api) -> None:
    campaign_id = _campaign(api, "IP Week")
    response = api.client.get(
        "/dashboard",
        params={"token": api.tokens[Role.VIEWER], "campaign": campaign_id},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/dashboard?campaign={campaign_id}"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("publicist_token=pub_")
    for attribute in ("HttpOnly", "Path=/dashboard", "SameSite=strict"):
        assert attribute in cookie
    page = api.client.get(response.headers["location"])
    assert page.status_code == 200
    assert "IP Week" in page.text


def test_a_bad_token_in_the_address_sets_nothing(api: Api) -> None:
    response = api.client.get("/dashboard", params={"token": "pub_wrong"}, follow_redirects=False)
    assert response.status_code == 401
    # Only the sign-in forms' CSRF cookie, never a token cookie.
    assert "publicist_token" not in response.headers.get("set-cookie", "")
    assert "unknown or revoked" in response.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_login_form_sets_the_cookie_and_logout_clears_it(api: Api) -> None:
    csrf = _csrf(api.client.get("/dashboard").text)
    bad = api.client.post(
        "/dashboard/login",
        content=f"token=pub_wrong&csrf_token={csrf}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert bad.status_code == 401
    forged = api.client.post(
        "/dashboard/login", data={"token": api.tokens[Role.VIEWER]}, follow_redirects=False
    )
    assert forged.status_code == 403
    good = api.client.post(
        "/dashboard/login",
        data={"token": api.tokens[Role.VIEWER], "csrf_token": csrf},
        follow_redirects=False,
    )
    assert good.status_code == 303
    page = api.client.get("/dashboard")
    assert page.status_code == 200
    out = api.client.post(
        "/dashboard/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert 'publicist_token=""' in out.headers["set-cookie"]
    _no_cookie(api)
    assert api.client.get("/dashboard").status_code == 401


def test_the_cookie_opens_the_page_but_never_the_api(api: Api) -> None:
    api.client.get("/dashboard", params={"token": api.tokens[Role.VIEWER]})
    assert api.client.get("/dashboard").status_code == 200
    assert api.client.get("/api/reports/campaigns").status_code == 401
    assert api.client.post("/api/campaigns", json={"name": "x"}).status_code == 401


def test_the_page_is_safe_to_show(api: Api) -> None:
    _campaign(api, "<script>alert('x')</script> & <b>bold</b>")
    api.client.get("/dashboard", params={"token": api.tokens[Role.VIEWER]})
    page = api.client.get("/dashboard")
    assert page.status_code == 200
    assert "<script" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # no script may run at all
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_an_empty_installation_shows_an_empty_page(api: Api) -> None:
    api.client.get("/dashboard", params={"token": api.tokens[Role.VIEWER]})
    page = api.client.get("/dashboard")
    assert page.status_code == 200
    assert "No campaigns yet." in page.text
    assert "No accounts connected." in page.text


def test_an_unknown_campaign_falls_back_to_the_newest(api: Api) -> None:
    _campaign(api, "First")
    _campaign(api, "Second")
    api.client.get("/dashboard", params={"token": api.tokens[Role.VIEWER]})
    page = api.client.get("/dashboard", params={"campaign": 99999})
    assert page.status_code == 200
    selected = re.search(r'data-k="selected-campaign">([^<]*)<', page.text)
    assert selected is not None
    assert selected.group(1) == "Second"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '"GET /dashboard?token=pub_abc&campaign=2 HTTP/1.1"',
            '"GET /dashboard?token=[redacted]&campaign=2 HTTP/1.1"',
        ),
        ("/dashboard?campaign=2&token=pub_abc", "/dashboard?campaign=2&token=[redacted]"),
        ("/api/reports/campaigns", "/api/reports/campaigns"),
    ],
)
def test_tokens_are_redacted_from_log_lines(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_the_access_log_filter_redacts_its_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/dashboard?token=pub_secret", "1.1", 303),
        None,
    )
    assert RedactTokens().filter(record)
    assert "pub_secret" not in record.getMessage()
