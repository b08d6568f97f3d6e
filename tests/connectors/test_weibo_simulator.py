"""The Weibo simulator's wire behaviour, spoken to directly over HTTP as any client would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.weibo import parse_created_at
from simulators.server import SimulatorServer
from simulators.weibo.wire import APP_KEY, APP_SECRET
from tests.connectors.weibo_env import LINK, WeiboEnv, weibo_env

RIP = "203.0.113.7"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


SIMULATED = "weibo"
"""The platform the ``server`` fixture (tests/connectors/conftest.py) simulates."""


@pytest.fixture
def env(server: SimulatorServer) -> Iterator[WeiboEnv]:
    with weibo_env(server) as state:
        yield state


@pytest.fixture
def api(env: WeiboEnv) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, timeout=10) as client:
        yield client


def share(api: httpx.Client, token: str, **fields: Any) -> httpx.Response:
    form = {"access_token": token, "rip": RIP, **fields}
    return api.post("/2/statuses/share.json", data={k: v for k, v in form.items() if v is not None})


def error_of(response: httpx.Response) -> tuple[int, int]:
    body = response.json()
    assert set(body) == {"request", "error_code", "error"}
    assert body["request"].startswith("/2/statuses/")
    return response.status_code, body["error_code"]


def test_a_share_answers_with_weibos_status_object(env: WeiboEnv, api: httpx.Client) -> None:
    env.control.clock(set_to=datetime(2012, 10, 24, 15, 49, 17, tzinfo=UTC))
    token = env.account("cnipa")["access_token"]
    response = share(api, token, status=f"新品发布 {LINK}")
    assert response.status_code == 200
    status = response.json()
    assert status["created_at"] == "Wed Oct 24 23:49:17 +0800 2012"
    assert parse_created_at(status["created_at"]) == datetime(2012, 10, 24, 15, 49, 17, tzinfo=UTC)
    assert isinstance(status["id"], int)
    assert status["idstr"] == status["mid"] == str(status["id"])
    assert len(status["idstr"]) == 16
    assert status["text"].startswith("新品发布 http://t.cn/")
    assert len(status["text"].split()[-1]) == 20  # a t.cn link is 20 characters
    assert status["textLength"] == 8 + 1 + 20  # in half-units, as Weibo reports it
    assert (status["reposts_count"], status["comments_count"], status["attitudes_count"]) == (
        0,
        0,
        0,
    )
    assert status["user"]["screen_name"] == "cnipa"


def test_the_token_may_come_as_a_parameter_or_as_the_sdk_header(
    env: WeiboEnv, api: httpx.Client
) -> None:
    token = env.account()["access_token"]
    by_query = api.get("/2/statuses/user_timeline.json", params={"access_token": token})
    by_header = api.get(
        "/2/statuses/user_timeline.json", headers={"Authorization": f"OAuth2 {token}"}
    )
    missing = api.get("/2/statuses/user_timeline.json")
    unknown = api.get("/2/statuses/user_timeline.json", params={"access_token": "2.00nope"})
    assert by_query.status_code == by_header.status_code == 200
    assert error_of(missing) == (401, 21301)
    assert error_of(unknown) == (401, 21332)
    env.control.expire_tokens()
    expired = api.get("/2/statuses/user_timeline.json", params={"access_token": token})
    assert error_of(expired) == (401, 21327)
    assert expired.json()["error"] == "expired_token"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": None}, (400, 10016)),
        ({"status": "  "}, (400, 20008)),
        ({"rip": ""}, (400, 10016)),
        ({"rip": "localhost"}, (400, 10017)),
        ({"status": "没有链接"}, (400, 10017)),
        ({"status": "外站 https://elsewhere.example.net/"}, (400, 10017)),
        ({"status": f"#知识产权# {LINK}"}, (400, 10017)),
        ({"status": "专" * 131 + LINK}, (400, 20012)),
        ({"pic": "not-a-file"}, (400, 20007)),
    ],
)
def test_share_refuses_what_weibo_refuses(
    env: WeiboEnv, api: httpx.Client, fields: dict[str, Any], expected: tuple[int, int]
) -> None:
    token = env.account()["access_token"]
    form = {"status": f"默认 {LINK}", **fields}
    assert error_of(share(api, token, **form)) == expected
    assert env.control.posts() == []


def test_the_length_limit_is_exactly_140_hanzi(env: WeiboEnv, api: httpx.Client) -> None:
    token = env.account()["access_token"]
    assert share(api, token, status="专" * 130 + LINK).status_code == 200


def test_pictures_are_checked_for_type_and_size(env: WeiboEnv, api: httpx.Client) -> None:
    token = env.account()["access_token"]
    form = {"access_token": token, "rip": RIP}

    def upload(data: bytes, n: int) -> httpx.Response:
        fields = {**form, "status": f"图{n} {LINK}"}
        return api.post("/2/statuses/share.json", data=fields, files={"pic": ("p.png", data)})

    assert error_of(upload(b"plain text", 1)) == (400, 20005)
    assert error_of(upload(PNG + b"\x00" * (5 * 1024 * 1024), 2)) == (400, 20006)
    accepted = upload(PNG, 3)
    assert accepted.status_code == 200
    assert accepted.json()["thumbnail_pic"].startswith("http://wx1.sinaimg.cn/thumbnail/")


def test_count_gives_reposts_comments_attitudes_and_drops_missing_ids(
    env: WeiboEnv, api: httpx.Client
) -> None:
    token = env.account()["access_token"]
    first = share(api, token, status=f"一 {LINK}").json()["idstr"]
    second = share(api, token, status=f"二 {LINK}").json()["idstr"]
    env.control.delete_post(second)
    env.control.clock(advance_seconds=12 * 3600)
    ids = ",".join([first, second, "9100000000000001"])
    rows = api.get("/2/statuses/count.json", params={"access_token": token, "ids": ids}).json()
    assert [set(row) for row in rows] == [{"id", "comments", "reposts", "attitudes"}]
    assert str(rows[0]["id"]) == first
    assert rows[0]["attitudes"] > 0
    too_many = ",".join(str(9100000000000000 + n) for n in range(101))
    response = api.get("/2/statuses/count.json", params={"access_token": token, "ids": too_many})
    assert error_of(response) == (400, 20009)


def test_show_and_destroy(env: WeiboEnv, api: httpx.Client) -> None:
    token = env.account()["access_token"]
    idstr = share(api, token, status=f"将删除 {LINK}").json()["idstr"]
    shown = api.get("/2/statuses/show.json", params={"access_token": token, "id": idstr})
    assert shown.json()["idstr"] == idstr
    assert "attitudes_count" in shown.json()
    destroyed = api.post("/2/statuses/destroy.json", data={"access_token": token, "id": idstr})
    assert destroyed.json()["idstr"] == idstr
    gone = api.get("/2/statuses/show.json", params={"access_token": token, "id": idstr})
    assert error_of(gone) == (400, 20101)


def test_timelines_page_newest_first_and_base_app_hides_other_apps(
    env: WeiboEnv, api: httpx.Client
) -> None:
    account = env.account()
    token = account["access_token"]
    ids = [share(api, token, status=f"第{n}条 {LINK}").json()["idstr"] for n in range(5)]
    by_hand = api.post(
        "/__sim/weibo/posts", json={"account_id": account["user_id"], "text": "网页版发布"}
    ).json()["idstr"]

    def page(**params: Any) -> dict[str, Any]:
        response = api.get(
            "/2/statuses/user_timeline.json", params={"access_token": token, **params}
        )
        result: dict[str, Any] = response.json()
        return result

    everything = page(count=100)
    assert [s["idstr"] for s in everything["statuses"]] == [by_hand, *reversed(ids)]
    assert everything["total_number"] == 6
    assert [s["idstr"] for s in page(count=100, base_app=1)["statuses"]] == ids[::-1]
    assert [s["idstr"] for s in page(count=2, page=2, base_app=1)["statuses"]] == [ids[2], ids[1]]
    assert [s["idstr"] for s in page(since_id=ids[3], base_app=1)["statuses"]] == [ids[4]]
    trimmed = page(count=1, trim_user=1)["statuses"][0]["user"]
    assert set(trimmed) == {"id", "idstr"}


def test_rate_limits_answer_with_error_codes_and_no_headers(
    env: WeiboEnv, api: httpx.Client
) -> None:
    token = env.account(requests_per_hour=2)["access_token"]
    params = {"access_token": token}
    for _ in range(2):
        assert api.get("/2/statuses/user_timeline.json", params=params).status_code == 200
    limited = api.get("/2/statuses/user_timeline.json", params=params)
    assert error_of(limited) == (403, 10023)
    assert not any(name.lower().startswith("x-rate") for name in limited.headers)
    env.control.clock(advance_seconds=3600)
    assert api.get("/2/statuses/user_timeline.json", params=params).status_code == 200


def test_posting_faster_than_the_burst_gap_is_out_of_limit(
    env: WeiboEnv, api: httpx.Client
) -> None:
    token = env.account(min_post_interval_seconds=60)["access_token"]
    assert share(api, token, status=f"一 {LINK}").status_code == 200
    assert error_of(share(api, token, status=f"二 {LINK}")) == (403, 20016)
    env.control.clock(advance_seconds=61)
    assert share(api, token, status=f"二 {LINK}").status_code == 200


def test_the_http_status_of_an_error_code_is_configurable(env: WeiboEnv, api: httpx.Client) -> None:
    token = env.account()["access_token"]
    env.knobs(http_status={"20019": 403})
    assert share(api, token, status=f"重复 {LINK}").status_code == 200
    assert error_of(share(api, token, status=f"重复 {LINK}")) == (403, 20019)
    assert share(api, token, status=f"重复 {LINK}").json()["error"] == "Repeat conetnt!"


def test_unknown_knobs_are_refused(env: WeiboEnv, api: httpx.Client) -> None:
    assert api.post("/__sim/weibo", json={"nonsense": 1}).status_code == 400
    assert api.post("/__sim/weibo", json={"text_rules": {"bogus": 1}}).status_code == 400


def test_held_shares_wait_for_release(env: WeiboEnv, api: httpx.Client) -> None:
    token = env.account()["access_token"]
    env.control.faults(hold_creates=True)
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(share(api, token, status=f"等待 {LINK}").status_code)
    )
    worker.start()
    deadline = time.monotonic() + 5
    while env.control.held() == 0:
        assert time.monotonic() < deadline, "the share was never held"
        time.sleep(0.02)
    assert env.control.posts() == []
    assert env.control.release() == 1
    worker.join(timeout=5)
    env.control.clear_faults()
    assert answers == [200]


def test_oauth_authorization_code_flow_and_token_info(env: WeiboEnv, api: httpx.Client) -> None:
    account = env.account("cnipa", token_lifetime=3600)
    redirect = "https://publicist.example/callback"
    params = {"client_id": APP_KEY, "redirect_uri": redirect, "response_type": "code"}
    shown = api.get("/oauth2/authorize", params=params)
    assert shown.status_code == 200
    assert "Allow" in shown.text
    authorize = api.post("/oauth2/authorize", data={**params, "decision": "allow"})
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["location"])
    code = parse_qs(location.query)["code"][0]
    token_form = {
        "client_id": APP_KEY,
        "client_secret": APP_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
    }
    granted = api.post("/oauth2/access_token", data=token_form).json()
    assert granted["uid"] == account["user_id"]
    assert granted["expires_in"] == 3600
    assert granted["remind_in"] == "3600"
    assert "refresh_token" not in granted  # web apps get none
    reused = api.post("/oauth2/access_token", data=token_form)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    info = api.post("/oauth2/get_token_info", data={"access_token": granted["access_token"]})
    assert info.json()["uid"] == int(account["user_id"])
    assert info.json()["appkey"] == APP_KEY
    assert 0 < info.json()["expire_in"] <= 3600
    assert share(api, granted["access_token"], status=f"授权后 {LINK}").status_code == 200


def test_the_provisioner_hands_out_everything_the_connector_needs(env: WeiboEnv) -> None:
    account = env.account(safe_domains="cnipa.gov.cn")
    assert account["client_id"] == APP_KEY
    assert account["refresh_token"] is None
    assert account["extra"] == {"safe_domain": "cnipa.gov.cn", "rip": RIP}
    assert datetime.fromisoformat(account["expires_at"]) > env.sim.clock.now()
