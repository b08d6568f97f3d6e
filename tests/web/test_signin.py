"""Signing in with an e-mail and a password: the session cookie, CSRF, throttling, languages."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient

from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person
from publicist.web import throttle
from tests.web.conftest import Api

PASSWORD = "correct horse battery"


def _person(api: Api, email: str, role: Role = Role.VIEWER, language: str | None = None) -> None:
    with api.sessions() as session, session.begin():
        add_person(
            session,
            name="李娜 Li Na",
            email=email,
            role=role,
            password=PASSWORD,
            language=language,
            now=api.clock.now(),
        )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found.group(1)


def _sign_in(
    client: TestClient, email: str, password: str = PASSWORD, **extra: str
) -> httpx2.Response:
    csrf = _csrf(client.get("/signin").text)
    return client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf, **extra},
        follow_redirects=False,
    )


def test_a_person_signs_in_sees_the_dashboard_and_signs_out(api: Api) -> None:
    _person(api, "li.na@example.org", Role.APPROVER)
    response = _sign_in(api.client, "Li.Na@Example.org")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("publicist_session=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below

    page = api.client.get("/dashboard")
    assert page.status_code == 200
    assert 'data-k="person-name">李娜 Li Na<' in page.text
    assert 'data-k="person-role">approver<' in page.text
    assert "/static/vendor/htmx.org-2.0.8/htmx.min.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # The session's CSRF token is in every form and in the header htmx sends.
    csrf = _csrf(page.text)
    assert f'hx-headers=\'{{"X-CSRF-Token": "{csrf}"}}\'' in page.text

    out = api.client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/signin"
    api.client.cookies.clear()
    assert api.client.get("/dashboard").status_code == 401


def test_a_signed_out_session_cookie_no_longer_works(api: Api) -> None:
    _person(api, "li.na@example.org")
    _sign_in(api.client, "li.na@example.org")
    stolen = dict(api.client.cookies)
    csrf = _csrf(api.client.get("/dashboard").text)
    api.client.post("/signout", data={"csrf_token": csrf})
    api.client.cookies.clear()
    api.client.cookies.update(stolen)
    assert api.client.get("/dashboard").status_code == 401


def test_the_cookie_is_secure_over_https(api: Api) -> None:
    _person(api, "li.na@example.org")
    client = TestClient(api.client.app, base_url="https://publicist.example.org")
    response = _sign_in(client, "li.na@example.org")
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    _person(api, "li.na@example.org")
    for email, password in (("li.na@example.org", "wrong password"), ("x@example.org", PASSWORD)):
        response = _sign_in(api.client, email, password)
        assert response.status_code == 401
        text = response.text
        assert "do not match an active account" in text
        assert password not in text
        assert "publicist_session" not in response.headers.get("set-cookie", "")
    assert PASSWORD not in caplog.text
    assert "wrong password" not in caplog.text


def test_a_disabled_person_is_signed_out_at_once(api: Api) -> None:
    _person(api, "li.na@example.org")
    _sign_in(api.client, "li.na@example.org")
    assert api.client.get("/dashboard").status_code == 200
    with api.sessions() as session, session.begin():
        disable_person(session, email="li.na@example.org", now=api.clock.now())
    assert api.client.get("/dashboard").status_code == 401
    assert _sign_in(api.client, "li.na@example.org").status_code == 401


def test_a_session_ends_after_twelve_idle_hours(api: Api) -> None:
    _person(api, "li.na@example.org")
    _sign_in(api.client, "li.na@example.org")
    api.clock.advance(timedelta(hours=11))
    assert api.client.get("/dashboard").status_code == 200  # used: extended
    api.clock.advance(timedelta(hours=11))
    assert api.client.get("/dashboard").status_code == 200
    api.clock.advance(timedelta(hours=12, seconds=1))
    assert api.client.get("/dashboard").status_code == 401


@pytest.mark.parametrize("target", ["//evil.example.org/x", "https://evil.example.org", "/\\evil"])
def test_sign_in_only_leads_to_pages_of_this_site(api: Api, target: str) -> None:
    _person(api, "li.na@example.org")
    response = _sign_in(api.client, "li.na@example.org", next=target)
    assert response.headers["location"] == "/dashboard"


def test_sign_in_leads_back_to_the_page_asked_for(api: Api) -> None:
    _person(api, "li.na@example.org")
    response = _sign_in(api.client, "li.na@example.org", next="/dashboard?campaign=3")
    assert response.headers["location"] == "/dashboard?campaign=3"


# --- CSRF -------------------------------------------------------------------------------------


def test_every_form_without_the_csrf_token_is_refused(api: Api) -> None:
    _person(api, "li.na@example.org")
    # Sign-in itself: no token, or a token that is not this browser's cookie.
    api.client.get("/signin")
    for data in (
        {"email": "li.na@example.org", "password": PASSWORD},
        {"email": "li.na@example.org", "password": PASSWORD, "csrf_token": "x" * 43},
    ):
        refused = api.client.post("/signin", data=data, follow_redirects=False)
        assert refused.status_code == 403
        assert "This request was refused" in refused.text
        assert "publicist_session" not in refused.headers.get("set-cookie", "")

    _sign_in(api.client, "li.na@example.org")
    for path, data in (("/signout", {}), ("/account/language", {"language": "zh_CN"})):
        forged = api.client.post(path, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 403, path
    assert api.client.get("/dashboard").status_code == 200  # still signed in, still English
    assert 'lang="en"' in api.client.get("/dashboard").text


def test_an_htmx_request_carries_the_token_in_its_header(api: Api) -> None:
    _person(api, "li.na@example.org")
    _sign_in(api.client, "li.na@example.org")
    csrf = _csrf(api.client.get("/dashboard").text)
    changed = api.client.post(
        "/account/language",
        data={"language": "zh_CN"},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert 'lang="zh-CN"' in api.client.get("/dashboard").text


def test_the_anonymous_csrf_token_of_another_browser_does_not_work(api: Api) -> None:
    _person(api, "li.na@example.org")
    other = TestClient(api.client.app)
    their_token = _csrf(other.get("/signin").text)
    api.client.get("/signin")  # this browser has a cookie of its own
    response = api.client.post(
        "/signin",
        data={"email": "li.na@example.org", "password": PASSWORD, "csrf_token": their_token},
        follow_redirects=False,
    )
    assert response.status_code == 403


# --- throttling -------------------------------------------------------------------------------


def test_repeated_failures_for_an_email_make_it_wait(api: Api) -> None:
    _person(api, "li.na@example.org")
    for _ in range(throttle.PER_EMAIL):
        assert _sign_in(api.client, "li.na@example.org", "wrong password").status_code == 401
    waiting = _sign_in(api.client, "li.na@example.org")  # even the right password waits
    assert waiting.status_code == 429
    assert "Too many failed sign-ins. Try again after 01:15 UTC (in 15 minutes)." in waiting.text
    assert waiting.headers["retry-after"] == "900"
    # Another e-mail from the same address is not held up by this one.
    _person(api, "wang@example.org")
    assert _sign_in(api.client, "wang@example.org").status_code == 303

    api.clock.advance(throttle.WINDOW)
    assert _sign_in(api.client, "li.na@example.org").status_code == 303


def test_many_failures_from_one_address_make_it_wait(api: Api) -> None:
    _person(api, "li.na@example.org")
    for index in range(throttle.PER_ADDRESS):
        response = _sign_in(api.client, f"guess{index}@example.org", "wrong password")
        assert response.status_code == 401
    assert _sign_in(api.client, "li.na@example.org").status_code == 429


def test_the_throttle_message_is_translated(api: Api) -> None:
    for _ in range(throttle.PER_EMAIL):
        _sign_in(api.client, "li.na@example.org", "wrong password")
    api.client.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    waiting = _sign_in(api.client, "li.na@example.org")
    assert "登录失败次数过多。请在 01:15 UTC 之后重试（15 分钟后）。" in waiting.text


# --- languages --------------------------------------------------------------------------------


def test_the_language_follows_the_person_then_the_browser_then_english(api: Api) -> None:
    page = api.client.get("/signin")
    assert 'lang="en"' in page.text
    assert "Sign in to Publicist" in page.text
    api.client.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"
    page = api.client.get("/signin")
    assert 'lang="zh-CN"' in page.text
    assert "登录 Publicist" in page.text
    assert page.headers["content-language"] == "zh-CN"

    _person(api, "li.na@example.org", language="en")  # the person's setting wins
    _sign_in(api.client, "li.na@example.org")
    dashboard = api.client.get("/dashboard")
    assert 'lang="en"' in dashboard.text
    assert "No campaigns yet." in dashboard.text

    csrf = _csrf(dashboard.text)
    api.client.post("/account/language", data={"language": "zh_CN", "csrf_token": csrf})
    api.client.headers["Accept-Language"] = "en"
    dashboard = api.client.get("/dashboard")
    assert "还没有宣传活动。" in dashboard.text
    assert 'data-k="person-role">查看者<' in dashboard.text


def test_a_language_can_be_picked_on_the_sign_in_page(api: Api) -> None:
    assert "登录 Publicist" in api.client.get("/signin", params={"lang": "zh_CN"}).text
    assert "Sign in to Publicist" in api.client.get("/signin", params={"lang": "fr"}).text
